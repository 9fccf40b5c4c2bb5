"""The one transient rule (``workers.outage``): which errors a worker waits out, the
jittered bounded backoff, and the supervisor that restarts a crashed worker while the
others go on, each worker's state shown as /readyz shows it."""

from __future__ import annotations

import threading

import psycopg
import pytest
from eventsourcing import persistence as es
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from kafka.errors import BrokerNotAvailableError, KafkaTimeoutError, NodeNotReadyError
from psycopg_pool import PoolTimeout

from api.main import create_app
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, wait_for
from workers.outage import (
    RESTARTING,
    RETRYING,
    RUNNING,
    STOPPED,
    Backoff,
    WorkerHealth,
    is_transient,
    supervise,
)


def wrapped(library_error: type[es.PersistenceError], cause: BaseException) -> BaseException:
    """``cause`` raised inside the eventsourcing library, which raises its own class."""
    try:
        try:
            raise cause
        except BaseException as error:
            raise library_error(str(error)) from error
    except es.PersistenceError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection lost"),
        psycopg.InterfaceError("the connection is closed"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.errors.LockNotAvailable("lock timeout"),
        psycopg.errors.SerializationFailure("could not serialize"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        psycopg.errors.TooManyConnections("too many clients"),
        es.OperationalError("the library's own, no cause"),
        es.InterfaceError("the library's own, no cause"),
        es.ConnectionUnavailableError("no connection"),
        wrapped(es.OperationalError, psycopg.OperationalError("server closed the connection")),
        wrapped(es.InterfaceError, psycopg.InterfaceError("the connection is closed")),
        wrapped(es.DatabaseError, psycopg.errors.AdminShutdown("shutting down")),
        PoolTimeout("couldn't get a connection after 5 sec"),
        BrokerNotAvailableError(),
        KafkaTimeoutError(),
        NodeNotReadyError(),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
    ids=lambda error: f"{type(error).__module__}.{type(error).__name__}",
)
def test_the_database_or_broker_away_is_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.ProgramLimitExceeded("index row size exceeds btree maximum"),
        wrapped(es.OperationalError, psycopg.errors.ProgramLimitExceeded("index row too big")),
        psycopg.errors.CharacterNotInRepertoire("NUL"),
        psycopg.DataError("text fields cannot contain NUL"),
        psycopg.errors.UndefinedTable("relation does not exist"),
        wrapped(es.ProgrammingError, psycopg.errors.UndefinedTable("relation does not exist")),
        wrapped(es.IntegrityError, psycopg.errors.UniqueViolation("duplicate key")),
        es.DataError("the library's own"),
        ValueError("a bug"),
        KeyError("a bug"),
    ],
    ids=lambda error: f"{type(error).__module__}.{type(error).__name__}",
)
def test_the_data_a_limit_or_a_bug_is_not_transient(error: BaseException) -> None:
    assert not is_transient(error)


@given(
    first=st.floats(0.01, 5),
    cap=st.floats(0.01, 60),
    tries=st.integers(1, 40),
)
def test_backoff_waits_are_jittered_doubling_and_never_past_the_cap(
    first: float, cap: float, tries: int
) -> None:
    backoff = Backoff(first, cap)
    ceiling = first
    for _ in range(tries):
        delay = backoff.next()
        assert ceiling / 2 <= delay <= ceiling
        assert delay <= max(first, cap)
        ceiling = min(ceiling * 2, cap)
    backoff.reset()
    assert first / 2 <= backoff.next() <= first


def test_a_crashed_worker_is_restarted_and_the_others_go_on() -> None:
    health, stop = WorkerHealth(), threading.Event()
    crashes, steady_beats = [], []
    recovered = threading.Event()
    cleaned = []

    def flaky(stop: threading.Event) -> None:
        if len(crashes) < 2:
            crashes.append(1)
            raise RuntimeError("secret-canary-4711")  # its text never reaches the state
        recovered.set()
        stop.wait()

    def steady(stop: threading.Event) -> None:
        while not stop.wait(0.01):
            steady_beats.append(1)

    threads = [
        supervise("flaky", flaky, stop, health, on_crash=lambda: cleaned.append(1),
                  backoff=(0.05, 0.1)),
        supervise("steady", steady, stop, health),
    ]  # fmt: skip
    try:
        wait_for(lambda: health.status("flaky").state.state == RESTARTING, timeout=5)
        state = health.status("flaky").state
        assert state.last_error == "RuntimeError"
        assert "canary" not in str(state.as_json())
        assert recovered.wait(5)
        assert len(crashes) == 2
        assert cleaned == [1, 1]
        beats = len(steady_beats)
        wait_for(lambda: len(steady_beats) > beats + 5)  # the other worker never stopped
        assert health.status("steady").state.state == RUNNING
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert {s.name: s.state for s in health.states()} == {"flaky": STOPPED, "steady": STOPPED}


def test_a_state_keeps_its_start_while_it_lasts() -> None:
    status = WorkerHealth().status("relay:channel_feeds")
    status.retrying(es.OperationalError("down"))
    first = status.state
    status.retrying(es.OperationalError("still down"))
    assert status.state.since == first.since
    assert status.state.state == RETRYING
    status.running()
    assert status.state.state == RUNNING
    assert status.state.last_error == "OperationalError"  # the last one, kept for the record


def test_readyz_names_a_retrying_worker_with_its_state_since_and_error_class() -> None:
    health = WorkerHealth()
    health.status("projection:channels_table").running()
    health.status("relay:channel_feeds").retrying(
        es.OperationalError("password=secret-canary-4711 host=db")
    )
    app = create_app(Settings(persistence="memory", jwt_secret=JWT_SECRET), worker_health=health)  # type: ignore[arg-type]
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["code"] == "not_ready"
        assert "worker relay:channel_feeds: retrying since" in body["detail"]
        by_name = {worker["name"]: worker for worker in body["workers"]}
        assert by_name["relay:channel_feeds"]["state"] == "retrying"
        assert by_name["relay:channel_feeds"]["lastError"] == "OperationalError"
        assert by_name["relay:channel_feeds"]["since"].endswith("Z")
        assert by_name["projection:channels_table"]["state"] == "running"
        assert "canary" not in response.text

        health.status("relay:channel_feeds").running()
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert {w["state"] for w in ready.json()["workers"]} == {"running"}
