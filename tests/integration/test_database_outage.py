"""Every worker of ``sms-channels run`` outlives a database outage by itself: a PostgreSQL
cluster of this test's own is stopped (immediate mode) for 10 s under a small write load
and started again; each worker retries (``/readyz`` names it meanwhile), resumes without a
restart and catches up: the read models, the Kafka topics (analytics, channel events,
routing feed) and the agent directory (a message sent during the outage). Real
PostgreSQL, real Kafka-protocol broker, real HTTP."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import orjson
import psycopg
import pytest
from kafka import KafkaProducer

from api.main import create_app
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from domain.service.directory import find_agent
from projections.registry import PROJECTIONS
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.cli.embedded_stack import background_workers
from sms_channels.cli.kafka_broker import EmbeddedBroker
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, live_server, unique_us_number, wait_for
from tests.support.kafka_reader import Reader
from workers.feeds.relay import FEEDS_RELAY_NAME, RELAY_NAME
from workers.outage import RUNNING
from workers.projector import create_schema

PG_BIN = Path("/usr/lib/postgresql/15/bin")
OUTAGE_SECONDS = 10

pytestmark = pytest.mark.skipif(not (PG_BIN / "pg_ctl").exists(), reason="no PostgreSQL 15")


@dataclass
class Cluster:
    """A PostgreSQL cluster of this test alone (initdb, pg_ctl), on a free port."""

    data: Path
    port: int
    user: str | None  # initdb refuses root: the cluster then runs as ``postgres``

    def pg_ctl(self, *args: str) -> None:
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60, user=self.user)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", options, "-l", str(self.data / "log"), "start")

    def stop_immediately(self) -> None:
        self.pg_ctl("-m", "immediate", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"


@contextlib.contextmanager
def own_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="sms-outage-"))
    user = "postgres" if os.geteuid() == 0 else None
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(root, account.pw_uid, account.pw_gid)
    data = root / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
        user=user,
    )
    cluster = Cluster(data, port, user)
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


class WriteLoad:
    """One connect (a number bought from the sandbox, whose account is in the same
    database) every 50 ms, from a thread of its own; connects refused while the database
    is away are counted, not kept."""

    def __init__(self, settings: Settings) -> None:
        self.application = build_application(settings)
        self.numbers: list[str] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            number = unique_us_number()
            command = ConnectNumber("acc_out", "ws", "agent_1", "new", "US", None, number, "u")
            try:
                self.application.connect(command)
            except Exception:
                self.refused += 1
                continue
            self.numbers.append(number)

    def __enter__(self) -> WriteLoad:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.application.close()


def positions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return dict(connection.execute("SELECT name, position FROM sms_projection_tracking"))


def head_of(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT coalesce(max(notification_id), 0) FROM smschannels_events"
        ).fetchone()
    return int(row[0]) if row else 0


def rows_for(url: str, numbers: list[str]) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM sms_channels_rows WHERE phone_number = ANY(%s)", (numbers,)
        ).fetchone()
    return int(row[0]) if row else 0


def agent_message(account: str, agent: str) -> bytes:
    return orjson.dumps({
        "type": "agent.upserted", "eventId": uuid4().hex, "occurredAt": "2026-01-01T00:00:00Z",
        "accountId": account, "agentId": agent, "workspaceId": "ws_1",
        "workspaceName": "Support", "name": "Ava",
    })  # fmt: skip


def agent_known(application: SmsChannels, agent: str) -> bool:
    """Whether the directory holds ``agent`` (False while the test's own pool reconnects)."""
    try:
        return find_agent(application, "acc_out", agent) is not None
    except Exception:
        return False


def worker_states(health_url: str) -> dict[str, Any]:
    body = httpx.get(health_url, timeout=5).json()
    return {worker["name"]: worker for worker in body.get("workers", [])}


@pytest.fixture
def kafka_broker() -> Iterator[EmbeddedBroker]:
    """A broker of this test alone: its stack's agents consumer joins the directory's consumer
    group, and a member left behind on the session's broker made the next group's join wait
    out a rebalance (tests/integration/test_directory_consumer.py timed out after it)."""
    broker = EmbeddedBroker().start()
    yield broker
    broker.stop()


def test_every_worker_resumes_and_catches_up_after_a_ten_second_database_outage(
    kafka_broker: EmbeddedBroker,
) -> None:
    suffix = uuid4().hex[:8]
    with own_cluster() as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE sms_outage")
        url = cluster.url("sms_outage")
        settings = Settings(
            database_url=url,
            jwt_secret=JWT_SECRET,
            data_dir=Path("/nonexistent"),
            kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
            analytics_topic=f"connected-{suffix}",
            channel_events_topic=f"events-{suffix}",
            routing_topic=f"routing-{suffix}",
            agents_topic=f"agents-{suffix}",
            reconcile_interval_seconds=1.0,
            registration_interval_seconds=1.0,
        )
        build_application(settings.model_copy(update={"create_tables": True})).close()
        create_schema(url)
        agents = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers, acks="all")
        agents.send(settings.agents_topic, agent_message("acc_out", "before")).get(30)
        routing = Reader(kafka_broker, settings.routing_topic)
        analytics = Reader(kafka_broker, settings.analytics_topic)
        followers = {*PROJECTIONS, RELAY_NAME, FEEDS_RELAY_NAME}
        directory = build_application(settings, SandboxProvider())
        try:
            with (
                background_workers(settings) as running,
                live_server(create_app(settings, worker_health=running.health)) as base,
                WriteLoad(settings) as load,
            ):
                readyz = f"{base}/readyz"
                names = {
                    *(f"projection:{name}" for name in PROJECTIONS),
                    f"relay:{RELAY_NAME}", f"relay:{FEEDS_RELAY_NAME}",
                    "directory", "reconcile", "registration",
                }  # fmt: skip
                wait_for(lambda: httpx.get(readyz, timeout=5).status_code == 200, timeout=60)
                assert set(worker_states(readyz)) == names
                wait_for(lambda: agent_known(directory, "before"), timeout=60)
                wait_for(lambda: len(load.numbers) >= 5, timeout=30)

                cluster.stop_immediately()
                stopped_at = time.monotonic()
                # During the outage /readyz answers at once, naming the retrying workers.
                seen_retrying: set[str] = set()
                readyz_seconds: list[float] = []

                def retrying() -> bool:
                    answer = httpx.get(readyz, timeout=5)
                    assert answer.status_code == 503
                    readyz_seconds.append(answer.elapsed.total_seconds())
                    states = {w["name"]: w for w in answer.json()["workers"]}
                    seen_retrying.update(n for n, w in states.items() if w["state"] == "retrying")
                    return {
                        f"relay:{FEEDS_RELAY_NAME}",
                        "projection:channels_table",
                    } <= seen_retrying

                wait_for(retrying, timeout=OUTAGE_SECONDS - 2, interval=0.2)
                sample = worker_states(readyz)[f"relay:{FEEDS_RELAY_NAME}"]
                assert sample["lastError"] in {"OperationalError", "InterfaceError"}
                assert sample["since"].endswith("Z")
                # An agent changes while the database is away: the consumer keeps it.
                agents.send(settings.agents_topic, agent_message("acc_out", "during")).get(30)
                time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
                cluster.start()
                restarted_at = time.monotonic()
                wait_for(
                    lambda: all(w["state"] == RUNNING for w in worker_states(readyz).values()),
                    timeout=60,
                    interval=0.1,
                )
                resumed_in = time.monotonic() - restarted_at
                written = len(load.numbers)
                wait_for(lambda: len(load.numbers) > written + 3, timeout=30)

                def caught_up() -> bool:
                    head = head_of(url)
                    found = positions(url)
                    return all(found.get(name, 0) >= head for name in followers)

                wait_for(caught_up, timeout=60, interval=0.1)
                caught_up_in = time.monotonic() - restarted_at
                wait_for(lambda: agent_known(directory, "during"), timeout=60)
                wait_for(lambda: httpx.get(readyz, timeout=5).status_code == 200, timeout=30)
                numbers = list(load.numbers)
            # Every connection written (before, between and after) reached every follower.
            assert rows_for(url, numbers) == len(numbers)
            wait_for(lambda: {m.key.decode() for m in routing.poll()} >= set(numbers), timeout=60)
            analytics.wait_for(lambda sent: len({m.key for m in sent}) >= len(numbers))
            print(
                f"outage {OUTAGE_SECONDS}s: every worker running {resumed_in:.1f}s and caught up"
                f" with the load {caught_up_in:.1f}s after PostgreSQL started again;"
                f" retrying seen: {sorted(seen_retrying)}; writes refused: {load.refused};"
                f" /readyz answered in {[round(s, 2) for s in readyz_seconds]} s"
            )
            # Once a worker retries, /readyz answers without waiting for the database.
            assert min(readyz_seconds) < 0.5
            assert seen_retrying >= {"projection:channels_table", f"relay:{FEEDS_RELAY_NAME}"}
        finally:
            directory.close()
            agents.close()
            routing.close()
            analytics.close()
