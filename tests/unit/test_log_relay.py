"""The relays' shared loop (``workers.log_relay``) and the two relays on it
(``workers.feeds.relay``) without PostgreSQL or Kafka: a fake
session (the advisory lock, the tracking row, transactions) and a fake producer, over the
in-memory application's log. The position is recorded only after every message is acked,
in one transaction with the relay's state; a relay without the lock is a standby that keeps
its session; a broker error marks the relay stopped and drops the producer, a database
error drops the sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import orjson
import psycopg
import pytest
import structlog
from eventsourcing.persistence import Notification
from kafka.errors import KafkaError, KafkaTimeoutError

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from domain.service.directory import upsert_agent
from projections.tracking import TRACKING_TABLE, lock_key
from tests.support.common import popo_app
from workers import log_relay
from workers.feeds.contracts import ChannelConnectedV1
from workers.feeds.relay import FEEDS_RELAY_NAME, RELAY_NAME, AnalyticsRelay, ChannelFeedsRelay
from workers.feeds.routing_state import CREATE_ROUTING_STATE
from workers.leadership import STANDBY_POLL_SECONDS
from workers.log_relay import (
    ACK_TIMEOUT_SECONDS,
    MAX_BACKOFF_SECONDS,
    LogRelay,
    Outgoing,
    RelayStandbyError,
    send_acked,
)


class Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


class FakeSession:
    """A PostgreSQL session as the relay uses it: the advisory lock (free or not), the
    tracking row's position, transactions; every statement is kept as text."""

    def __init__(self, lock_free: bool = True, position: int | None = 0) -> None:
        self.lock_free = lock_free
        self.position = position
        self.closed = False
        self.statements: list[tuple[str, tuple[Any, ...], bool]] = []  # text, params, in tx
        self.in_transaction = False
        self.fail_closing = False

    def execute(self, statement: Any, params: Sequence[Any] = ()) -> Rows:
        text = statement if isinstance(statement, str) else statement.as_string(None)
        self.statements.append((text, tuple(params), self.in_transaction))
        if "pg_try_advisory_lock" in text:
            return Rows([(self.lock_free,)])
        if text == f'SELECT position FROM "{TRACKING_TABLE}" WHERE name = %s':
            # The row of the relay that asks (only "every_fact" and the two relays have one).
            known = params in (("every_fact",), (RELAY_NAME,), (FEEDS_RELAY_NAME,))
            return Rows([(self.position,)] if known and self.position is not None else [])
        if text.startswith("UPDATE") and "position" in text:
            self.position = params[0]
        return Rows([])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.in_transaction = True
        try:
            yield
        finally:
            self.in_transaction = False

    def cursor(self) -> FakeSession:
        return self

    def close(self) -> None:
        if self.fail_closing:
            raise psycopg.OperationalError("gone")
        self.closed = True

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def texts(self) -> list[str]:
        return [text for text, _, _ in self.statements]


class Sessions:
    """``psycopg.connect`` for the relay: hands out ``FakeSession``s, keeps them."""

    def __init__(self, lock_free: bool = True, position: int | None = 0) -> None:
        self.lock_free = lock_free
        self.position = position
        self.opened: list[tuple[FakeSession, tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> FakeSession:
        session = FakeSession(self.lock_free, self.position)
        self.opened.append((session, args, kwargs))
        return session

    @property
    def last(self) -> FakeSession:
        return self.opened[-1][0]


class Future:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.timeouts: list[float] = []

    def get(self, timeout: float) -> None:
        self.timeouts.append(timeout)
        if self.error is not None:
            raise self.error


class FakeProducer:
    """A producer whose sends are acked unless ``failing`` names their topic."""

    def __init__(self, failing: str | None = None) -> None:
        self.failing = failing
        self.sent: list[tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]] = []
        self.futures: list[Future] = []
        self.flushes: list[float] = []
        self.closed: list[float] = []

    def send(self, topic: str, *, key: bytes, value: bytes | None, headers: Any) -> Future:
        self.sent.append((topic, key, value, headers))
        error = KafkaTimeoutError("no ack") if topic == self.failing else None
        self.futures.append(Future(error))
        return self.futures[-1]

    def flush(self, timeout: float) -> None:
        self.flushes.append(timeout)

    def close(self, timeout: float) -> None:
        self.closed.append(timeout)


class EveryFact(LogRelay):
    """A relay publishing one message per notification, remembering its state calls."""

    name = "every_fact"

    def __init__(self, application: SmsChannels, **kwargs: Any) -> None:
        super().__init__(application, "postgresql://relay", "broker:9092", **kwargs)
        self.recorded_in_transaction: list[bool] = []
        self.prepared: list[Any] = []

    def messages_for(self, notifications: Sequence[Notification]) -> list[Outgoing]:
        return [
            Outgoing("facts", str(n.id).encode(), n.topic.encode(), (("h", b"1"),))
            for n in notifications
            if "Agent" not in n.topic  # directory facts publish nothing here
        ]

    def prepare(self, connection: Any) -> None:
        self.prepared.append(connection)

    def record_state(self) -> None:
        assert self._lock_connection is not None
        self.recorded_in_transaction.append(self._lock_connection.in_transaction)  # type: ignore[attr-defined]


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Sessions:
    sessions = Sessions()
    monkeypatch.setattr(psycopg, "connect", sessions)
    return sessions


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> FakeProducer:
    producer = FakeProducer()
    monkeypatch.setattr(log_relay, "producer_for", lambda servers: producer)
    return producer


def connect(application: SmsChannels, number: str = "+14155550123", mode: str = "new") -> Any:
    command = ConnectNumber("acc", "ws_1", "agent_1", mode, "US", None, number, "u")  # type: ignore[arg-type]
    return application.connect(command).connection


def positions(application: SmsChannels) -> list[int]:
    return [n.id for n in application.recorder.select_notifications(start=1, limit=1000)]


# --- the shared loop -----------------------------------------------------------------------


def test_a_batch_is_sent_then_acked_then_its_position_recorded_with_the_state(
    sessions: Sessions, producer: FakeProducer
) -> None:
    application = popo_app()
    connect(application)
    relay = EveryFact(application)
    assert relay.relay_batch() == len(positions(application))
    assert [key for _, key, _, _ in producer.sent] == [
        str(p).encode() for p in positions(application)
    ]
    assert all(headers == [("h", b"1")] for _, _, _, headers in producer.sent)
    assert producer.flushes == [ACK_TIMEOUT_SECONDS]
    assert all(f.timeouts == [ACK_TIMEOUT_SECONDS] for f in producer.futures)
    session = sessions.last
    assert session.position == positions(application)[-1]
    assert relay.recorded_in_transaction == [True]
    update = [(t, p, tx) for t, p, tx in session.statements if t.startswith("UPDATE")]
    set_position = ("SET position = %s, updated_at = now(), error = NULL, error_position = NULL"
                    " WHERE name = %s")  # fmt: skip
    assert update == [(f'UPDATE "{TRACKING_TABLE}" {set_position}',
                       (positions(application)[-1], "every_fact"), True)]  # fmt: skip


def test_the_next_batch_starts_after_the_recorded_position(
    sessions: Sessions, producer: FakeProducer
) -> None:
    application = popo_app()
    connect(application)
    relay = EveryFact(application)
    relay.relay_batch()
    already = len(producer.sent)
    assert relay.relay_batch() == 0  # nothing new: nothing sent, nothing recorded
    assert len(producer.sent) == already
    assert [t for t in sessions.last.texts() if t.startswith("UPDATE")] != []
    updates = sum(t.startswith("UPDATE") for t in sessions.last.texts())
    connect(application, "+14155550124")
    assert relay.relay_batch() > 0
    sent_after = [int(key) for _, key, _, _ in producer.sent[already:]]
    assert min(sent_after) > positions(application)[already - 1]
    assert sum(t.startswith("UPDATE") for t in sessions.last.texts()) == updates + 1


def test_a_batch_is_at_most_batch_size_notifications(
    sessions: Sessions, producer: FakeProducer
) -> None:
    application = popo_app()
    connect(application)
    relay = EveryFact(application, batch_size=2)
    assert relay.relay_batch() == 2
    assert sessions.last.position == positions(application)[1]
    assert relay.relay_batch() == len(positions(application)) - 2


def test_a_relay_without_a_tracking_row_starts_from_the_beginning(
    sessions: Sessions, producer: FakeProducer
) -> None:
    sessions.position = None
    application = popo_app()
    connect(application)
    assert EveryFact(application).relay_batch() == len(positions(application))


def test_a_batch_that_publishes_nothing_still_records_its_position(
    sessions: Sessions, producer: FakeProducer
) -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_1", AgentInfo("ws_1", "W", "A", None, None))
    relay = EveryFact(application)
    assert relay.relay_batch() == 1
    assert producer.sent == []
    assert producer.flushes == []
    assert sessions.last.position == positions(application)[-1]


def test_an_unacked_message_records_no_position(sessions: Sessions) -> None:
    application = popo_app()
    connect(application)
    relay = EveryFact(application)
    failing = FakeProducer(failing="facts")
    relay._producer = failing
    with pytest.raises(KafkaError):
        relay.relay_batch()
    assert sessions.last.position == 0
    assert relay.recorded_in_transaction == []


def test_send_acked_waits_for_every_ack_and_raises_without_one() -> None:
    producer = FakeProducer(failing="b")
    messages = [Outgoing("a", b"1", b"x"), Outgoing("b", b"2", None), Outgoing("a", b"3", b"y")]
    with pytest.raises(KafkaTimeoutError):
        send_acked(producer, messages)
    assert [(t, k, v) for t, k, v, _ in producer.sent] == [("a", b"1", b"x"), ("b", b"2", None),
                                                           ("a", b"3", b"y")]  # fmt: skip
    assert producer.flushes == [ACK_TIMEOUT_SECONDS]
    assert producer.futures[0].timeouts == [ACK_TIMEOUT_SECONDS]


def test_the_leader_takes_its_lock_once_and_keeps_its_session(
    sessions: Sessions, producer: FakeProducer
) -> None:
    application = popo_app()
    relay = EveryFact(application)
    relay.relay_batch()
    relay.relay_batch()
    assert len(sessions.opened) == 1
    session, args, kwargs = sessions.opened[0]
    assert (args, kwargs) == (("postgresql://relay",), {"autocommit": True})
    texts = session.texts()
    assert sum("pg_try_advisory_lock" in t for t in texts) == 1
    lock = next(p for t, p, _ in session.statements if "pg_try_advisory_lock" in t)
    assert lock == (lock_key("every_fact"),)
    assert sum("set_config" in t for t in texts) == 3  # the session's keepalives
    insert = [(t, p) for t, p, _ in session.statements if t.startswith("INSERT")]
    assert insert == [(f'INSERT INTO "{TRACKING_TABLE}" (name) VALUES (%s) ON CONFLICT DO '
                       "NOTHING", ("every_fact",))]  # fmt: skip
    assert relay.prepared == [session]


def test_a_relay_without_the_lock_is_a_standby_that_keeps_its_session(
    sessions: Sessions, producer: FakeProducer
) -> None:
    sessions.lock_free = False
    application = popo_app()
    connect(application)
    relay = EveryFact(application)
    for _ in range(3):
        with pytest.raises(RelayStandbyError):
            relay.relay_batch()
    assert len(sessions.opened) == 1
    assert relay.prepared == []
    assert producer.sent == []
    sessions.last.lock_free = True  # the leader went away
    assert relay.relay_batch() > 0
    assert len(sessions.opened) == 1
    assert relay.prepared == [sessions.last]


def test_a_closed_session_is_opened_again(sessions: Sessions, producer: FakeProducer) -> None:
    application = popo_app()
    relay = EveryFact(application)
    relay.relay_batch()
    sessions.last.closed = True
    relay.relay_batch()
    assert len(sessions.opened) == 2
    sessions.lock_free = False  # another relay would not get the lock now
    relay.relay_batch()  # this one holds it: its session is open, no new try
    assert len(sessions.opened) == 2


def test_a_closed_standby_session_is_opened_again(sessions: Sessions) -> None:
    sessions.lock_free = False
    relay = EveryFact(popo_app())
    with pytest.raises(RelayStandbyError):
        relay.relay_batch()
    sessions.last.closed = True
    with pytest.raises(RelayStandbyError):
        relay.relay_batch()
    assert len(sessions.opened) == 2


def test_a_broker_error_marks_the_relay_stopped_and_drops_the_producer(
    sessions: Sessions, producer: FakeProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[tuple[Any, str, Any]] = []
    monkeypatch.setattr(log_relay, "record_error", lambda c, n, s: recorded.append((c, n, s)))
    relay = EveryFact(popo_app())
    relay.relay_batch()
    relay.producer()
    relay._on_retry(KafkaTimeoutError("down"))
    marking = sessions.last
    assert [(n, s.error) for _, n, s in recorded] == [("every_fact", "broker_unavailable")]
    assert recorded[0][0] is marking
    assert marking.closed  # its own session, closed after
    assert producer.closed == [5]
    assert relay._producer is None
    assert not sessions.opened[0][0].closed  # the lock is kept


def test_a_broker_error_while_the_database_is_away_still_drops_the_producer(
    producer: FakeProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_: Any, **__: Any) -> Any:
        raise psycopg.OperationalError("no database either")

    monkeypatch.setattr(psycopg, "connect", unreachable)
    relay = EveryFact(popo_app())
    relay.producer()
    relay._on_retry(KafkaTimeoutError("down"))
    assert producer.closed == [5]


def test_a_database_error_drops_both_sessions_and_a_standby_retry_drops_nothing(
    sessions: Sessions, producer: FakeProducer
) -> None:
    relay = EveryFact(popo_app())
    relay.relay_batch()
    leader = sessions.last
    relay._on_retry(RelayStandbyError())
    assert not leader.closed
    relay._on_retry(psycopg.OperationalError("gone"))
    assert leader.closed
    assert relay._lock_connection is None
    assert producer.closed == []
    relay.relay_batch()
    assert len(sessions.opened) == 2


def test_closing_drops_the_producer_and_every_session_even_when_one_fails_to_close(
    sessions: Sessions, producer: FakeProducer
) -> None:
    relay = EveryFact(popo_app())
    relay.relay_batch()
    relay.producer()
    sessions.last.fail_closing = True
    standby = FakeSession()
    relay._standby_connection = standby  # type: ignore[assignment]
    relay.close()
    assert producer.closed == [5]
    assert standby.closed
    assert relay._lock_connection is None
    assert relay._standby_connection is None
    relay.close()  # twice: nothing left to close
    assert producer.closed == [5]


def test_run_follows_the_log_with_the_relays_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    followed: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(log_relay, "follow", lambda step, **kw: followed.append((step, kw)))
    relay = EveryFact(popo_app(), batch_size=7)
    stop = threading.Event()
    relay.run(stop)
    (step, settings), = followed  # fmt: skip
    assert step == relay.relay_batch
    assert settings == {
        "batch_size": 7,
        "conninfo": "postgresql://relay",
        "channel": None,  # the in-memory recorder has no NOTIFY channel
        "stop": stop,
        "standby": (RelayStandbyError, STANDBY_POLL_SECONDS),
        "on_retry": relay._on_retry,
        "name": "every_fact",
        "max_backoff": MAX_BACKOFF_SECONDS,
        "safety_poll": log_relay.SAFETY_POLL_SECONDS,
    }


def test_the_relays_producer_is_idempotent_and_acked_by_every_replica(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[dict[str, Any]] = []

    def producer(**settings: Any) -> str:
        made.append(settings)
        return "producer"

    monkeypatch.setattr(log_relay, "KafkaProducer", producer)
    relay = EveryFact(popo_app())
    assert relay.producer() == "producer"
    assert relay.producer() == "producer"  # one per relay
    assert made == [{
        "bootstrap_servers": "broker:9092",
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_block_ms": 10_000,
        "request_timeout_ms": 10_000,
        "retry_backoff_ms": 200,
    }]  # fmt: skip


def test_the_base_relay_publishes_nothing_it_was_not_told() -> None:
    relay = LogRelay(popo_app(), "postgresql://relay", "broker:9092")
    assert relay.name == "log_relay"
    assert relay.batch_size == 500
    with pytest.raises(NotImplementedError):
        relay.messages_for([])
    relay.prepare(FakeSession())  # type: ignore[arg-type]
    relay.record_state()


# --- the analytics relay --------------------------------------------------------------------


def test_the_analytics_relay_publishes_one_channel_connected_per_connect() -> None:
    application = popo_app()
    connection = connect(application)
    hosted = connect(application, "+14155550124", mode="byon")
    relay = AnalyticsRelay(application, "postgresql://relay", "broker:9092", "analytics")
    assert relay.name == RELAY_NAME == "analytics_relay"
    notifications = application.recorder.select_notifications(start=1, limit=1000)
    (message,) = relay.messages_for(notifications)  # the hosted number is not connected yet
    assert (message.topic, message.key) == ("analytics", str(connection.id).encode())
    published = orjson.loads(message.value or b"")
    assert published["eventType"] == "channel.connected"
    assert published["eventId"] == str(ChannelConnectedV1.event_id_for(connection.id, 2))
    assert (published["channelId"], published["accountId"], published["workspaceId"]) == (
        str(connection.id), "acc", "ws_1")  # fmt: skip
    chosen = (published["mode"], published["country"], published["agentId"])
    assert chosen == ("new", "US", "agent_1")
    assert dict(message.headers)["eventType"] == b"channel.connected"
    application.record_number_connected(hosted.id, "sandbox", "PN_hosted")
    later = application.recorder.select_notifications(start=notifications[-1].id + 1, limit=10)
    (second,) = relay.messages_for(later)
    assert second.key == str(hosted.id).encode()


def test_channel_connected_is_built_from_the_connection_as_it_stood_then() -> None:
    application = popo_app()
    connection = connect(application)
    upsert_agent(application, "acc", "agent_2", AgentInfo("ws_1", "W", "B", None, None))
    application.update_settings("acc", connection.id, by="u", agent_id="agent_2")
    relay = AnalyticsRelay(application, "postgresql://relay", "broker:9092", "analytics")
    notifications = application.recorder.select_notifications(start=1, limit=1000)
    (message,) = relay.messages_for(notifications)
    assert orjson.loads(message.value or b"")["agentId"] == "agent_1"


# --- the channel-feeds relay -----------------------------------------------------------------


def test_the_feeds_relay_keeps_its_routing_state_in_the_transaction_of_its_position(
    sessions: Sessions, producer: FakeProducer
) -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_1", AgentInfo("ws_1", "W", "A", "kb", "KB"))
    connection = connect(application)
    relay = ChannelFeedsRelay(application, "postgresql://relay", "broker:9092",
                              events_topic="events", routing_topic="routing")  # fmt: skip
    assert relay.name == FEEDS_RELAY_NAME == "channel_feeds_relay"
    relay.relay_batch()
    session = sessions.last
    assert session.texts().count(CREATE_ROUTING_STATE) == 1
    topics = [topic for topic, _, _, _ in producer.sent]
    assert topics == ["routing", "events"]
    saved = [(p, tx) for t, p, tx in session.statements if "INSERT INTO sms_routing_state" in t]
    assert len(saved) == 1
    (number, channel_id, account, agent, _), in_transaction = saved[0]
    assert (number, channel_id, account, agent) == ("+14155550123", connection.id, "acc",
                                                    "agent_1")  # fmt: skip
    assert in_transaction
    assert relay._state is None  # saved once
    relay.record_state()
    assert sum("sms_routing_state VALUES" in t for t in session.texts()) == 1


def test_the_feeds_relay_remembers_past_states_from_batch_to_batch(
    sessions: Sessions, producer: FakeProducer
) -> None:
    application = popo_app()
    connection = connect(application)
    relay = ChannelFeedsRelay(application, "postgresql://relay", "broker:9092",
                              events_topic="events", routing_topic="routing")  # fmt: skip
    relay.relay_batch()
    assert (connection.id, connection.version) in relay._remembered
    assert all(isinstance(key[0], UUID) for key in relay._remembered)


def test_the_relays_pass_their_settings_to_the_loop() -> None:
    application = popo_app()
    analytics = AnalyticsRelay(application, "postgresql://a", "broker:1", "t", batch_size=7)
    feeds = ChannelFeedsRelay(application, "postgresql://f", "broker:2", events_topic="e",
                              routing_topic="r", batch_size=9)  # fmt: skip
    assert (analytics.conninfo, analytics.bootstrap_servers, analytics.batch_size) == (
        "postgresql://a", "broker:1", 7)  # fmt: skip
    assert (feeds.conninfo, feeds.bootstrap_servers, feeds.batch_size) == (
        "postgresql://f", "broker:2", 9)  # fmt: skip
    assert AnalyticsRelay(application, "c", "b", "t").batch_size == 500
    default = ChannelFeedsRelay(application, "c", "b", events_topic="e", routing_topic="r")
    assert default.batch_size == 500


def test_the_relays_pass_their_safety_poll_to_the_loop_and_default_to_the_loops() -> None:
    application = popo_app()
    analytics = AnalyticsRelay(application, "c", "b", "t", safety_poll_seconds=0.25)
    feeds = ChannelFeedsRelay(application, "c", "b", events_topic="e", routing_topic="r",
                              safety_poll_seconds=4.0)  # fmt: skip
    assert (analytics.safety_poll_seconds, feeds.safety_poll_seconds) == (0.25, 4.0)
    assert AnalyticsRelay(application, "c", "b", "t").safety_poll_seconds == 1.0
    default = ChannelFeedsRelay(application, "c", "b", events_topic="e", routing_topic="r")
    assert default.safety_poll_seconds == log_relay.SAFETY_POLL_SECONDS == 1.0


def test_the_feeds_relay_saves_nothing_before_its_first_batch() -> None:
    relay = ChannelFeedsRelay(popo_app(), "c", "b", events_topic="e", routing_topic="r")
    relay.record_state()  # no batch built: no routing state to save
    assert relay._state is None


def test_run_waits_on_the_recorders_notify_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    channels: list[Any] = []
    monkeypatch.setattr(log_relay, "follow", lambda step, **kw: channels.append(kw["channel"]))
    application = popo_app()
    monkeypatch.setattr(application.recorder, "channel_name", "events_notify", raising=False)
    EveryFact(application).run(threading.Event())
    assert channels == ["events_notify"]


def test_the_broker_error_is_marked_on_a_session_of_the_relays_database(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_relay, "record_error", lambda *_: None)
    EveryFact(popo_app())._on_retry(KafkaTimeoutError("down"))
    (_, args, kwargs), = sessions.opened  # fmt: skip
    assert (args, kwargs) == (("postgresql://relay",), {"autocommit": True})


def test_the_relay_that_takes_the_lock_says_so(sessions: Sessions, producer: FakeProducer) -> None:
    with structlog.testing.capture_logs() as logs:
        EveryFact(popo_app()).relay_batch()
    assert {"event": "relay_leader", "relay": "every_fact", "log_level": "info"} in logs
