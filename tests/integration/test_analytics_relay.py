"""channel.connected on a real Kafka-protocol broker: contract, broker outage, relay crash,
and secrecy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import psycopg
import pytest

from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from sms_channels.cli.kafka_broker import EmbeddedBroker
from tests.support.common import unique_account, unique_us_number, wait_for
from tests.support.kafka_reader import Reader
from workers.feeds.contracts import ChannelConnectedV1
from workers.feeds.relay import AnalyticsRelay

OUTAGE_SECONDS = 30
RELAY = [sys.executable, "-m", "sms_channels.cli", "worker", "relay"]


@pytest.fixture
def topic() -> str:
    return f"channel.connected.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def relay(
    isolated_app: SmsChannels, isolated_database_url: str, kafka_broker: EmbeddedBroker, topic: str
) -> Iterator[AnalyticsRelay]:
    relay = AnalyticsRelay(
        isolated_app, isolated_database_url, kafka_broker.bootstrap_servers, topic
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    yield relay
    stop.set()
    thread.join()
    relay.close()


def connect(app: SmsChannels, account: str, **compliance: Any) -> Any:
    command = ConnectNumber(
        account,
        "ws_1",
        "agent_1",
        "new",
        "US",
        None,
        unique_us_number(),
        "u",
        compliance=compliance or None,
    )  # type: ignore[arg-type]
    return app.connect(command).connection


def test_a_connection_is_published_with_the_documented_key_headers_and_fields(
    isolated_app: SmsChannels, kafka_broker: EmbeddedBroker, topic: str, relay: AnalyticsRelay
) -> None:
    account = unique_account()
    connection = connect(isolated_app, account)
    reader = Reader(kafka_broker, topic)
    (message,) = reader.read_until(1, timeout=10)
    reader.close()
    assert message.key == str(connection.id).encode()
    assert dict(message.headers) == {
        "eventType": b"channel.connected",
        "schemaVersion": b"1",
        "contentType": b"application/json",
    }
    assert orjson.loads(message.value) == {
        "eventId": str(ChannelConnectedV1.event_id_for(connection.id, 2)),
        "eventType": "channel.connected",
        "schemaVersion": 1,
        "occurredAt": connection.modified_on.isoformat().replace("+00:00", "Z"),
        "accountId": account,
        "workspaceId": "ws_1",
        "channelId": str(connection.id),
        "channelType": "sms",
        "mode": "new",
        "country": "US",
        "agentId": "agent_1",
    }


def test_no_compliance_value_or_phone_number_reaches_the_topic(
    isolated_app: SmsChannels, kafka_broker: EmbeddedBroker, topic: str, relay: AnalyticsRelay
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    connection = connect(
        isolated_app,
        unique_account(),
        brand={"displayName": canary, "contactPhone": "+14155550100"},
        campaign={"messageSamples": [canary]},
    )
    reader = Reader(kafka_broker, topic)
    (message,) = reader.read_until(1, timeout=10)
    reader.close()
    raw = message.value + message.key + b"".join(v for _, v in message.headers)
    assert canary.encode() not in raw
    assert connection.phone_number.encode() not in raw
    assert connection.phone_number.removeprefix("+").encode() not in raw


def test_connections_made_while_the_broker_is_down_are_all_delivered_after_it_returns(
    isolated_app: SmsChannels,
    isolated_database_url: str,
    kafka_broker: EmbeddedBroker,
    topic: str,
    relay: AnalyticsRelay,
) -> None:
    account = unique_account()
    kafka_broker.stop()
    stopped_at = time.monotonic()
    # The API keeps accepting commands: they are recorded in the event log meanwhile.
    made = {connect(isolated_app, account).id for _ in range(50)}
    # The outage lasts 30 s, and the relay has noticed it (shown in /metrics).
    wait_for(
        lambda: (
            time.monotonic() - stopped_at >= OUTAGE_SECONDS
            and relay_error(isolated_database_url) == "broker_unavailable"
        ),
        timeout=60,
    )
    kafka_broker.start()
    reader = Reader(kafka_broker, topic)
    messages = reader.read_until(50, timeout=60)
    reader.close()
    delivered = [orjson.loads(m.value) for m in messages]
    assert {uuid.UUID(d["channelId"]) for d in delivered} == made
    by_channel: dict[str, set[str]] = {}
    for d in delivered:
        by_channel.setdefault(d["channelId"], set()).add(d["eventId"])
    assert all(len(ids) == 1 for ids in by_channel.values()), "a duplicate had another eventId"


def relay_error(database_url: str) -> str | None:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT error FROM sms_projection_tracking WHERE name = 'analytics_relay'"
        ).fetchone()
    return row[0] if row else None


def test_a_relay_killed_mid_stream_and_restarted_leaves_no_gap(
    isolated_app: SmsChannels, isolated_database_url: str, kafka_broker: EmbeddedBroker, topic: str
) -> None:
    account = unique_account()
    made = {connect(isolated_app, account).id for _ in range(300)}
    env = {
        **os.environ,
        "DATABASE_URL": isolated_database_url,
        "ANALYTICS_TOPIC": topic,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
        "RELAY_BATCH_SIZE": "20",
    }
    reader = Reader(kafka_broker, topic)
    first = subprocess.Popen(RELAY, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reader.read_until(40, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = subprocess.Popen(RELAY, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(
            lambda: (
                {uuid.UUID(orjson.loads(m.value)["channelId"]) for m in reader.read_until(0)}
                >= made
            ),
            timeout=60,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
        reader.close()
