"""Small domain contracts at their edges, in memory: the fields and words of point-in-time
and phone-number errors, the blank compliance form, conservative capability reasons for
values outside the tables, and request ids."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.capabilities import ConnectionFacts, effective_capabilities
from domain.compliance.shape import check_compliance, empty_compliance
from domain.errors import (
    AreaCodeNotApplicableError,
    ComplianceInvalidError,
    InvalidPhoneNumberError,
    InvalidPointInTimeError,
    PhoneNumberCountryMismatchError,
    UnsupportedCountryError,
)
from domain.ids import sms_request_id
from domain.phone import check_e164
from domain.regions import require_region
from domain.service.compliance_history import PointInTime, parse_as_of

# --- audit: asOf / asOfVersion ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (
            lambda: PointInTime(version=2, at=datetime.now(UTC)),
            "asOf",
            "Give asOf or asOfVersion, not both.",
        ),
        (lambda: PointInTime(version=0), "asOfVersion", "asOfVersion starts at 1."),
        (
            lambda: PointInTime(at=datetime(2025, 1, 31, 9, 30)),
            "asOf",
            "asOf needs a time zone (e.g. Z).",
        ),
        (
            lambda: parse_as_of("yesterday"),
            "asOf",
            "asOf must be an RFC 3339 timestamp with a time zone, e.g. 2025-01-31T09:30:00Z.",
        ),
        (
            lambda: parse_as_of("2025-02-30T09:30:00Z"),
            "asOf",
            "asOf is not a valid date and time (check the day, month and hour).",
        ),
    ],
    ids=["both", "version-0", "naive", "not-rfc3339", "no-such-day"],
)
def test_a_bad_point_in_time_names_its_field_and_rule(
    make: object, field: str, message: str
) -> None:
    with pytest.raises(InvalidPointInTimeError) as refused:
        make()  # type: ignore[operator]
    assert (refused.value.field, refused.value.message) == (field, message)


def test_version_one_and_an_aware_moment_are_points_in_time() -> None:
    assert PointInTime(version=1).given
    assert PointInTime(at=parse_as_of("2025-01-31t09:30:00z")).at == datetime(
        2025, 1, 31, 9, 30, tzinfo=UTC
    )


# --- phone numbers ---------------------------------------------------------------------------


def test_a_malformed_number_is_refused_for_the_field_it_came_in() -> None:
    for number in ("not a number", "+1 415 555 0123", "+1415"):
        with pytest.raises(InvalidPhoneNumberError) as refused:
            check_e164(number, "US", field="brand.contactPhone")
        assert refused.value.field == "brand.contactPhone"


def test_a_number_of_another_country_names_the_chosen_one() -> None:
    with pytest.raises(PhoneNumberCountryMismatchError) as refused:
        check_e164("+442071838750", "US")
    assert refused.value.message == "The phone number does not belong to the chosen country (US)."
    assert check_e164("+442071838750", "GB") == "+442071838750"


# --- regions ---------------------------------------------------------------------------------


def test_region_errors_name_the_country() -> None:
    with pytest.raises(UnsupportedCountryError) as unsupported:
        require_region("ZW")
    assert unsupported.value.country == "ZW"
    with pytest.raises(AreaCodeNotApplicableError) as not_applicable:
        require_region("DE").check_area_code("30")
    assert "DE" in not_applicable.value.message


# --- the blank compliance form -----------------------------------------------------------------


def test_the_blank_form_has_every_field_empty_and_is_a_valid_draft() -> None:
    blank = empty_compliance()
    assert blank["brand"]["displayName"] == ""
    assert set(blank["brand"].values()) == {""}
    campaign = blank["campaign"]
    assert campaign["messageSamples"] == ["", "", "", "", ""]
    # The yes/no questions are unanswered (null), never a recorded "no".
    assert (campaign["termsAndConditions"], campaign["numberPooling"]) == (None, None)
    assert (campaign["messageFlow"], campaign["useCaseType"]) == ("", "")
    assert check_compliance(blank) == blank


def test_a_payload_that_is_not_an_object_is_refused_as_a_whole() -> None:
    with pytest.raises(ComplianceInvalidError) as refused:
        check_compliance(["brand"])
    (problem,) = refused.value.problems
    assert (problem.field, problem.code, problem.message) == (
        "smsCompliance",
        "model_type",
        "Input should be a JSON object",
    )


# --- capabilities: values outside the tables get the conservative reason -----------------------


def facts(status: str, registration_status: str = "approved") -> ConnectionFacts:
    return ConnectionFacts(status, True, "ws", "agent", "US", registration_status)


def test_an_unknown_status_reads_as_not_connected() -> None:
    capabilities = effective_capabilities(facts("provisioning"), None)
    assert (capabilities.ingestion.allowed, capabilities.ingestion.reason) == (
        False,
        "not_connected",
    )


def test_an_unknown_registration_status_reads_as_registration_required() -> None:
    from domain.agent_directory import AgentInfo  # noqa: PLC0415

    agent = AgentInfo("ws", "W", "A", "kb", "KB")
    capabilities = effective_capabilities(facts("connected", "in_review"), agent)
    assert capabilities.ingestion.allowed is True
    assert (capabilities.outbound_replies.allowed, capabilities.outbound_replies.reason) == (
        False,
        "registration_required",
    )


# --- ids ------------------------------------------------------------------------------------------


def test_each_connection_has_its_own_request_id() -> None:
    first, second = uuid4(), uuid4()
    assert sms_request_id(first) == sms_request_id(first)
    assert sms_request_id(first) != sms_request_id(second)


# --- audit history ------------------------------------------------------------------------------


def test_the_history_names_its_connection_and_the_version_it_was_read_at() -> None:
    from domain.application import SmsChannels  # noqa: PLC0415
    from domain.errors import ConnectionNotFoundError  # noqa: PLC0415
    from domain.service.compliance_history import compliance_history, version_as_of  # noqa: PLC0415
    from providers.sandbox import SandboxProvider  # noqa: PLC0415
    from tests.support.compliance_payloads import connect  # noqa: PLC0415

    app = SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    connection_id = connect(app, "acc")
    saved = app.update_compliance("acc", connection_id, {"brand": {"city": "SF"}}, by="u")
    app.update_settings("acc", connection_id, by="u", active=True)
    history = compliance_history(app, connection_id, account_id="acc")
    assert (history.connection_id, history.read_at_version) == (
        connection_id,
        saved.connection.version + 1,
    )
    exact = version_as_of(history, PointInTime(version=saved.connection.version))
    assert exact is not None
    assert exact.version == saved.connection.version
    for account, unknown in (("other", connection_id), ("acc", uuid4())):
        with pytest.raises(ConnectionNotFoundError) as missing:
            compliance_history(app, unknown, account_id=account)
        assert missing.value.connection_id == unknown


def test_a_malformed_number_is_refused_for_phone_number_by_default() -> None:
    with pytest.raises(InvalidPhoneNumberError) as refused:
        check_e164("+1415", "US")
    assert refused.value.field == "phoneNumber"


def test_a_field_of_the_wrong_type_is_named_with_pydantics_generic_words() -> None:
    with pytest.raises(ComplianceInvalidError) as refused:
        check_compliance({"brand": {"city": 5}})
    (problem,) = refused.value.problems
    assert (problem.field, problem.code, problem.message) == (
        "brand.city",
        "string_type",
        "Input should be a valid string",
    )
