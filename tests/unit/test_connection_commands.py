"""Commands of the connection aggregate (``domain/sms_connections.py``) that the life-cycle
machines do not look into: who a move and a replacement record as their actor, the errors a
second replacement gets, and when a level's report records nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.errors import InvalidTransitionError
from domain.registration_levels import LevelState
from domain.sms_connections import SmsConnection


def requested() -> SmsConnection:
    return SmsConnection.request(
        connection_id=uuid.uuid4(),
        account_id="acc_1",
        workspace_id="ws_1",
        agent_id="agent_1",
        mode="new",
        country="US",
        area_code="415",
        phone_number="+14155550100",
        requested_by="u1",
    )


def connected() -> SmsConnection:
    connection = requested()
    connection.mark_connected("sandbox", "PN1")
    return connection


def new_events(connection: SmsConnection) -> list[Any]:
    return list(connection.collect_events())


def test_a_move_within_the_workspace_assigns_the_agent_by_the_mover() -> None:
    connection = connected()
    new_events(connection)
    connection.move("ws_1", "agent_2", by="u7")
    (assigned,) = new_events(connection)
    assert type(assigned).__name__ == "AgentAssigned"
    assert (assigned.agent_id, assigned.assigned_by) == ("agent_2", "u7")
    assert (connection.workspace_id, connection.agent_id) == ("ws_1", "agent_2")


def test_a_move_to_another_workspace_records_the_mover() -> None:
    connection = connected()
    new_events(connection)
    connection.move("ws_2", "agent_9", by="u7")
    (moved,) = new_events(connection)
    assert type(moved).__name__ == "WorkspaceChanged"
    assert (moved.workspace_id, moved.agent_id, moved.changed_by) == ("ws_2", "agent_9", "u7")


def test_a_replacement_records_the_replacement_and_who_asked() -> None:
    connection = connected()
    connection.reclaim("released")
    new_events(connection)
    replacement = uuid.uuid4()
    connection.record_replacement(replacement, by="u7")
    (replaced,) = new_events(connection)
    assert (replaced.replacement_id, replaced.replaced_by) == (replacement, "u7")
    assert connection.replaced_by == replacement


def test_a_connection_that_is_not_reclaimed_or_failed_cannot_be_replaced() -> None:
    connection = connected()
    with pytest.raises(InvalidTransitionError) as refused:
        connection.record_replacement(uuid.uuid4(), by="u7")
    assert refused.value.message == ("Cannot replace the number of a connection that is connected.")


def test_a_connection_is_replaced_only_once() -> None:
    connection = requested()
    connection.mark_failed("provider_rejected", "refused")
    connection.record_replacement(uuid.uuid4(), by="u7")
    with pytest.raises(InvalidTransitionError) as refused:
        connection.record_replacement(uuid.uuid4(), by="u7")
    assert refused.value.message == "Cannot replace the number of a connection that is replaced."


def submitted() -> SmsConnection:
    connection = connected()
    connection.submit_registration(
        by="u1",
        at=datetime.now(UTC),
        digest="d1",
        brand_registration_id=uuid.uuid4(),
        campaign_registration_id=uuid.uuid4(),
        brand=LevelState("submitted"),
        campaign=LevelState("submitted"),
    )
    return connection


def test_a_level_report_without_a_submission_records_nothing() -> None:
    connection = connected()
    new_events(connection)
    connection.record_level("brand", LevelState("approved", None, "BN1"))
    assert new_events(connection) == []
    assert connection.level("brand") == LevelState()


def test_the_same_level_state_again_records_nothing() -> None:
    connection = submitted()
    new_events(connection)
    connection.record_level("brand", LevelState("approved", None, "BN1"))
    connection.record_level("brand", LevelState("approved", None, "BN1"))
    assert [type(e).__name__ for e in new_events(connection)] == ["RegistrationLevelChanged"]
    connection.record_level("campaign", LevelState("submitted"))  # as it already stands
    assert new_events(connection) == []
