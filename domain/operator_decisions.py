"""Operator decisions about the event log, recorded as facts in it.

A projection that cannot apply an event (a permanent error: the data, a limit, the
decoding) stops there. An operator who decides that the read model should go on without
that event says so with ``sms-channels projections skip``; the decision is this aggregate,
one per (projection, position), so it is audited (who, when, why, which event) like any
other fact, a second decision on the same event is refused by the store, and every
projection sees it in log order (the channels table marks the affected connection's row).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from domain.text import check_free_text, check_id

# Part of the stored data (the aggregate ids): never change it.
PROJECTION_SKIPS_NAMESPACE = UUID("8d1f2a64-0c3b-4e59-b7a1-5f2e9c6d4b17")
REASON_MAX_LENGTH = 1000


def projection_skip_id(projection: str, position: int) -> UUID:
    """The id of the decision to skip the event at ``position`` in ``projection``."""
    return uuid5(PROJECTION_SKIPS_NAMESPACE, f"{projection}:{position}")


class ProjectionSkip(Aggregate):
    """The decision that ``projection`` goes on without the event at ``position``."""

    class Decided(Aggregate.Created):
        projection: str
        position: int
        event_id: UUID | None
        topic: str | None
        reason: str
        decided_by: str

    @classmethod
    def decide(
        cls,
        *,
        projection: str,
        position: int,
        event_id: UUID | None,
        topic: str | None,
        reason: str,
        decided_by: str,
    ) -> ProjectionSkip:
        """Record the decision; the reason and the operator's id pass the text rule."""
        check_id(decided_by, "by")
        check_free_text(reason, "reason", max_length=REASON_MAX_LENGTH)
        return cls._create(
            cls.Decided,
            id=projection_skip_id(projection, position),
            projection=projection,
            position=position,
            event_id=event_id,
            topic=topic,
            reason=reason,
            decided_by=decided_by,
        )

    @event(Decided)
    def __init__(
        self,
        projection: str,
        position: int,
        event_id: UUID | None,
        topic: str | None,
        reason: str,
        decided_by: str,
    ) -> None:
        self.projection = projection
        self.position = position
        self.event_id = event_id
        self.topic = topic
        self.reason = reason
        self.decided_by = decided_by


def skip_decisions(application: Application[UUID], page: int = 500) -> Iterator[Any]:
    """Every skip decision in the log, oldest first (the ``Decided`` events themselves)."""
    topic = get_topic(ProjectionSkip.Decided)
    start = None
    while True:
        found = application.recorder.select_notifications(
            start=start, limit=page, topics=[topic], inclusive_of_start=False
        )
        for notification in found:
            yield application.mapper.to_domain_event(notification)
        if len(found) < page:
            return
        start = found[-1].id
