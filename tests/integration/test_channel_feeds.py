"""The routing feed and the lifecycle events on a real Kafka-protocol broker: values and
tombstones through connection and directory facts, disconnections, secrecy, schemas, a
broker outage, a relay crash, and replay."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import jsonschema_rs
import orjson
import psycopg
import pytest
from kafka.admin import KafkaAdminClient

from domain.agent_directory import AgentInfo, DirectoryAgent, directory_agent_id
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from domain.service.directory import upsert_agent
from sms_channels.cli.kafka_broker import EmbeddedBroker
from tests.support.common import unique_account, unique_us_number, wait_for
from tests.support.kafka_reader import Reader
from workers.feeds.published_schemas import by_name
from workers.feeds.relay import FEEDS_RELAY_NAME, ChannelFeedsRelay
from workers.feeds.replay import rebuild_routing, replay_events
from workers.feeds.topics import TopicNames, ensure_topics

OUTAGE_SECONDS = 30
RELAY = [sys.executable, "-m", "sms_channels.cli", "worker", "relay"]
WITH_KB = AgentInfo("ws_1", "Support", "Agent one", "kb_1", "Handbook")
WITHOUT_KB = AgentInfo("ws_1", "Support", "Agent one", None, None)


@pytest.fixture
def topics(kafka_broker: EmbeddedBroker) -> TopicNames:
    """This test's topics, created as ``migrate`` creates them (so a reader subscribed
    before the first message finds their partitions)."""
    suffix = uuid.uuid4().hex[:8]
    names = TopicNames(f"connected.{suffix}", f"events.{suffix}", f"routing.{suffix}")
    assert ensure_topics(kafka_broker.bootstrap_servers, names) == [
        names.analytics,
        names.channel_events,
        names.routing,
    ]
    return names


@pytest.fixture
def relay(
    isolated_app: SmsChannels,
    isolated_database_url: str,
    kafka_broker: EmbeddedBroker,
    topics: TopicNames,
) -> Iterator[ChannelFeedsRelay]:
    relay = ChannelFeedsRelay(
        isolated_app,
        isolated_database_url,
        kafka_broker.bootstrap_servers,
        events_topic=topics.channel_events,
        routing_topic=topics.routing,
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    yield relay
    stop.set()
    thread.join()
    relay.close()


@pytest.fixture
def events(kafka_broker: EmbeddedBroker, topics: TopicNames) -> Iterator[Reader]:
    reader = Reader(kafka_broker, topics.channel_events)
    yield reader
    reader.close()


@pytest.fixture
def routing(kafka_broker: EmbeddedBroker, topics: TopicNames) -> Iterator[Reader]:
    reader = Reader(kafka_broker, topics.routing)
    yield reader
    reader.close()


def connect(app: SmsChannels, account: str, **compliance: Any) -> Any:
    command = ConnectNumber(account, "ws_1", "agent_1", "new", "US", None, unique_us_number(),
                            "u", compliance=compliance or None)  # type: ignore[arg-type]  # fmt: skip
    return app.connect(command).connection


def live_channel(app: SmsChannels, account: str) -> Any:
    """A connected, active number whose agent has a knowledge base."""
    upsert_agent(app, account, "agent_1", WITH_KB)
    connection = connect(app, account)
    app.update_settings(account, connection.id, by="u", active=True)
    return connection


def values_of(messages: list[Any], key: str) -> list[dict[str, Any] | None]:
    """The routing values (None: tombstone) of ``key``, in order."""
    return [
        None if m.value is None else orjson.loads(m.value)
        for m in messages
        if m.key == key.encode()
    ]


def event_types(messages: list[Any], channel_id: uuid.UUID) -> list[str]:
    return [
        orjson.loads(m.value)["eventType"] for m in messages if m.key == str(channel_id).encode()
    ]


def last_is(key: str, expected: Any) -> Any:
    def holds(messages: list[Any]) -> bool:
        values = values_of(messages, key)
        return bool(values) and (expected(values[-1]))

    return holds


def served(routing: Reader, connection: Any) -> None:
    """Wait until the number's live value is on the feed. (A relay that catches up only
    after the number stopped being served publishes nothing for it: no value, so no
    tombstone either.)"""
    routing.wait_for(last_is(connection.phone_number, lambda v: v and v["ingestionEnabled"]))


def check_schemas(messages: list[Any]) -> None:
    for message in messages:
        if message.value is None:
            continue
        headers = dict(message.headers)
        event_type, version = headers["eventType"].decode(), int(headers["schemaVersion"])
        validator = jsonschema_rs.validator_for(by_name(event_type, version).committed())
        validator.validate(orjson.loads(message.value))


def test_a_live_channel_gets_a_routing_value_with_ingestion_enabled(
    isolated_app: SmsChannels, relay: ChannelFeedsRelay, routing: Reader
) -> None:
    account = unique_account()
    connection = live_channel(isolated_app, account)
    phone = connection.phone_number
    messages = routing.wait_for(last_is(phone, lambda v: v and v["ingestionEnabled"]))
    value = values_of(messages, phone)[-1]
    assert value is not None
    assert value | {"version": 0, "updatedAt": ""} == {
        "phoneNumber": phone,
        "accountId": account,
        "workspaceId": "ws_1",
        "channelId": str(connection.id),
        "agentId": "agent_1",
        "knowledgeBaseId": "kb_1",
        "active": True,
        "ingestionEnabled": True,
        "outboundPermitted": False,
        "registrationStatus": "not_submitted",
        "version": 0,
        "updatedAt": "",
        "throughput": dict.fromkeys(
            ("brandScore", "tmobileTier", "tmobileDailyCap", "attMessageClass", "attTpm")
        ),
        "outboundNotPermittedOn": [],
    }
    versions = [v["version"] for v in values_of(messages, phone) if v]
    assert versions == sorted(versions)
    check_schemas(messages)


def test_the_directory_removing_the_knowledge_base_turns_ingestion_off(
    isolated_app: SmsChannels, relay: ChannelFeedsRelay, routing: Reader, events: Reader
) -> None:
    account = unique_account()
    connection = live_channel(isolated_app, account)
    phone = connection.phone_number
    routing.wait_for(last_is(phone, lambda v: v and v["ingestionEnabled"]))
    upsert_agent(isolated_app, account, "agent_1", WITHOUT_KB)
    messages = routing.wait_for(last_is(phone, lambda v: v and not v["ingestionEnabled"]))
    assert values_of(messages, phone)[-1]["knowledgeBaseId"] is None  # type: ignore[index]
    updates = events.wait_for(
        lambda ms: any(
            orjson.loads(m.value)["eventType"] == "channel.updated"
            and orjson.loads(m.value)["changes"] == ["capabilities"]
            for m in ms
        )
    )
    last = orjson.loads(updates[-1].value)
    assert (last["ingestionEnabled"], last["outboundPermitted"]) == (False, False)
    # When the directory changed, not when the connection last did.
    assert datetime.fromisoformat(last["occurredAt"]) == directory_time(isolated_app, account)
    check_schemas(messages + updates)


def directory_time(app: SmsChannels, account: str) -> datetime:
    """When agent_1's directory entry last changed."""
    agent: DirectoryAgent = app.repository.get(directory_agent_id(account, "agent_1"))
    return agent.modified_on


def test_deleting_a_channel_tombstones_its_number(
    isolated_app: SmsChannels, relay: ChannelFeedsRelay, routing: Reader, events: Reader
) -> None:
    account = unique_account()
    connection = live_channel(isolated_app, account)
    served(routing, connection)
    isolated_app.delete(account, connection.id, by="u")
    routing.wait_for(last_is(connection.phone_number, lambda v: v is None))
    messages = events.wait_for(lambda ms: "channel.disconnected" in event_types(ms, connection.id))
    assert event_types(messages, connection.id) == [
        "channel.connected",
        "channel.updated",
        "channel.disconnected",
    ]
    assert orjson.loads(messages[-1].value)["reason"] == "deleted"
    check_schemas(messages)


def test_a_reclaimed_number_is_tombstoned_and_its_channel_disconnected_as_reclaimed(
    isolated_app: SmsChannels, relay: ChannelFeedsRelay, routing: Reader, events: Reader
) -> None:
    account = unique_account()
    connection = live_channel(isolated_app, account)
    served(routing, connection)
    isolated_app.record_reclaimed(connection.id, "reclaimed")
    routing.wait_for(last_is(connection.phone_number, lambda v: v is None))
    messages = events.wait_for(lambda ms: "channel.disconnected" in event_types(ms, connection.id))
    disconnected = [
        orjson.loads(m.value)
        for m in messages
        if orjson.loads(m.value)["eventType"] == "channel.disconnected"
    ]
    assert [d["reason"] for d in disconnected] == ["reclaimed"]
    check_schemas(messages)


def test_no_compliance_value_reaches_kafka_and_no_phone_number_the_lifecycle_events(
    isolated_app: SmsChannels, relay: ChannelFeedsRelay, routing: Reader, events: Reader
) -> None:
    account = unique_account()
    canary = f"CANARY-{uuid.uuid4().hex}"
    upsert_agent(isolated_app, account, "agent_1", WITH_KB)
    connection = connect(isolated_app, account, brand={"displayName": canary},
                         campaign={"messageSamples": [canary]})  # fmt: skip
    isolated_app.update_settings(account, connection.id, by="u", active=True)
    isolated_app.update_compliance(
        account, connection.id, {"brand": {"displayName": canary + "2"}}, by="u"
    )
    served(routing, connection)
    isolated_app.delete(account, connection.id, by="u")
    lifecycle = events.wait_for(lambda ms: "channel.disconnected" in event_types(ms, connection.id))
    values = routing.wait_for(last_is(connection.phone_number, lambda v: v is None))
    for message in lifecycle + values:
        raw = (message.value or b"") + message.key + b"".join(v for _, v in message.headers)
        assert canary.encode() not in raw
    for message in lifecycle:
        raw = message.value + message.key
        assert connection.phone_number.encode() not in raw
        assert connection.phone_number.removeprefix("+").encode() not in raw


def relay_error(database_url: str) -> str | None:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT error FROM sms_projection_tracking WHERE name = %s", (FEEDS_RELAY_NAME,)
        ).fetchone()
    return row[0] if row else None


def test_facts_recorded_during_a_broker_outage_are_all_delivered_after_it_in_order_per_key(
    isolated_app: SmsChannels,
    isolated_database_url: str,
    kafka_broker: EmbeddedBroker,
    relay: ChannelFeedsRelay,
    routing: Reader,
    events: Reader,
) -> None:
    account = unique_account()
    upsert_agent(isolated_app, account, "agent_1", WITH_KB)
    kafka_broker.stop()
    stopped_at = time.monotonic()
    channels = [live_channel(isolated_app, account) for _ in range(20)]
    deleted = channels[::2]
    for connection in deleted:
        isolated_app.delete(account, connection.id, by="u")
    wait_for(
        lambda: (
            time.monotonic() - stopped_at >= OUTAGE_SECONDS
            and relay_error(isolated_database_url) == "broker_unavailable"
        ),
        timeout=60,
    )
    kafka_broker.start()
    kept = [c for c in channels if c not in deleted]
    routing.wait_for(lambda ms: all(values_of(ms, c.phone_number) for c in kept), 60)
    lifecycle = events.wait_for(
        lambda ms: all("channel.disconnected" in event_types(ms, c.id) for c in deleted), 60
    )
    for connection in channels:
        values = values_of(routing.messages, connection.phone_number)
        versions = [v["version"] for v in values if v]
        assert versions == sorted(versions)
        if connection in deleted:
            # Caught up after the deletion: its number was never published live, or was
            # tombstoned after its last value.
            assert not values or values[-1] is None
        else:
            assert values[-1] is not None
            assert values[-1]["ingestionEnabled"]
        expected = ["channel.connected", "channel.updated"]
        expected += ["channel.disconnected"] if connection in deleted else []
        assert _deduped(lifecycle, connection.id) == expected


def _deduped(messages: list[Any], channel_id: uuid.UUID) -> list[str]:
    """The event types of ``channel_id`` in order, each ``eventId`` once (at least once)."""
    seen: dict[str, str] = {}
    for message in messages:
        if message.key == str(channel_id).encode():
            value = orjson.loads(message.value)
            seen.setdefault(value["eventId"], value["eventType"])
    return list(seen.values())


def test_a_relay_killed_mid_stream_and_restarted_leaves_no_gap_in_either_feed(
    isolated_app: SmsChannels,
    isolated_database_url: str,
    kafka_broker: EmbeddedBroker,
    topics: TopicNames,
    routing: Reader,
    events: Reader,
) -> None:
    account = unique_account()
    made = [connect(isolated_app, account) for _ in range(150)]
    env = {
        **os.environ,
        "DATABASE_URL": isolated_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
        "ANALYTICS_TOPIC": topics.analytics,
        "CHANNEL_EVENTS_TOPIC": topics.channel_events,
        "ROUTING_TOPIC": topics.routing,
        "RELAY_BATCH_SIZE": "20",
    }
    first = subprocess.Popen(RELAY, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    events.read_until(20, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = subprocess.Popen(RELAY, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        events.wait_for(lambda ms: {m.key for m in ms} >= {str(c.id).encode() for c in made}, 60)
        routing.wait_for(
            lambda ms: {m.key for m in ms} >= {c.phone_number.encode() for c in made}, 60
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)


def test_replay_republishes_the_same_event_ids_and_the_rebuild_every_served_number(
    isolated_app: SmsChannels,
    isolated_database_url: str,
    kafka_broker: EmbeddedBroker,
    topics: TopicNames,
    routing: Reader,
    events: Reader,
) -> None:
    account = unique_account()
    kept, gone = live_channel(isolated_app, account), live_channel(isolated_app, account)
    isolated_app.delete(account, gone.id, by="u")
    servers = kafka_broker.bootstrap_servers
    first = replay_events(isolated_app, isolated_database_url, servers, topics,
                          only=topics.channel_events)  # fmt: skip
    again = replay_events(isolated_app, isolated_database_url, servers, topics,
                          only=topics.channel_events)  # fmt: skip
    assert first == again == 5  # 2 x (connected, updated) + 1 disconnected
    messages = events.read_until(10)
    ids = Counter(orjson.loads(m.value)["eventId"] for m in messages)
    assert len(ids) == 5
    assert set(ids.values()) == {2}
    assert rebuild_routing(isolated_app, isolated_database_url, servers, topics.routing) == 1
    (value,) = routing.read_until(1)
    assert value.key == kept.phone_number.encode()
    assert orjson.loads(value.value)["ingestionEnabled"] is True
    check_schemas([*messages, value])


def test_migrate_creates_the_published_topics_and_leaves_existing_ones_alone(
    isolated_database_url: str, kafka_broker: EmbeddedBroker
) -> None:
    suffix = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "DATABASE_URL": isolated_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
        "ANALYTICS_TOPIC": f"connected.{suffix}",
        "CHANNEL_EVENTS_TOPIC": f"events.{suffix}",
        "ROUTING_TOPIC": f"routing.{suffix}",
    }
    migrate = [sys.executable, "-m", "sms_channels.cli", "migrate"]
    for _ in range(2):  # the second run finds them all
        subprocess.run(migrate, env=env, check=True, capture_output=True)
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap_servers)
    try:
        listed = set(admin.list_topics())
    finally:
        admin.close()
    assert {f"connected.{suffix}", f"events.{suffix}", f"routing.{suffix}"} <= listed


def _lifecycle(messages: list[Any], channel_id: uuid.UUID) -> list[dict[str, Any]]:
    return [orjson.loads(m.value) for m in messages if m.key == str(channel_id).encode()]


def test_replay_republishes_what_the_directory_switched_off_for_a_connection_gone_since(
    isolated_app: SmsChannels,
    isolated_database_url: str,
    kafka_broker: EmbeddedBroker,
    topics: TopicNames,
    events: Reader,
) -> None:
    """No relay ran (no routing state), and the connection is deleted before the replay:
    the replay still reaches the connection the directory fact reached then, as it stood
    then, at the directory fact's time; from a later position as well."""
    account = unique_account()
    connection = live_channel(isolated_app, account)
    before_directory = isolated_app.current_position()
    upsert_agent(isolated_app, account, "agent_1", WITHOUT_KB)  # ingestion off
    isolated_app.delete(account, connection.id, by="u")
    servers = kafka_broker.bootstrap_servers
    replay = functools.partial(
        replay_events, isolated_app, isolated_database_url, servers, topics,
        only=topics.channel_events,
    )  # fmt: skip
    assert replay() == 4
    assert replay(from_position=before_directory) == 2
    replayed = _lifecycle(events.read_until(6), connection.id)
    kinds = [(e["eventType"], e.get("changes")) for e in replayed]
    assert kinds == [
        ("channel.connected", None),
        ("channel.updated", ["active"]),
        ("channel.updated", ["capabilities"]),
        ("channel.disconnected", None),
        ("channel.updated", ["capabilities"]),
        ("channel.disconnected", None),
    ]
    switched_off = [e for e in replayed if e.get("changes") == ["capabilities"]]
    assert switched_off[0] == switched_off[1]  # the same event, the same id, from either start
    assert (switched_off[0]["ingestionEnabled"], switched_off[0]["active"]) == (False, True)
    assert datetime.fromisoformat(switched_off[0]["occurredAt"]) == directory_time(
        isolated_app, account
    )
