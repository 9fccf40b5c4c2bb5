"""The feeds' relays, from the event log to Kafka, each with the relay's guarantees
(``workers.log_relay``: position saved after the broker's ack, one active relay of a name,
idempotent producer, in log order per key; redeliveries carry the same ``eventId``).

The analytics relay publishes ``channel.connected`` (``ANALYTICS_TOPIC``): one message per
``NumberConnected`` (key = the connection id, so one connection's messages stay in order),
at least once and in log order. Nothing is published from a request handler, and no
database transaction is held while waiting for Kafka.

The channel-feeds relay publishes the lifecycle events for analytics
(``CHANNEL_EVENTS_TOPIC``, keyed by connection id) and the compacted routing feed
(``ROUTING_TOPIC``, keyed by the E.164 number). Every message of both relays is built by
``message`` (a routing tombstone by ``tombstone``), in the one envelope of
``workers.feeds.contracts``.

Per fact of the log, in order: its lifecycle events (a connection's fact compares the
connection before and after it; a directory fact compares the agent's entry before and
after it, for every number served with that agent), then the routing values it changes
(the current state of each connection it touches; a value only when its content changed,
a tombstone when the number stops being served by the connection that held it).
Lifecycle events are built from the stored facts, so a replay republishes the same
``eventId``; capabilities read the agent directory as it is now. A ``channel.updated`` a
directory fact caused carries that fact's time; the live relay finds the connections it
touches in the routing state (who is served now), a replay in ``AgentUsers`` (who was
served then).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic, resolve_topic

from domain.agent_directory import DirectoryAgent
from domain.application import SmsChannels
from domain.serving import Serving, assess, facts_of_connection
from domain.sms_connections import SmsConnection
from workers.feeds.contracts import (
    LifecycleEvent,
    PublishedValue,
    envelope_of,
    tombstone_envelope,
)
from workers.feeds.routing_state import CREATE_ROUTING_STATE, RoutingState, Served
from workers.feeds.values import (
    DirectoryEntry,
    changes_between,
    channel_connected,
    connected_event,
    digest,
    directory_entry,
    disconnected,
    is_served,
    registration_changed,
    routing_value,
    updated,
)
from workers.following import SAFETY_POLL_SECONDS
from workers.log_relay import LogRelay, Outgoing, RelayStandbyError

__all__ = [
    "FEEDS_RELAY_NAME",
    "RELAY_NAME",
    "AnalyticsRelay",
    "ChannelFeedsRelay",
    "RelayStandbyError",
    "channel_connected",
]

RELAY_NAME = "analytics_relay"
CONNECTED_TOPIC = get_topic(SmsConnection.NumberConnected)
FEEDS_RELAY_NAME = "channel_feeds_relay"
REMEMBERED = 2048  # aggregates one builder keeps at most (see FeedBuilder)


def originator(notification: Notification) -> UUID:
    """The notification's aggregate id (the store's ids are UUIDs)."""
    return UUID(str(notification.originator_id))


def kind_of(notification: Notification) -> type[Any]:
    """The class of the notification's event (``SmsConnection.NumberConnected``), from its
    topic: the event itself is not decoded."""
    kind: type[Any] = resolve_topic(notification.topic)
    return kind


@dataclass(frozen=True)
class Holding:
    """A connection serving its number with an agent, as of a point of the log."""

    account_id: str
    agent_id: str
    phone_number: str
    version: int


class AgentUsers:
    """Which connections serve a number with which agent as of the point a walk through
    the log has reached: what a replay asks of a directory fact (the routing state says who
    is served *now*, which is right only for the live relay, at the head of the log)."""

    def __init__(self) -> None:
        self._holdings: dict[UUID, Holding] = {}

    def record(self, connection: SmsConnection) -> None:
        """``connection`` as it stood after a fact of it."""
        if is_served(connection):
            self._holdings[connection.id] = Holding(
                connection.account_id,
                connection.agent_id,
                connection.phone_number,
                connection.version,
            )
        else:
            self._holdings.pop(connection.id, None)

    def using(self, account_id: str, agent_id: str) -> list[UUID]:
        """The connections served with the agent, in number order."""
        found = [
            (held.phone_number, channel_id)
            for channel_id, held in self._holdings.items()
            if (held.account_id, held.agent_id) == (account_id, agent_id)
        ]
        return [channel_id for _, channel_id in sorted(found)]

    def version_of(self, channel_id: UUID) -> int | None:
        """The connection's version at the walk's point (None: not serving then)."""
        held = self._holdings.get(channel_id)
        return None if held is None else held.version


class FeedBuilder:
    """Builds one batch's messages; ``state`` remembers the routing feed.

    One builder serves one batch, and reads each thing at most once in it: an aggregate at
    a version (a fact of the past never changes: ``remembered`` keeps them from batch to
    batch), the current state of each connection it touches, and each agent's directory
    entry (read again after a directory fact of the batch). Before, every fact loaded its
    connection three times (as it was, as it became, as it is), four for a connect, and the
    agent's entry up to three times."""

    def __init__(
        self,
        application: SmsChannels,
        state: RoutingState,
        events_topic: str | None,
        routing_topic: str | None,
        remembered: dict[tuple[UUID, int], Any] | None = None,
        users: AgentUsers | None = None,
    ) -> None:
        """``users``: for a replay, which connections each agent served as of the facts
        walked (kept up to date here); without it, the routing state says."""
        self.application = application
        self.users = users
        self.state = state
        self.events_topic = events_topic
        self.routing_topic = routing_topic
        self._at: dict[tuple[UUID, int], Any] = {} if remembered is None else remembered
        self._now: dict[UUID, SmsConnection] = {}
        self._entries: dict[tuple[str, str], DirectoryEntry] = {}

    def _get(self, aggregate_id: UUID, version: int) -> Any:
        """The aggregate as it stood at ``version`` (read once per batch)."""
        key = (aggregate_id, version)
        if key not in self._at:
            self._bound()
            self._at[key] = self.application.repository.get(aggregate_id, version=version)
        return self._at[key]

    def _bound(self) -> None:
        """Forget what was read once a batch (or a whole replay, which uses one builder)
        has read ``REMEMBERED`` aggregates: memory stays bounded."""
        if len(self._at) + len(self._now) >= REMEMBERED:
            self._at.clear()
            self._now.clear()

    def _entry(self, account_id: str, agent_id: str) -> DirectoryEntry:
        key = (account_id, agent_id)
        if key not in self._entries:
            self._entries[key] = directory_entry(self.application, account_id, agent_id)
        return self._entries[key]

    def messages(self, notifications: Iterable[Notification]) -> list[Outgoing]:
        out: list[Outgoing] = []
        for notification in notifications:
            kind = kind_of(notification)
            touched: list[UUID] = []
            if issubclass(kind, SmsConnection.Event):
                if self.routing_topic is not None:
                    self.current(originator(notification))  # often the fact's own version
                out += self._connection_events(kind, notification)
                touched = [originator(notification)]
                if self.users is not None:
                    self.users.record(self._get(touched[0], notification.originator_version))
            elif issubclass(kind, DirectoryAgent.Event):
                self._entries.clear()  # an agent changed: read the entries again
                touched = self._directory_touches(notification)
                out += self._directory_events(notification, touched)
            if self.routing_topic is not None:
                out += self._routing(touched, notification.id)
        return out

    # --- lifecycle events ------------------------------------------------------------------

    def _connection_events(self, kind: type[Any], notification: Notification) -> list[Outgoing]:
        if self.events_topic is None:
            return []
        cid, version = originator(notification), notification.originator_version
        position = notification.id
        if kind is SmsConnection.NumberConnected:
            event = connected_event(self._get(cid, version), version)
            return [message(self.events_topic, event)]
        after: SmsConnection = self._get(cid, version)
        gone = disconnected(kind, after, position)
        if gone is not None or version == 1:
            return self._published([gone] if gone else [])
        before: SmsConnection = self._get(cid, version - 1)
        was, now = self._serving(before), self._serving(after)
        events: list[LifecycleEvent | None] = [registration_changed(before, after, position)]
        changes = changes_between(before, after, was, now)
        if changes:
            events.insert(0, updated(after, changes, now, position))
        return self._published([e for e in events if e is not None])

    def _directory_touches(self, notification: Notification) -> list[UUID]:
        agent: DirectoryAgent = self._get(originator(notification), notification.originator_version)
        if self.users is not None:
            return self.users.using(agent.account_id, agent.agent_id)
        return self.state.channels_using(agent.account_id, agent.agent_id)

    def _served_with(self, channel_id: UUID) -> SmsConnection:
        """The connection a directory fact touched: as it stood then in a replay (the
        walk's ``users``), as it is now for the live relay (at the head of the log)."""
        version = None if self.users is None else self.users.version_of(channel_id)
        if version is None:
            return self.current(channel_id)
        connection: SmsConnection = self._get(channel_id, version)
        return connection

    def _directory_events(self, notification: Notification, touched: list[UUID]) -> list[Outgoing]:
        if self.events_topic is None or not touched:
            return []
        version = notification.originator_version
        after = self._agent_at(originator(notification), version)
        before = self._agent_at(originator(notification), version - 1)
        events = []
        for channel_id in touched:
            connection = self._served_with(channel_id)
            facts = facts_of_connection(connection)
            was, now = assess(facts, before.info), assess(facts, after.info)
            if changes_between(connection, connection, was, now):
                # When the directory changed, not when the connection last did.
                at = after.modified_on
                events.append(updated(connection, ["capabilities"], now, notification.id, at))
        return self._published(events)

    def _agent_at(self, agent_id: UUID, version: int) -> DirectoryEntry:
        if version < 1:
            return DirectoryEntry(None, None)
        agent: DirectoryAgent = self._get(agent_id, version)
        return DirectoryEntry(None if agent.deleted else agent.info, agent.modified_on)

    def _serving(self, connection: SmsConnection) -> Serving:
        entry = self._entry(connection.account_id, connection.agent_id)
        return assess(facts_of_connection(connection), entry.info)

    def _published(self, events: Sequence[LifecycleEvent]) -> list[Outgoing]:
        assert self.events_topic is not None
        return [message(self.events_topic, e) for e in events]

    # --- routing feed ----------------------------------------------------------------------

    def current(self, channel_id: UUID) -> SmsConnection:
        """The connection as it is now (read once per batch; also kept as it stood at its
        version, which the batch's later facts of it may ask for)."""
        if channel_id not in self._now:
            self._bound()
            connection: SmsConnection = self.application.repository.get(channel_id)
            self._now[channel_id] = connection
            self._at.setdefault((channel_id, connection.version), connection)
        return self._now[channel_id]

    def _routing(self, touched: list[UUID], position: int) -> list[Outgoing]:
        out = []
        for channel_id in touched:
            message = self.routing_change(self.current(channel_id), position)
            if message is not None:
                out.append(message)
        return out

    def routing_change(self, connection: SmsConnection, position: int) -> Outgoing | None:
        """The message (if any) that brings the feed to ``connection``'s current state."""
        assert self.routing_topic is not None
        phone, held = connection.phone_number, self.state.get(connection.phone_number)
        if not is_served(connection):
            if held is None or held.channel_id != connection.id:
                return None  # never published, or the number is another connection's now
            self.state.set(phone, None)
            return tombstone(self.routing_topic, phone)
        entry = self._entry(connection.account_id, connection.agent_id)
        value = routing_value(connection, entry, position)
        served = Served(connection.id, connection.account_id, connection.agent_id, digest(value))
        if held == served:
            return None
        self.state.set(phone, served)
        return message(self.routing_topic, value)


def message(topic: str, value: PublishedValue) -> Outgoing:
    """``value`` as a message of ``topic``, in the one envelope (``envelope_of``): what
    ``channel.connected``, the lifecycle events and the routing values are all sent as."""
    envelope = envelope_of(value)
    return Outgoing(topic, envelope.key, value.value(), envelope.headers)


def tombstone(topic: str, phone_number: str) -> Outgoing:
    """The routing feed's tombstone for ``phone_number`` (no value)."""
    envelope = tombstone_envelope(phone_number)
    return Outgoing(topic, envelope.key, None, envelope.headers)


class ChannelFeedsRelay(LogRelay):
    """Publishes the lifecycle events and the routing feed from the event log."""

    name = FEEDS_RELAY_NAME

    def __init__(
        self,
        application: SmsChannels,
        conninfo: str,
        bootstrap_servers: str,
        *,
        events_topic: str,
        routing_topic: str,
        batch_size: int = 500,
        safety_poll_seconds: float = SAFETY_POLL_SECONDS,
    ) -> None:
        super().__init__(application, conninfo, bootstrap_servers, batch_size=batch_size,
                         safety_poll_seconds=safety_poll_seconds)  # fmt: skip
        self.events_topic = events_topic
        self.routing_topic = routing_topic
        self._state: RoutingState | None = None
        # Connections as they stood at a version, kept from batch to batch (a fact of the
        # past never changes): the next fact of a connection finds its "before" here.
        self._remembered: dict[tuple[UUID, int], Any] = {}

    def prepare(self, connection: psycopg.Connection[Any]) -> None:
        connection.execute(CREATE_ROUTING_STATE)

    def messages_for(self, notifications: Sequence[Notification]) -> list[Outgoing]:
        self._state = RoutingState(self._connection())
        builder = FeedBuilder(
            self.application,
            self._state,
            self.events_topic,
            self.routing_topic,
            remembered=self._remembered,
        )
        return builder.messages(notifications)

    def record_state(self) -> None:
        if self._state is not None:
            self._state.save()
            self._state = None


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
        safety_poll_seconds: float = SAFETY_POLL_SECONDS,
    ) -> None:
        super().__init__(application, conninfo, bootstrap_servers, batch_size=batch_size,
                         safety_poll_seconds=safety_poll_seconds)  # fmt: skip
        self.topic = topic

    def messages_for(self, notifications: Sequence[Notification]) -> list[Outgoing]:
        return [
            message(
                self.topic,
                channel_connected(self.application, n.originator_id, n.originator_version),
            )
            for n in notifications
            if n.topic == CONNECTED_TOPIC
        ]
