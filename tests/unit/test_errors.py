"""Every domain error's contract, as problem+json carries it: the stable ``code``, the
``field`` at fault (as the API spells it) and the ``detail`` message, which quotes no submitted
value. A change here is a client-visible change: update the OpenAPI document and docs too."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from domain import errors as e
from domain import providers as p

PROBLEM = e.FieldProblem("brand.city", "too_long", "too long")
CONNECTION = UUID("00000000-0000-0000-0000-0000000000c1")

# Factories, not instances: each test builds its error (the mutation run swaps the code
# under test after the test modules were imported).
CONTRACTS: list[tuple[Callable[[], e.DomainError], str, str | None, str]] = [
    (
        e.AgentRequiredError,
        "agent_required",
        "agentId",
        "An agent is required for an SMS connection.",
    ),
    (
        lambda: e.AreaCodeNotApplicableError("GB"),
        "invalid_area_code",
        "areaCode",
        "Area-code search does not apply in GB; leave the area code out.",
    ),
    (
        lambda: e.ComplianceInvalidError([PROBLEM]),
        "validation_error",
        None,
        "The compliance payload is not valid.",
    ),
    (
        lambda: e.ConnectionDeletedError(CONNECTION),
        "connection_deleted",
        None,
        "Connection 00000000-0000-0000-0000-0000000000c1 was deleted; it accepts no commands.",
    ),
    (
        lambda: e.ConnectionNotFoundError(CONNECTION),
        "connection_not_found",
        None,
        "Connection 00000000-0000-0000-0000-0000000000c1 was not found.",
    ),
    (
        e.IdempotencyKeyReusedError,
        "idempotency_key_reused",
        "Idempotency-Key",
        "This Idempotency-Key was already used for a different request.",
    ),
    (
        e.InvalidAreaCodeError,
        "invalid_area_code",
        "areaCode",
        "The area code must be 2 to 5 digits.",
    ),
    (
        e.InvalidCountryError,
        "invalid_country",
        "countryCode",
        "The country must be an ISO 3166 alpha-2 code, e.g. US.",
    ),
    (
        lambda: e.InvalidNumberSearchError("limit", "limit must be between 1 and 100."),
        "invalid_number_search",
        "limit",
        "limit must be between 1 and 100.",
    ),
    (
        e.InvalidPhoneNumberError,
        "invalid_phone_number",
        "phoneNumber",
        "The phone number must be a valid number in E.164 form, e.g. +14155550123.",
    ),
    (
        lambda: e.InvalidPhoneNumberError("brand.contactPhone"),
        "invalid_phone_number",
        "brand.contactPhone",
        "The phone number must be a valid number in E.164 form, e.g. +14155550123.",
    ),
    (
        lambda: e.InvalidPointInTimeError("asOf", "asOf is not a time."),
        "invalid_point_in_time",
        "asOf",
        "asOf is not a time.",
    ),
    (
        e.InvalidRegistrationStatusError,
        "invalid_registration_status",
        "status",
        "Unknown registration status.",
    ),
    (
        lambda: e.InvalidTransitionError("connect", "failed"),
        "invalid_transition",
        None,
        "Cannot connect a connection that is failed.",
    ),
    (
        lambda: e.NotConnectedError("reclaimed"),
        "not_connected",
        None,
        "Only a connected number can be activated; this connection is reclaimed.",
    ),
    (
        e.NumberAlreadyConnectedError,
        "number_already_connected",
        "phoneNumber",
        "This number is already connected. Pick another number or delete the existing"
        " connection first.",
    ),
    (
        lambda: e.PhoneNumberCountryMismatchError("US"),
        "phone_number_country_mismatch",
        "phoneNumber",
        "The phone number does not belong to the chosen country (US).",
    ),
    (
        lambda: e.ProvisioningFailedError("provisioning_interrupted"),
        "provisioning_failed",
        None,
        "This request failed (provisioning_interrupted); start again with a new request.",
    ),
    (
        lambda: e.UnsupportedCountryError("ZZ"),
        "unsupported_country",
        "countryCode",
        "SMS numbers in ZZ are not supported; GET /channels/sms/countries lists the"
        " supported countries.",
    ),
    (
        lambda: e.VersionConflictError(3, 4),
        "version_conflict",
        None,
        "The connection was changed since you read it: reload it and apply your change again.",
    ),
    (
        lambda: e.UnknownAgentError("ws_7"),
        "unknown_agent",
        "agentId",
        "The agent is not in the directory of workspace 'ws_7'.",
    ),
    (
        lambda: e.RegistrationNotRequiredError("GB"),
        "registration_not_required",
        "countryCode",
        "Numbers of GB need no 10DLC registration: there is nothing to submit.",
    ),
    (
        e.RegistrationInProgressError,
        "registration_in_progress",
        None,
        "This payload is already being registered; wait for the provider's decision.",
    ),
    (
        e.RegistrationUnchangedError,
        "registration_unchanged",
        None,
        "The provider already decided on this payload: change it before submitting again.",
    ),
    (
        e.StaleReportError,
        "report_stale",
        None,
        "The provider dated this report earlier than the latest one applied.",
    ),
    (
        lambda: e.PreflightFailedError([PROBLEM]),
        "preflight_failed",
        None,
        "The compliance payload would likely be refused: fix the listed fields first.",
    ),
    (
        lambda: p.RegistrationUnsupportedError("twilio"),
        "registration_not_supported",
        None,
        "The twilio adapter cannot register 10DLC brands and campaigns yet.",
    ),
    (
        lambda: p.RegistrationNotReadyError("The brand is not approved yet."),
        "registration_not_ready",
        None,
        "The brand is not approved yet.",
    ),
    (
        p.BadAreaCodeError,
        "invalid_area_code",
        "areaCode",
        "The provider does not offer numbers by this area code in this country.",
    ),
    (
        lambda: p.ComplianceRestrictedError("an address is needed"),
        "compliance_restricted",
        "countryCode",
        "The provider restricts numbers here: an address is needed",
    ),
    (
        p.NumberUnavailableError,
        "number_unavailable",
        "phoneNumber",
        "This number is no longer available at the provider: search again and pick another.",
    ),
    (
        lambda: p.ProviderRejectedError("21422"),
        "provider_rejected",
        None,
        "The SMS provider refused the request (provider code 21422).",
    ),
    (
        lambda: p.ProviderUnavailableError(0),
        "provider_unavailable",
        None,
        "The SMS provider is unavailable; try again shortly.",
    ),
    (
        p.UnknownProviderError,
        "unknown_provider",
        None,
        "This deployment takes no webhooks from that provider.",
    ),
    (lambda: p.WebhookPayloadError("bad body"), "webhook_payload_invalid", None, "bad body"),
    (
        p.WebhookRejectedError,
        "webhook_signature_invalid",
        None,
        "The webhook signature is missing or wrong.",
    ),
    (
        lambda: p.WebhookStaleError(300),
        "webhook_timestamp_out_of_window",
        None,
        "The webhook timestamp is more than 300 seconds from now.",
    ),
]


@pytest.mark.parametrize(
    ("make", "code", "field", "message"), CONTRACTS, ids=[type(c[0]()).__name__ for c in CONTRACTS]
)
def test_each_error_has_its_code_field_and_message(
    make: Callable[[], e.DomainError], code: str, field: str | None, message: str
) -> None:
    error = make()
    assert (error.code, error.field, error.message, str(error)) == (code, field, message, message)


def test_errors_keep_the_facts_callers_read() -> None:
    assert e.ComplianceInvalidError([PROBLEM]).problems == [PROBLEM]
    assert e.ConnectionDeletedError(CONNECTION).connection_id == CONNECTION
    assert e.ConnectionNotFoundError(CONNECTION).connection_id == CONNECTION
    assert e.NotConnectedError("reclaimed").status == "reclaimed"
    assert e.ProvisioningFailedError("x").failure_code == "x"
    assert e.UnsupportedCountryError("ZZ").country == "ZZ"
    conflict = e.VersionConflictError(3, 4)
    assert (conflict.expected, conflict.actual) == (3, 4)
    assert p.ProviderRejectedError("21422").provider_code == "21422"
    assert e.PreflightFailedError([PROBLEM]).problems == [PROBLEM]


def test_retry_after_is_at_least_one_second() -> None:
    assert p.ProviderUnavailableError(0).retry_after_seconds == 1
    assert p.ProviderUnavailableError(7).retry_after_seconds == 7
    assert p.ProviderUnavailableError().retry_after_seconds == 5


def test_an_interrupted_provisioning_says_the_connection_is_pending() -> None:
    interrupted = p.ProvisioningInterruptedError(CONNECTION)
    assert (interrupted.connection_id, interrupted.retry_after_seconds) == (CONNECTION, 5)
    assert p.ProvisioningInterruptedError(CONNECTION, 9).retry_after_seconds == 9
    assert (interrupted.code, interrupted.field, interrupted.message) == (
        "provider_unavailable",
        None,
        "The SMS provider became unavailable during the request; the connection is pending:"
        " retry to resume it, or read it at Location.",
    )
