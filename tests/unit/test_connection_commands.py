"""Commands of the connection aggregate (``domain/sms_connections.py``) that the life-cycle
machines do not look into: who a move and a replacement record as their actor, the errors a
second replacement gets, and when a level's report records nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.carriers import CarrierState, Throughput
from domain.errors import (
    InvalidTextError,
    InvalidTransitionError,
    RegistrationInProgressError,
    RegistrationUnchangedError,
)
from domain.registration_levels import LevelState, Reason
from domain.sms_connections import REF_MAX_LENGTH, SmsConnection


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


# --- actors and ids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.activate("u 1"),
        lambda c: c.deactivate("u 1"),
        lambda c: c.assign_agent("agent_2", "u 1"),
        lambda c: c.update_compliance({"brand": {"city": "Oakland"}}, "u 1"),
        lambda c: c.submit_registration(
            by="u 1",
            at=datetime.now(UTC),
            digest="d",
            brand_registration_id=uuid.uuid4(),
            campaign_registration_id=uuid.uuid4(),
            brand=LevelState("submitted"),
            campaign=LevelState("submitted"),
        ),
    ],
    ids=["activate", "deactivate", "assign_agent", "update_compliance", "submit_registration"],
)
def test_every_command_checks_its_actor_as_the_sub_claim(command: Any) -> None:
    with pytest.raises(InvalidTextError) as refused:
        command(connected())
    assert refused.value.field == "sub"


def test_an_assigned_agent_id_is_checked_under_its_field() -> None:
    with pytest.raises(InvalidTextError) as refused:
        connected().assign_agent("agent 2", "u1")
    assert refused.value.field == "agentId"


# --- submissions ---------------------------------------------------------------------------


def submit(connection: SmsConnection, digest: str = "d1", **levels: LevelState) -> None:
    connection.submit_registration(
        by="u1",
        at=AT,
        digest=digest,
        brand_registration_id=uuid.uuid4(),
        campaign_registration_id=uuid.uuid4(),
        brand=levels.get("brand", LevelState("submitted")),
        campaign=levels.get("campaign", LevelState("submitted")),
    )


AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_submission_records_when_and_the_shared_levels_as_they_stand() -> None:
    connection = connected()
    brand = LevelState("approved", "APPROVED", "BN1", (Reason("1", "ok", ("a.b",)),), "VERIFIED")
    campaign = LevelState("rejected", "FAILED", "CM1", (Reason("2", "no"),))
    submit(connection, brand=brand, campaign=campaign)
    assert connection.submission is not None
    assert connection.submission.submitted_at == AT
    assert (connection.level("brand"), connection.level("campaign")) == (brand, campaign)
    replayed: Any = None
    for event in connection.collect_events():
        replayed = event.mutate(replayed)
    assert (replayed.level("brand"), replayed.level("campaign")) == (brand, campaign)


def test_a_submission_records_what_each_carrier_said_and_the_throughput_of_its_levels() -> None:
    connection = connected()
    brand = LevelState("approved", None, "BN1", throughput=Throughput(brand_score=77))
    campaign = LevelState(
        "pending",
        "IN_PROGRESS",
        "CM1",
        carriers=(CarrierState("att", "approved"), CarrierState("tmobile", "pending")),
        throughput=Throughput(tmobile_tier="LOW", tmobile_daily_cap=2000, att_tpm=240),
    )
    submit(connection, brand=brand, campaign=campaign)
    assert (connection.level("brand"), connection.level("campaign")) == (brand, campaign)
    replayed: Any = None
    for event in connection.collect_events():
        replayed = event.mutate(replayed)
    assert (replayed.level("brand"), replayed.level("campaign")) == (brand, campaign)


def test_only_a_connected_number_submits_and_the_refusal_says_so() -> None:
    with pytest.raises(InvalidTransitionError) as refused:
        submit(requested())
    assert refused.value.message == (
        "Cannot submit the registration of a connection that is requested."
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("submitted", RegistrationInProgressError),
        ("pending", RegistrationInProgressError),
        ("action_required", RegistrationInProgressError),
        ("approved", RegistrationUnchangedError),
        ("rejected", RegistrationUnchangedError),
    ],
)
def test_an_unchanged_payload_is_refused_in_flight_or_once_decided(
    status: Any, error: type[Exception]
) -> None:
    connection = connected()
    submit(connection)
    for level in ("brand", "campaign", "number"):
        connection.record_level(level, LevelState(status, None, f"{level}_ref"))  # type: ignore[arg-type]
    assert connection.registration_status == status
    with pytest.raises(error):
        submit(connection)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"account_id": "acc 1"}, "acc"),
        ({"workspace_id": "ws 1"}, "workspaceId"),
        ({"agent_id": "agent 1"}, "agentId"),
        ({"requested_by": "u 1"}, "sub"),
    ],
)
def test_a_request_checks_each_id_under_its_field(bad: dict[str, str], field: str) -> None:
    given: dict[str, Any] = {
        "connection_id": uuid.uuid4(), "account_id": "acc_1", "workspace_id": "ws_1",
        "agent_id": "agent_1", "mode": "new", "country": "US", "area_code": "415",
        "phone_number": "+14155550100", "requested_by": "u1",
    }  # fmt: skip
    with pytest.raises(InvalidTextError) as refused:
        SmsConnection.request(**{**given, **bad})
    assert refused.value.field == field


def test_a_delete_checks_its_actor_as_the_sub_claim() -> None:
    with pytest.raises(InvalidTextError) as refused:
        connected().delete("u 1")
    assert refused.value.field == "sub"


def test_provider_references_are_ids_up_to_their_own_cap() -> None:
    long_ref = "P" * REF_MAX_LENGTH
    connection = requested()
    connection.record_hosting_started("sandbox", long_ref)
    assert connection.hosting_order_ref == long_ref
    with pytest.raises(InvalidTextError) as order:
        requested().record_hosting_started("sandbox", "P" * (REF_MAX_LENGTH + 1))
    assert (order.value.field, order.value.rule) == ("orderRef", "too_long")
    connection = requested()
    connection.mark_connected("sandbox", long_ref)
    assert connection.provider_ref == long_ref
    with pytest.raises(InvalidTextError) as number:
        requested().mark_connected("sandbox", "P" * (REF_MAX_LENGTH + 1))
    assert (number.value.field, number.value.rule) == ("providerRef", "too_long")


def test_a_failures_code_is_cut_at_64_characters() -> None:
    connection = requested()
    connection.mark_failed("c" * 100, "refused")
    assert connection.failure_code == "c" * 64
