"""Replaying the published topics from the event log, for a new consumer or after a topic
was lost (``sms-channels relay replay``).

``replay_events`` re-publishes ``channel.connected`` (``ANALYTICS_TOPIC``) and the
lifecycle events (``CHANNEL_EVENTS_TOPIC``) from a log position, with the ``eventId`` they
had the first time (consumers that saw them skip them), those a directory fact caused
included: each reaches the connections served with the agent at that point of the log, as
they stood then (``AgentUsers``), whatever is served now. It does not move the relays'
positions. ``rebuild_routing`` republishes the current value of every served number and
makes it the relay's memory of the feed; it takes the channel-feeds relay's lock, so it
runs while that relay is stopped (or standing by).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.application import SmsChannels
from domain.sms_connections import SmsConnection
from projections.tracking import lock_key, try_session_lock
from workers.feeds.relay import (
    CONNECTED_TOPIC,
    FEEDS_RELAY_NAME,
    AgentUsers,
    FeedBuilder,
    kind_of,
    message,
    originator,
)
from workers.feeds.routing_state import CREATE_ROUTING_STATE, RoutingState
from workers.feeds.topics import TopicNames
from workers.feeds.values import channel_connected
from workers.log_relay import Outgoing, RelayStandbyError, producer_for, send_acked

REQUESTED = get_topic(SmsConnection.NumberRequested)
BATCH = 500


def notifications_from(
    application: SmsChannels, position: int, topics: Sequence[str] = (), stop: int | None = None
) -> Iterator[Sequence[Notification]]:
    """The log after ``position``, in batches, up to ``stop`` (default: its head when the
    replay began)."""
    head = application.current_position() if stop is None else stop
    while position < head:
        batch = application.recorder.select_notifications(
            start=position, limit=BATCH, stop=head, topics=topics, inclusive_of_start=False
        )
        if not batch:
            return
        yield batch
        position = batch[-1].id


def replay_events(
    application: SmsChannels,
    conninfo: str,
    servers: str,
    topics: TopicNames,
    *,
    only: str | None = None,
    from_position: int = 0,
) -> int:
    """Re-publish the events of ``topics`` (``only`` one of them) after ``from_position``;
    returns how many messages were acked."""
    analytics = only in (None, topics.analytics)
    events_topic = topics.channel_events if only in (None, topics.channel_events) else None
    users = users_at(application, from_position)
    producer, sent = producer_for(servers), 0
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(CREATE_ROUTING_STATE)
            for batch in notifications_from(application, from_position):
                state = RoutingState(connection)
                builder = FeedBuilder(application, state, events_topic, None, users=users)
                messages = _analytics(application, topics.analytics, batch) if analytics else []
                messages += builder.messages(batch)
                send_acked(producer, messages)
                sent += len(messages)
    finally:
        producer.close(timeout=5)
    return sent


def users_at(application: SmsChannels, position: int) -> AgentUsers:
    """Which connections served a number with which agent at ``position`` of the log (each
    connection read once, at its last version up to there): where a replay from there
    starts, so that a directory fact replayed reaches the connections it reached then."""
    last: dict[UUID, int] = {}
    for batch in notifications_from(application, 0, stop=position):
        for notification in batch:
            if issubclass(kind_of(notification), SmsConnection.Event):
                last[originator(notification)] = notification.originator_version
    users = AgentUsers()
    for channel_id, version in last.items():
        users.record(application.repository.get(channel_id, version=version))
    return users


def _analytics(
    application: SmsChannels, topic: str, batch: Sequence[Notification]
) -> list[Outgoing]:
    return [
        message(topic, channel_connected(application, originator(n), n.originator_version))
        for n in batch
        if n.topic == CONNECTED_TOPIC
    ]


def rebuild_routing(application: SmsChannels, conninfo: str, servers: str, topic: str) -> int:
    """Republish the current value of every served number; returns how many."""
    position = application.current_position()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        _lock(connection)
        connection.execute(CREATE_ROUTING_STATE)
        state = RoutingState(connection, replace=True)
        builder = FeedBuilder(application, state, None, topic)
        messages = [
            message
            for batch in notifications_from(application, 0, (REQUESTED,))
            for n in batch
            if (message := builder.routing_change(builder.current(originator(n)), position))
        ]
        producer = producer_for(servers)
        try:
            send_acked(producer, messages)
        finally:
            producer.close(timeout=5)
        with connection.transaction():
            state.save()
    return len(messages)


def _lock(connection: psycopg.Connection[Any]) -> None:
    if not try_session_lock(connection, lock_key(FEEDS_RELAY_NAME)):
        raise RelayStandbyError
