"""Each rule of the SmsConnection aggregate, by name, in memory."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import (
    AgentRequiredError,
    ComplianceInvalidError,
    ConnectionDeletedError,
    InvalidAreaCodeError,
    InvalidCountryError,
    InvalidPhoneNumberError,
    InvalidRegistrationStatusError,
    InvalidTransitionError,
    NotConnectedError,
    PhoneNumberCountryMismatchError,
)
from domain.sms_connections import SmsConnection


def requested(**overrides: object) -> SmsConnection:
    fields: dict[str, object] = {
        "connection_id": uuid4(),
        "account_id": "acc",
        "workspace_id": "ws",
        "agent_id": "agent",
        "mode": "new",
        "country": "US",
        "area_code": "415",
        "phone_number": "+14155550123",
        "requested_by": "user",
    }
    fields.update(overrides)
    return SmsConnection.request(**fields)  # type: ignore[arg-type]


def connected() -> SmsConnection:
    connection = requested()
    connection.mark_connected("sandbox", "PN1")
    return connection


def test_a_connection_without_an_agent_is_refused() -> None:
    with pytest.raises(AgentRequiredError):
        requested(agent_id="")


def test_assigning_an_empty_agent_is_refused() -> None:
    connection = connected()
    with pytest.raises(AgentRequiredError):
        connection.assign_agent("", by="user")
    assert connection.agent_id == "agent"


@pytest.mark.parametrize("number", ["14155550123", "+1 415 555 0123", "(415) 555-0123", "+1415"])
def test_a_number_not_in_e164_form_is_refused(number: str) -> None:
    with pytest.raises(InvalidPhoneNumberError):
        requested(phone_number=number)


def test_a_number_of_another_country_is_refused() -> None:
    with pytest.raises(PhoneNumberCountryMismatchError):
        requested(country="CA")  # +1 415 is a US area code


def test_an_unknown_country_is_refused() -> None:
    with pytest.raises(InvalidCountryError):
        requested(country="XX")


def test_a_malformed_area_code_is_refused() -> None:
    with pytest.raises(InvalidAreaCodeError):
        requested(area_code="41a")


def test_a_new_connection_is_requested_inactive_and_not_submitted() -> None:
    connection = requested()
    assert (connection.status, connection.active) == ("requested", False)
    assert connection.registration_status == "not_submitted"


def test_activation_needs_a_connected_number() -> None:
    connection = requested()
    with pytest.raises(NotConnectedError):
        connection.activate(by="user")
    assert connection.active is False


def test_activation_of_a_connected_number_with_an_agent_switches_it_on() -> None:
    connection = connected()
    connection.activate(by="user")
    assert connection.active is True


def test_reclaim_deactivates_and_marks_reclaimed() -> None:
    connection = connected()
    connection.activate(by="user")
    connection.reclaim("expired")
    assert (connection.status, connection.active, connection.reclaim_reason) == (
        "reclaimed",
        False,
        "expired",
    )
    assert connection.holds_number is False


def test_a_reclaimed_number_cannot_be_activated() -> None:
    connection = connected()
    connection.reclaim("reclaimed")
    with pytest.raises(NotConnectedError):
        connection.activate(by="user")


def test_reclaim_is_idempotent() -> None:
    connection = connected()
    connection.reclaim("released")
    version = connection.version
    connection.reclaim("released")
    assert connection.version == version


def test_a_failed_connection_cannot_be_connected_later() -> None:
    connection = requested()
    connection.mark_failed("number_unavailable", "sold")
    with pytest.raises(InvalidTransitionError):
        connection.mark_connected("sandbox", "PN1")


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.assign_agent("other", by="u"),
        lambda c: c.activate(by="u"),
        lambda c: c.deactivate(by="u"),
        lambda c: c.update_compliance({"brand": {}}, by="u"),
        lambda c: c.delete(by="u"),
        lambda c: c.mark_connected("sandbox", "PN2"),
        lambda c: c.mark_failed("x", "y"),
        lambda c: c.reclaim("expired"),
        lambda c: c.change_registration_status(
            "approved", raw_status=None, reason=None, provider_ref=None
        ),
        lambda c: c.record_hosting_started("sandbox", "HR1"),
    ],
)
def test_a_deleted_connection_refuses_every_command(command: object) -> None:
    connection = connected()
    connection.delete(by="user")
    version = connection.version
    with pytest.raises(ConnectionDeletedError):
        command(connection)  # type: ignore[operator]
    assert connection.version == version


def test_compliance_stays_editable_when_reclaimed_or_failed() -> None:
    reclaimed = connected()
    reclaimed.reclaim("expired")
    reclaimed.update_compliance({"campaign": {"optOutMessage": "Reply STOP"}}, by="user")
    failed = requested()
    failed.mark_failed("number_unavailable", "sold")
    failed.update_compliance({"campaign": {"helpMessage": "Reply HELP"}}, by="user")
    assert reclaimed.compliance is not None
    assert failed.compliance is not None


def test_operator_edits_never_change_the_registration_status() -> None:
    connection = connected()
    connection.change_registration_status(
        "approved", raw_status="VERIFIED", reason=None, provider_ref="CM1"
    )
    connection.update_compliance({"brand": {"displayName": "Acme"}}, by="user")
    connection.assign_agent("other", by="user")
    assert connection.registration_status == "approved"


def test_an_edit_after_submission_marks_changed_since_submission() -> None:
    connection = connected()
    connection.update_compliance({"brand": {"displayName": "Acme"}}, by="user")
    assert connection.changed_since_submission is False
    connection.change_registration_status(
        "submitted", raw_status=None, reason=None, provider_ref="BN1"
    )
    connection.update_compliance({"brand": {"displayName": "Acme Inc"}}, by="user")
    assert connection.changed_since_submission is True


def test_an_unknown_registration_status_is_refused() -> None:
    connection = connected()
    with pytest.raises(InvalidRegistrationStatusError):
        connection.change_registration_status(
            "APPROVED!", raw_status=None, reason=None, provider_ref=None
        )


def test_compliance_is_stored_exactly_as_entered() -> None:
    payload = {
        "brand": {"displayName": "  acme ", "entity": ""},
        "campaign": {"messageSamples": ["b", None, "a"]},
    }
    connection = connected()
    connection.update_compliance(payload, by="user")
    assert connection.compliance == payload


def test_an_unchanged_compliance_payload_records_nothing() -> None:
    connection = connected()
    connection.update_compliance({"brand": {"displayName": "Acme"}}, by="user")
    version = connection.version
    connection.update_compliance({"brand": {"displayName": "Acme"}}, by="user")
    assert connection.version == version


def test_compliance_update_records_the_changed_field_names() -> None:
    connection = connected()
    connection.update_compliance({"brand": {"displayName": "Acme", "city": "SF"}}, by="user")
    connection.update_compliance(
        {"brand": {"displayName": "Acme", "city": "LA"}, "campaign": {"termsAndConditions": True}},
        by="user",
    )
    last = connection.collect_events()[-1]
    assert last.changed_fields == ["brand.city", "campaign.termsAndConditions"]  # type: ignore[attr-defined]


def test_a_compliance_payload_of_the_wrong_shape_is_refused_and_changes_nothing() -> None:
    connection = connected()
    version = connection.version
    with pytest.raises(ComplianceInvalidError):
        connection.update_compliance({"brand": {"displayNam": "typo"}}, by="user")
    assert (connection.version, connection.compliance) == (version, None)
