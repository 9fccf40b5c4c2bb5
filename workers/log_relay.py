"""A relay from the event log to Kafka: the guarantees every published topic shares.

A relay reads a batch of notifications after its tracking position, turns it into
``Outgoing`` messages (``messages_for``), sends them with an idempotent producer
(``acks=all``), waits for the broker's ack of every one and only then records the new
position (with whatever state the relay keeps, ``record_state``, in the same transaction).
A crash or a broker outage re-publishes instead of losing. Messages of one key are sent in
log order on one producer, so they stay in order. One relay of a name is active at a time
(a session advisory lock); a second one waits as a standby. No database transaction is
held while waiting for Kafka.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import Notification
from kafka import KafkaProducer
from kafka.errors import KafkaError
from psycopg import sql

from domain.application import SmsChannels
from projections.tracking import (
    TRACKING_TABLE,
    StoppedAt,
    lock_key,
    record_error,
    try_session_lock,
)
from workers.following import SAFETY_POLL_SECONDS, follow
from workers.leadership import STANDBY_POLL_SECONDS, keep_alive

log = structlog.get_logger("workers.log_relay")
_TRACKING = sql.Identifier(TRACKING_TABLE)

ACK_TIMEOUT_SECONDS = 30
# A broker back from an outage is found within this many seconds.
MAX_BACKOFF_SECONDS = 5.0


class RelayStandbyError(RuntimeError):
    """Raised when another relay holds the lock; this one retries as a standby."""


@dataclass(frozen=True)
class Outgoing:
    """One Kafka message: ``value`` None is a tombstone (compacted topics)."""

    topic: str
    key: bytes
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def producer_for(bootstrap_servers: str) -> KafkaProducer:
    """The relays' producer: idempotent, acked by all in-sync replicas."""
    return KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_block_ms=10_000,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


def send_acked(producer: KafkaProducer, messages: Sequence[Outgoing]) -> None:
    """Send ``messages`` in order; return once the broker acked every one (raise otherwise)."""
    futures = [
        producer.send(m.topic, key=m.key, value=m.value, headers=list(m.headers)) for m in messages
    ]
    producer.flush(timeout=ACK_TIMEOUT_SECONDS)
    for future in futures:
        future.get(timeout=ACK_TIMEOUT_SECONDS)  # raises unless the broker acked


class LogRelay:
    """The shared loop; subclasses say what a batch publishes (``messages_for``)."""

    name = "log_relay"

    def __init__(
        self,
        application: SmsChannels,
        conninfo: str,
        bootstrap_servers: str,
        *,
        batch_size: int = 500,
        safety_poll_seconds: float = SAFETY_POLL_SECONDS,
    ) -> None:
        """``safety_poll_seconds``: the longest wait for the event store's NOTIFY before the
        log is read anyway (a commit wakes the relay at once)."""
        self.application = application
        self.conninfo = conninfo
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.safety_poll_seconds = safety_poll_seconds
        self._producer: KafkaProducer | None = None
        self._lock_connection: psycopg.Connection[Any] | None = None
        self._standby_connection: psycopg.Connection[Any] | None = None

    def messages_for(self, notifications: Sequence[Notification]) -> list[Outgoing]:
        """What ``notifications`` publish, in order (the subclass says)."""
        raise NotImplementedError

    def prepare(self, connection: psycopg.Connection[Any]) -> None:
        """Create what the relay keeps (idempotent; runs once the relay holds its lock)."""

    def record_state(self) -> None:
        """Keep what the relay remembers of the batch just acked (runs in the transaction
        that records the position; nothing by default)."""

    def _connection(self) -> psycopg.Connection[Any]:
        """The relay's session; it holds the advisory lock that makes it the active relay."""
        if self._lock_connection is None or self._lock_connection.closed:
            # A standby keeps its session between tries (no new connection each second).
            connection = self._standby_connection
            if connection is None or connection.closed:
                connection = psycopg.connect(self.conninfo, autocommit=True)
                keep_alive(connection)
            self._standby_connection = None
            if not try_session_lock(connection, lock_key(self.name)):
                self._standby_connection = connection
                raise RelayStandbyError
            log.info("relay_leader", relay=self.name)
            connection.execute(
                sql.SQL("INSERT INTO {} (name) VALUES (%s) ON CONFLICT DO NOTHING").format(
                    _TRACKING
                ),
                (self.name,),
            )
            self.prepare(connection)
            self._lock_connection = connection
        return self._lock_connection

    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = producer_for(self.bootstrap_servers)
        return self._producer

    def relay_batch(self) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        connection = self._connection()
        row = connection.execute(
            sql.SQL("SELECT position FROM {} WHERE name = %s").format(_TRACKING), (self.name,)
        ).fetchone()
        position = int(row[0]) if row else 0
        notifications = self.application.recorder.select_notifications(
            start=position, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        messages = self.messages_for(notifications)
        if messages:
            send_acked(self.producer(), messages)
        with connection.transaction():
            self.record_state()
            connection.execute(
                sql.SQL(
                    "UPDATE {} SET position = %s, updated_at = now(),"
                    " error = NULL, error_position = NULL WHERE name = %s"
                ).format(_TRACKING),
                (notifications[-1].id, self.name),
            )
        return len(notifications)

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop``; broker and database outages (``workers.outage``) are waited
        out with backoff."""
        follow(
            self.relay_batch,
            batch_size=self.batch_size,
            conninfo=self.conninfo,
            channel=getattr(self.application.recorder, "channel_name", None),
            stop=stop,
            standby=(RelayStandbyError, STANDBY_POLL_SECONDS),
            on_retry=self._on_retry,
            name=self.name,
            max_backoff=MAX_BACKOFF_SECONDS,
            safety_poll=self.safety_poll_seconds,
        )

    def _on_retry(self, error: BaseException) -> None:
        if isinstance(error, KafkaError):
            # Shown by /metrics (sms_projection_stopped{projection=<relay name>}).
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    record_error(connection.cursor(), self.name, StoppedAt("broker_unavailable"))
            except psycopg.Error:
                pass
            self._close_producer()
        elif not isinstance(error, RelayStandbyError):
            self._close_lock()  # the database went away (the library's errors too)

    def _close_producer(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def _close_lock(self) -> None:
        for connection in (self._lock_connection, self._standby_connection):
            if connection is not None:
                with contextlib.suppress(psycopg.Error):
                    connection.close()
        self._lock_connection = self._standby_connection = None

    def close(self) -> None:
        self._close_producer()
        self._close_lock()
