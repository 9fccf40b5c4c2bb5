"""The operator's decision to skip an event (``domain/operator_decisions.py``), in memory:
its id is derived from (projection, position) and nothing else, it records what it was
given after the text rule, and ``skip_decisions`` reads every decision of the log, oldest
first, across pages and past other events."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from domain.errors import InvalidTextError
from domain.operator_decisions import (
    PROJECTION_SKIPS_NAMESPACE,
    REASON_MAX_LENGTH,
    ProjectionSkip,
    projection_skip_id,
    skip_decisions,
)

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
EVENT_ID = UUID("00000000-0000-4000-8000-000000000001")


class Other(Aggregate):
    """An aggregate of another kind: its events are in the log, not decisions."""


def decision(
    projection: str = "channels_table", position: int = 7, **more: object
) -> ProjectionSkip:
    given: dict[str, object] = {
        "projection": projection,
        "position": position,
        "event_id": EVENT_ID,
        "topic": "domain.sms_connections:SmsConnection.AgentAssigned",
        "reason": "NUL in an agent id written by release 1.2",
        "decided_by": "ops@example.com",
    }
    return ProjectionSkip.decide(**{**given, **more})  # type: ignore[arg-type]


def test_the_id_is_the_uuid5_of_projection_and_position_in_the_fixed_namespace() -> None:
    assert UUID("8d1f2a64-0c3b-4e59-b7a1-5f2e9c6d4b17") == PROJECTION_SKIPS_NAMESPACE
    assert projection_skip_id("channels_table", 7) == uuid.uuid5(
        PROJECTION_SKIPS_NAMESPACE, "channels_table:7"
    )
    ids = {projection_skip_id(p, n) for p in ("a", "b") for n in (1, 2)}
    assert len(ids) == 4


def test_a_decision_records_what_it_was_given_under_its_derived_id() -> None:
    skip = decision()
    assert skip.id == projection_skip_id("channels_table", 7)
    assert (skip.projection, skip.position, skip.event_id) == ("channels_table", 7, EVENT_ID)
    assert skip.topic == "domain.sms_connections:SmsConnection.AgentAssigned"
    assert skip.reason == "NUL in an agent id written by release 1.2"
    assert skip.decided_by == "ops@example.com"
    assert decision(event_id=None, topic=None).event_id is None


def test_a_decision_replays_to_the_same_state() -> None:
    skip = decision()
    (created,) = skip.collect_events()
    replayed = created.mutate(None)
    assert replayed.__dict__ == skip.__dict__


def test_the_operator_id_must_be_an_id_and_names_its_field() -> None:
    with pytest.raises(InvalidTextError) as refused:
        decision(decided_by="ops team\n")
    assert refused.value.field == "by"


@pytest.mark.parametrize("reason", ["a\x00b", "\u202eevil"])
def test_the_reason_passes_the_free_text_rule_and_names_its_field(reason: str) -> None:
    with pytest.raises(InvalidTextError) as refused:
        decision(reason=reason)
    assert refused.value.field == "reason"


def test_the_reason_is_capped_at_its_maximum_length() -> None:
    assert decision(reason="x" * REASON_MAX_LENGTH).reason == "x" * REASON_MAX_LENGTH
    with pytest.raises(InvalidTextError) as refused:
        decision(reason="x" * (REASON_MAX_LENGTH + 1))
    assert (refused.value.field, refused.value.rule) == ("reason", "too_long")
    assert decision(reason="line one\nline two").reason == "line one\nline two"


@pytest.mark.parametrize("page", [1, 2, 3, 500])
def test_skip_decisions_reads_every_decision_in_log_order_across_pages(page: int) -> None:
    app: Application[UUID] = Application(env=POPO)
    positions = [3, 1, 9, 4, 2]
    for index, position in enumerate(positions):
        app.save(decision(position=position))
        if index % 2 == 0:  # other events in between are not decisions
            app.save(Other())
    found = list(skip_decisions(app, page=page))
    assert [d.position for d in found] == positions
    assert all(isinstance(d, ProjectionSkip.Decided) for d in found)  # type: ignore[attr-defined]


def test_skip_decisions_of_an_empty_log_is_empty() -> None:
    assert list(skip_decisions(Application(env=POPO))) == []
