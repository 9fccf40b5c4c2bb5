"""Analytics relay: publishes ``channel.connected`` to Kafka from the event log.

Guarantees: at least once and in log order. The relay reads a batch of notifications
after its tracking position, publishes one message per ``NumberConnected`` (key = the
connection id, so one connection's messages stay in order), waits for the broker's ack
(``acks=all``, idempotent producer) and only then records the new position, so a crash or
a broker outage re-publishes instead of losing; redeliveries carry the same ``eventId``.
Nothing is published from a request handler, and no database transaction is held while
waiting for Kafka. One relay is active at a time (a session advisory lock); a second one
waits as a standby.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import structlog
from kafka import KafkaProducer
from kafka.errors import KafkaError

from domain.application import SmsChannels
from domain.sms_connections import SmsConnection
from projections.tracking import StoppedAt, lock_key, record_error
from workers.following import follow
from workers.integration_events import ChannelConnectedV1

log = structlog.get_logger("workers.analytics_relay")

RELAY_NAME = "analytics_relay"
CONNECTED_TOPIC_SUFFIX = "SmsConnection.NumberConnected"
ACK_TIMEOUT_SECONDS = 30
# A broker back from an outage is found within this many seconds.
MAX_BACKOFF_SECONDS = 5.0


class RelayStandbyError(RuntimeError):
    """Raised when another relay holds the lock; this one retries as a standby."""


def channel_connected(
    application: SmsChannels, originator_id: Any, version: int
) -> ChannelConnectedV1:
    """The integration event for a connection's ``NumberConnected`` at ``version``, built
    from the aggregate as it stood then (so a replay builds the same message)."""
    connection: SmsConnection = application.repository.get(originator_id, version=version)
    return ChannelConnectedV1(
        event_id=ChannelConnectedV1.event_id_for(connection.id, version),
        occurred_at=connection.modified_on,
        account_id=connection.account_id,
        workspace_id=connection.workspace_id,
        channel_id=connection.id,
        mode=connection.mode,
        country=connection.country,
        agent_id=connection.agent_id,
    )


class AnalyticsRelay:
    """Publishes the log's ``channel.connected`` events to ``topic``."""

    def __init__(
        self,
        application: SmsChannels,
        conninfo: str,
        bootstrap_servers: str,
        topic: str,
        *,
        batch_size: int = 500,
    ) -> None:
        self.application = application
        self.conninfo = conninfo
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.batch_size = batch_size
        self._producer: KafkaProducer | None = None
        self._lock_connection: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        """The relay's session; it holds the advisory lock that makes it the active relay."""
        if self._lock_connection is None or self._lock_connection.closed:
            connection = psycopg.connect(self.conninfo, autocommit=True)
            locked = connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (lock_key(RELAY_NAME),)
            ).fetchone()
            if not (locked and locked[0]):
                connection.close()
                raise RelayStandbyError
            connection.execute(
                "INSERT INTO sms_projection_tracking (name) VALUES (%s) ON CONFLICT DO NOTHING",
                (RELAY_NAME,),
            )
            self._lock_connection = connection
        return self._lock_connection

    def _producer_ready(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                max_block_ms=10_000,
                request_timeout_ms=10_000,
                retry_backoff_ms=200,
            )
        return self._producer

    def relay_batch(self) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        connection = self._connection()
        row = connection.execute(
            "SELECT position FROM sms_projection_tracking WHERE name = %s", (RELAY_NAME,)
        ).fetchone()
        position = int(row[0]) if row else 0
        notifications = self.application.recorder.select_notifications(
            start=position, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        messages = [
            channel_connected(self.application, n.originator_id, n.originator_version)
            for n in notifications
            if n.topic.endswith(CONNECTED_TOPIC_SUFFIX)
        ]
        if messages:
            producer = self._producer_ready()
            futures = [
                producer.send(
                    self.topic, key=str(m.channel_id).encode(), value=m.value(), headers=m.headers()
                )
                for m in messages
            ]
            producer.flush(timeout=ACK_TIMEOUT_SECONDS)
            for future in futures:
                future.get(timeout=ACK_TIMEOUT_SECONDS)  # raises unless the broker acked
        connection.execute(
            "UPDATE sms_projection_tracking SET position = %s, updated_at = now(),"
            " error = NULL, error_position = NULL WHERE name = %s",
            (notifications[-1].id, RELAY_NAME),
        )
        return len(notifications)

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop``; broker and database outages are waited out with backoff."""
        follow(
            self.relay_batch,
            batch_size=self.batch_size,
            conninfo=self.conninfo,
            channel=getattr(self.application.recorder, "channel_name", None),
            stop=stop,
            retryable=(KafkaError, psycopg.OperationalError, RelayStandbyError),
            on_retry=self._on_retry,
            name=RELAY_NAME,
            max_backoff=MAX_BACKOFF_SECONDS,
        )

    def _on_retry(self, error: BaseException) -> None:
        if isinstance(error, KafkaError):
            # Shown by /metrics (sms_projection_stopped{projection="analytics_relay"}).
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    record_error(connection.cursor(), RELAY_NAME, StoppedAt("broker_unavailable"))
            except psycopg.Error:
                pass
            self._close_producer()
        elif isinstance(error, psycopg.OperationalError):
            self._close_lock()

    def _close_producer(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def _close_lock(self) -> None:
        if self._lock_connection is not None:
            self._lock_connection.close()
            self._lock_connection = None

    def close(self) -> None:
        self._close_producer()
        self._close_lock()
