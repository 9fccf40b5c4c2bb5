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

from collections.abc import Sequence
from typing import Any

import structlog
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.application import SmsChannels
from domain.sms_connections import SmsConnection
from workers.integration_events import ChannelConnectedV1
from workers.log_relay import LogRelay, Outgoing, RelayStandbyError

__all__ = ["RELAY_NAME", "AnalyticsRelay", "RelayStandbyError", "channel_connected"]

log = structlog.get_logger("workers.analytics_relay")

RELAY_NAME = "analytics_relay"
CONNECTED_TOPIC = get_topic(SmsConnection.NumberConnected)


def channel_connected(
    application: SmsChannels, originator_id: Any, version: int
) -> ChannelConnectedV1:
    """The integration event for a connection's ``NumberConnected`` at ``version``, built
    from the aggregate as it stood then (so a replay builds the same message)."""
    connection: SmsConnection = application.repository.get(originator_id, version=version)
    return connected_event(connection, version)


def connected_event(connection: SmsConnection, version: int) -> ChannelConnectedV1:
    """The integration event of ``connection`` as it stood at ``version`` (its connect)."""
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


class AnalyticsRelay(LogRelay):
    """Publishes the log's ``channel.connected`` events to ``topic``."""

    name = RELAY_NAME

    def __init__(
        self,
        application: SmsChannels,
        conninfo: str,
        bootstrap_servers: str,
        topic: str,
        *,
        batch_size: int = 500,
    ) -> None:
        super().__init__(application, conninfo, bootstrap_servers, batch_size=batch_size)
        self.topic = topic

    def messages_for(self, notifications: Sequence[Notification]) -> list[Outgoing]:
        return [
            connected_message(self.topic, channel_connected(self.application, n.originator_id,
                                                            n.originator_version))
            for n in notifications
            if n.topic == CONNECTED_TOPIC
        ]  # fmt: skip


def connected_message(topic: str, event: ChannelConnectedV1) -> Outgoing:
    """``event`` as a message of ``topic``, keyed by its connection id."""
    return Outgoing(topic, str(event.channel_id).encode(), event.value(), tuple(event.headers()))
