"""The sandbox's signed webhooks: X-Sandbox-Signature (HMAC-SHA256 over "<t>." + body),
the timestamp window, and the facts each event type reports."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from domain.providers import (
    HostingCompleted,
    HostingFailed,
    NumberLost,
    ProviderFact,
    RegistrationChanged,
    RegistrationReported,
    Unrecognised,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookRequest,
    WebhookStaleError,
)
from providers.sandbox import SandboxWebhook, SandboxWebhookVerifier, sign

SECRET = "sandbox-secret-for-tests"
NOW = 1_800_000_000
URL = "http://127.0.0.1/providers/sandbox/webhooks"


def verifier(secret: str | None = SECRET, tolerance: int = 300) -> SandboxWebhookVerifier:
    return SandboxWebhookVerifier(secret, tolerance_seconds=tolerance, clock=lambda: NOW)


def request(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-sandbox-signature"] = signature
    return WebhookRequest(URL, headers, body)


def signed(event: SandboxWebhook, at: int = NOW, secret: str = SECRET) -> WebhookRequest:
    body = event.body()
    return request(body, sign(secret, body, at))


RECLAIMED = SandboxWebhook.new(
    "number.reclaimed", {"phoneNumber": "+14155550100", "numberRef": "PN1"}
)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"evt_1"}'
    expected = hmac.new(SECRET.encode(), b"1800000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, body, NOW) == f"t=1800000000,v1={expected}"


@pytest.mark.parametrize(
    ("kind", "data", "fact"),
    [
        (
            "hosted_number.verified",
            {"phoneNumber": "+1212", "orderRef": "HR1", "numberRef": "PN1"},
            HostingCompleted("+1212", "HR1", "PN1"),
        ),
        (
            "hosted_number.failed",
            {"phoneNumber": "+1212", "orderRef": "HR1", "reason": "LOA refused"},
            HostingFailed("+1212", "HR1", "LOA refused"),
        ),
        (
            "number.reclaimed",
            {"phoneNumber": "+1212", "numberRef": "PN1"},
            NumberLost("+1212", "PN1", "reclaimed"),
        ),
        ("number.expired", {"phoneNumber": "+1212"}, NumberLost("+1212", None, "expired")),
        (
            "number.released",
            {"phoneNumber": "+1212", "numberRef": "PN1"},
            NumberLost("+1212", "PN1", "released"),
        ),
        (
            "registration.status_changed",
            {"phoneNumber": "+1212", "status": "approved", "rawStatus": "VERIFIED"},
            RegistrationChanged("+1212", "approved", "VERIFIED", None, None),
        ),
        ("account.updated", {}, Unrecognised("account.updated")),
    ],
)
def test_a_signed_event_reports_its_fact(
    kind: str, data: dict[str, str], fact: ProviderFact
) -> None:
    event = SandboxWebhook.new(kind, data)
    verified = verifier().verify(signed(event))
    assert (verified.provider, verified.event_id, verified.fact) == ("sandbox", event.id, fact)


def test_a_redelivery_carries_the_same_event_id() -> None:
    first = verifier().verify(signed(RECLAIMED, at=NOW - 60))
    again = verifier().verify(signed(RECLAIMED, at=NOW))
    assert first.event_id == again.event_id == RECLAIMED.id


def test_a_missing_signature_is_rejected() -> None:
    with pytest.raises(WebhookRejectedError):
        verifier().verify(request(RECLAIMED.body(), None))


@pytest.mark.parametrize("header", ["", "v1=abc", "t=1800000000", "t=soon,v1=abc", "garbage"])
def test_a_malformed_signature_header_is_rejected(header: str) -> None:
    with pytest.raises(WebhookRejectedError):
        verifier().verify(request(RECLAIMED.body(), header))


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    with pytest.raises(WebhookRejectedError):
        verifier().verify(signed(RECLAIMED, secret="another-secret"))


def test_a_tampered_body_is_rejected() -> None:
    good = signed(RECLAIMED)
    body = good.body.replace(b"reclaimed", b"released")
    with pytest.raises(WebhookRejectedError):
        verifier().verify(request(body, good.headers["x-sandbox-signature"]))


def test_moving_the_timestamp_breaks_the_signature() -> None:
    body = RECLAIMED.body()
    old = sign(SECRET, body, NOW - 3600)
    moved = old.replace(f"t={NOW - 3600}", f"t={NOW}")
    with pytest.raises(WebhookRejectedError):
        verifier().verify(request(body, moved))


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_outside_the_window_is_refused(offset: int) -> None:
    with pytest.raises(WebhookStaleError):
        verifier().verify(signed(RECLAIMED, at=NOW + offset))


def test_the_stale_refusal_names_the_window_the_verifier_was_given() -> None:
    with pytest.raises(WebhookStaleError) as refused:
        verifier(tolerance=60).verify(signed(RECLAIMED, at=NOW - 61))
    assert refused.value.message == "The webhook timestamp is more than 60 seconds from now."


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_a_timestamp_inside_the_window_is_accepted(offset: int) -> None:
    assert verifier().verify(signed(RECLAIMED, at=NOW + offset)).event_id == RECLAIMED.id


def test_any_matching_v1_is_accepted_during_a_secret_rotation() -> None:
    body = RECLAIMED.body()
    old = sign("old-secret", body, NOW).split(",")[1]
    new = sign(SECRET, body, NOW)
    assert verifier().verify(request(body, f"{new},{old}")).event_id == RECLAIMED.id


def test_without_a_secret_every_webhook_is_rejected() -> None:
    with pytest.raises(WebhookRejectedError):
        verifier(secret=None).verify(signed(RECLAIMED))


@pytest.mark.parametrize(
    "document",
    [
        {"id": "evt_1", "type": "number.reclaimed", "data": {}},
        {"id": "evt_1", "type": "hosted_number.verified", "data": {"phoneNumber": "+1"}},
        {"id": "", "type": "number.reclaimed", "data": {"phoneNumber": "+1"}},
        {"type": "number.reclaimed", "data": {"phoneNumber": "+1"}},
        {
            "id": "evt_1",
            "type": "registration.status_changed",
            "data": {"phoneNumber": "+1", "status": "great"},
        },
        [],
    ],
    ids=["no-number", "no-refs", "empty-id", "no-id", "unknown-status", "not-an-object"],
)
def test_a_signed_body_not_in_the_documented_shape_is_a_payload_error(document: object) -> None:
    body = json.dumps(document).encode()
    with pytest.raises(WebhookPayloadError):
        verifier().verify(request(body, sign(SECRET, body, NOW)))


def test_signed_garbage_is_a_payload_error() -> None:
    with pytest.raises(WebhookPayloadError):
        verifier().verify(request(b"\xff\xfe", sign(SECRET, b"\xff\xfe", NOW)))


def test_a_level_change_reads_as_a_registration_report() -> None:
    reasons = [{"code": "30892", "description": "Shortened URL", "fields": []}]
    event = SandboxWebhook.new(
        "registration.level_changed",
        {"level": "campaign", "ref": "CM1", "status": "rejected", "rawStatus": "FAILED",
         "reasons": reasons, "identityStatus": None},
    )  # fmt: skip
    fact = verifier().verify(signed(event)).fact
    assert fact == RegistrationReported("campaign", "CM1", "rejected", "FAILED", tuple(reasons))


@pytest.mark.parametrize(
    "data",
    [
        {"level": "planet", "ref": "CM1", "status": "approved"},
        {"level": "brand", "ref": "BN1", "status": "approved", "reasons": "30892"},
        {"level": "brand", "status": "approved"},
    ],
)
def test_a_level_change_of_the_wrong_shape_is_a_payload_error(data: dict[str, object]) -> None:
    event = SandboxWebhook.new("registration.level_changed", data)
    with pytest.raises(WebhookPayloadError):
        verifier().verify(signed(event))
