"""The registration facts of a connection (``domain/registration_history.py``), read from the
aggregate's own events: one fact per submission, per level change and per status reported
for the whole connection, each with its version, time, actor, level, status, raw status,
reasons, the compliance version then in effect, and the connection's status after it.

The expected facts are written out by hand from the commands given (an oracle independent of
the module), not recomputed from the events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.registration_levels import LevelState, Reason
from domain.service.registration_history import RegistrationFact, registration_facts
from domain.sms_connections import SmsConnection
from tests.support.compliance_payloads import GOOD

BRAND_ID, CAMPAIGN_ID = uuid.uuid4(), uuid.uuid4()
REASON = Reason("30794", "Brand info mismatch", ("brand.ein",))


def connected() -> SmsConnection:
    connection = SmsConnection.request(
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
    connection.mark_connected("sandbox", "PN1")
    connection.update_compliance(GOOD, by="u1")  # version 3
    return connection


def submit(connection: SmsConnection, by: str = "u1", digest: str = "d1") -> None:
    connection.submit_registration(
        by=by,
        at=datetime.now(UTC),
        digest=digest,
        brand_registration_id=BRAND_ID,
        campaign_registration_id=CAMPAIGN_ID,
        brand=LevelState("submitted"),
        campaign=LevelState("submitted"),
    )


def facts(connection: SmsConnection) -> list[RegistrationFact]:
    events = connection.collect_events()
    found = registration_facts(events)
    by_version = {e.originator_version: e.timestamp for e in events}
    assert all(f.at == by_version[f.version] for f in found)  # each fact at its event's time
    return found


def row(fact: RegistrationFact) -> tuple[Any, ...]:
    return (
        fact.version,
        fact.actor,
        fact.type,
        fact.level,
        fact.status,
        fact.raw_status,
        fact.reasons,
        fact.submitted_version,
        fact.registration_status,
    )


def test_a_connection_without_registration_events_has_no_facts() -> None:
    assert facts(connected()) == []


def test_a_status_reported_for_the_whole_connection_is_a_connection_level_fact() -> None:
    connection = connected()
    connection.change_registration_status(
        "rejected", raw_status="FAILED", reason="Opt-in missing", provider_ref="QE1"
    )
    connection.change_registration_status(
        "approved", raw_status="VERIFIED", reason=None, provider_ref="QE1"
    )
    assert [row(f) for f in facts(connection)] == [
        (4, "provider", "registration.changed", "connection", "rejected", "FAILED",
         (Reason("", "Opt-in missing"),), None, "rejected"),
        (5, "provider", "registration.changed", "connection", "approved", "VERIFIED",
         (), None, "approved"),
    ]  # fmt: skip


def test_a_submission_and_each_level_change_name_the_version_submitted() -> None:
    connection = connected()
    submit(connection, by="operator_7")
    connection.record_level("brand", LevelState("pending", "PENDING", "BN1"))
    connection.record_level("brand", LevelState("rejected", "FAILED", "BN1", (REASON,)))
    assert [row(f) for f in facts(connection)] == [
        (4, "operator_7", "registration.submitted", "submission", "submitted", None, (), 3,
         "submitted"),
        (5, "provider", "registration.changed", "brand", "pending", "PENDING", (), 3,
         "pending"),
        (6, "provider", "registration.changed", "brand", "rejected", "FAILED", (REASON,), 3,
         "rejected"),
    ]  # fmt: skip


def test_after_a_new_submission_later_facts_name_the_new_version() -> None:
    connection = connected()
    submit(connection)
    connection.record_level("campaign", LevelState("rejected", "FAILED", "CM1"))
    edited = {**GOOD, "campaign": {**GOOD["campaign"], "optInKeywords": "START,GO"}}
    connection.update_compliance(edited, by="u2")  # version 6
    submit(connection, by="u2", digest="d2")  # version 7
    connection.record_level("number", LevelState("pending", "IN_REVIEW", "MG1"))
    found = facts(connection)
    assert [(f.version, f.type, f.level, f.submitted_version) for f in found] == [
        (4, "registration.submitted", "submission", 3),
        (5, "registration.changed", "campaign", 3),
        (7, "registration.submitted", "submission", 6),
        (8, "registration.changed", "number", 6),
    ]
    assert [f.actor for f in found] == ["u1", "provider", "u2", "provider"]


def test_a_report_before_any_submission_has_no_submitted_version_and_later_ones_do() -> None:
    connection = connected()
    connection.change_registration_status(
        "pending", raw_status=None, reason=None, provider_ref=None
    )
    submit(connection)
    found = facts(connection)
    assert [(f.level, f.submitted_version, f.raw_status) for f in found] == [
        ("connection", None, None),
        ("submission", 4, None),
    ]


def test_a_stored_report_after_a_submission_names_the_version_it_submitted() -> None:
    """Code before 766a841 recorded a whole-connection report after a submission (now such
    a report records nothing); records written then still read with their submission."""
    connection = connected()
    submit(connection)
    connection._registration_status_changed(
        status="approved", raw_status="APPROVED", reason=None, provider_ref=None
    )
    found = facts(connection)
    assert [(f.level, f.submitted_version) for f in found][-1] == ("connection", 3)


def test_a_vetting_request_is_a_brand_fact_of_its_user_with_the_status_then() -> None:
    connection = connected()
    submit(connection)
    for level, ref in (("brand", "BN1"), ("campaign", "CM1"), ("number", "MG1")):
        connection.record_level(level, LevelState("approved", "APPROVED", ref))  # type: ignore[arg-type]
    connection.request_secondary_vetting(by="operator_7")
    found = facts(connection)
    assert [row(f) for f in found][-2:] == [
        (7, "provider", "registration.changed", "number", "approved", "APPROVED", (), 3,
         "approved"),
        (8, "operator_7", "registration.vetting_requested", "brand", "requested", None, (), 3,
         "approved"),
    ]  # fmt: skip
    assert found[-1].actor_type == "user"
