"""Replaying the published topics from the event log, for a new consumer or after a topic
was lost (``sms-channels relay replay``).

``replay_events`` re-publishes ``channel.connected`` (``ANALYTICS_TOPIC``) and the
lifecycle events (``CHANNEL_EVENTS_TOPIC``) from a log position, with the ``eventId`` they
had the first time (consumers that saw them skip them). It does not move the relays'
positions. ``rebuild_routing`` republishes the current value of every served number and
makes it the relay's memory of the feed; it takes the channel-feeds relay's lock, so it
runs while that relay is stopped (or standing by).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.application import SmsChannels
from domain.sms_connections import SmsConnection
from projections.tracking import lock_key, try_session_lock
from workers.analytics_relay import CONNECTED_TOPIC, channel_connected, connected_message
from workers.channel_feeds import FEEDS_RELAY_NAME, FeedBuilder, originator
from workers.log_relay import Outgoing, RelayStandbyError, producer_for, send_acked
from workers.routing_state import CREATE_ROUTING_STATE, RoutingState
from workers.topics import TopicNames

REQUESTED = get_topic(SmsConnection.NumberRequested)
BATCH = 500


def notifications_from(
    application: SmsChannels, position: int, topics: Sequence[str] = ()
) -> Iterator[Sequence[Notification]]:
    """The log after ``position``, in batches, up to its head when the replay began."""
    head = application.current_position()
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
    producer, sent = producer_for(servers), 0
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(CREATE_ROUTING_STATE)
            for batch in notifications_from(application, from_position):
                builder = FeedBuilder(application, RoutingState(connection), events_topic, None)
                messages = _analytics(application, topics.analytics, batch) if analytics else []
                messages += builder.messages(batch)
                send_acked(producer, messages)
                sent += len(messages)
    finally:
        producer.close(timeout=5)
    return sent


def _analytics(
    application: SmsChannels, topic: str, batch: Sequence[Notification]
) -> list[Outgoing]:
    return [
        connected_message(topic, channel_connected(application, originator(n),
                                                   n.originator_version))
        for n in batch
        if n.topic == CONNECTED_TOPIC
    ]  # fmt: skip


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
