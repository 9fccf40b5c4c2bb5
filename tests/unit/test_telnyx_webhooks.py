"""Telnyx's webhooks: the Ed25519 signature over ``"{timestamp}|{body}"`` (wrong key,
altered body, missing headers, stale timestamp, no key configured: refused) and the facts
the two documented deliveries report, with their delivery ids and times."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.providers import (
    HostingCompleted,
    HostingFailed,
    RegistrationReported,
    Unrecognised,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookRequest,
    WebhookStaleError,
)
from providers.telnyx import TelnyxWebhookVerifier, load_public_key, sign
from providers.telnyx.webhooks import CAMPAIGN_EVENTS
from tests.support.fake_telnyx import (
    API_KEY,
    MESSAGING_PROFILE_ID,
    PUBLIC_KEY,
    SIGNING_KEY,
    FakeTelnyx,
    fake_telnyx,
)

NOW = 1_780_000_000
URL = "https://sms.example.com/providers/telnyx/webhooks"
CAMPAIGN = "4b300178-131c-d902-d54e-72d90ba1620j"


def verifier(key: str | None = PUBLIC_KEY) -> TelnyxWebhookVerifier:
    return TelnyxWebhookVerifier(key, clock=lambda: NOW)


def request(body: bytes, at: int = NOW, key: Ed25519PrivateKey = SIGNING_KEY) -> WebhookRequest:
    headers = {"telnyx-timestamp": str(at), "telnyx-signature-ed25519": sign(key, body, at)}
    return WebhookRequest(URL, headers, body)


def campaign_update(kind: str, status: str, description: str = "") -> bytes:
    return json.dumps(
        {"campaignId": CAMPAIGN, "brandId": "b-1", "type": kind, "status": status,
         "description": description}
    ).encode()  # fmt: skip


def test_a_correctly_signed_campaign_update_reports_the_campaign() -> None:
    event = verifier().verify(request(campaign_update("MNO_REVIEW", "ACCEPTED")))
    assert event.provider == "telnyx"
    assert event.fact == RegistrationReported("campaign", CAMPAIGN, "pending", "MNO_ACCEPTED")
    assert event.occurred_at == datetime.fromtimestamp(NOW, UTC)


def test_a_rejection_keeps_its_codes() -> None:
    body = campaign_update("TELNYX_REVIEW", "REJECTED", "1011: Website unreachable")
    fact = verifier().verify(request(body)).fact
    assert isinstance(fact, RegistrationReported)
    assert (fact.status, fact.raw_status) == ("rejected", "TELNYX_FAILED")
    assert [r["code"] for r in fact.reasons] == ["1011"]


@pytest.mark.parametrize(("kind", "status"), sorted(CAMPAIGN_EVENTS))
def test_every_mapped_campaign_event_is_a_campaign_status(kind: str, status: str) -> None:
    fact = verifier().verify(request(campaign_update(kind, status))).fact
    assert isinstance(fact, RegistrationReported)
    assert fact.raw_status == CAMPAIGN_EVENTS[(kind, status)]


def test_a_dormant_campaign_is_suspended_and_an_unknown_stage_ignored() -> None:
    dormant = verifier().verify(request(campaign_update("TELNYX_EVENT", "DORMANT"))).fact
    assert isinstance(dormant, RegistrationReported)
    assert dormant.status == "suspended"
    other = verifier().verify(request(campaign_update("NUMBER_POOL_DEPROVISIONED", "success")))
    assert isinstance(other.fact, Unrecognised)


def test_a_redelivery_of_the_same_body_is_the_same_delivery_whatever_its_timestamp() -> None:
    body = campaign_update("MNO_REVIEW", "ACCEPTED")
    first = verifier().verify(request(body, at=NOW - 100))
    again = verifier().verify(request(body, at=NOW))
    assert first.event_id == again.event_id
    other = verifier().verify(request(campaign_update("MNO_REVIEW", "REJECTED")))
    assert other.event_id != first.event_id


def test_hosting_events_report_completion_and_failure_with_their_id_and_time() -> None:
    with fake_telnyx() as fake:
        order_id = _order(fake)
        body, headers = fake.hosting_event(order_id, "successful", event_id="evt-1", at=NOW)
        event = verifier().verify(WebhookRequest(URL, _lower(headers), body))
        assert event.event_id == "evt-1"
        ref = f"hosted:{order_id}"
        assert event.fact == HostingCompleted("+13125550177", ref, ref)
        assert event.occurred_at == datetime.fromtimestamp(NOW, UTC)
        body, headers = fake.hosting_event(order_id, "carrier_rejected", at=NOW)
        failed = verifier().verify(WebhookRequest(URL, _lower(headers), body)).fact
        assert isinstance(failed, HostingFailed)
        assert failed.reason == "The number's carrier refused to move its messaging."
        body, headers = fake.hosting_event(order_id, "provisioning", at=NOW)
        pending = verifier().verify(WebhookRequest(URL, _lower(headers), body)).fact
        assert isinstance(pending, Unrecognised)


def _order(fake: FakeTelnyx) -> str:
    created = httpx.post(
        f"{fake.base_url}/messaging_hosted_number_orders",
        json={"phone_numbers": ["+13125550177"], "messaging_profile_id": MESSAGING_PROFILE_ID},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    return str(created.json()["data"]["id"])


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_a_signature_by_another_key_is_refused() -> None:
    other = Ed25519PrivateKey.generate()
    with pytest.raises(WebhookRejectedError):
        verifier().verify(request(campaign_update("MNO_REVIEW", "ACCEPTED"), key=other))


def test_an_altered_body_or_timestamp_is_refused() -> None:
    signed = request(campaign_update("MNO_REVIEW", "ACCEPTED"))
    altered = WebhookRequest(URL, signed.headers, campaign_update("MNO_REVIEW", "REJECTED"))
    with pytest.raises(WebhookRejectedError):
        verifier().verify(altered)
    moved = {**signed.headers, "telnyx-timestamp": str(NOW - 1)}
    with pytest.raises(WebhookRejectedError):
        verifier().verify(WebhookRequest(URL, moved, signed.body))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"telnyx-timestamp": str(NOW)},
        {"telnyx-signature-ed25519": "AAAA"},
        {"telnyx-timestamp": "soon", "telnyx-signature-ed25519": "AAAA"},
        {"telnyx-timestamp": str(NOW), "telnyx-signature-ed25519": "not base64 ✗"},
    ],
)
def test_missing_or_malformed_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookRejectedError):
        verifier().verify(WebhookRequest(URL, headers, b"{}"))


def test_a_timestamp_outside_300_seconds_is_stale() -> None:
    body = campaign_update("MNO_REVIEW", "ACCEPTED")
    verifier().verify(request(body, at=NOW - 300))
    with pytest.raises(WebhookStaleError):
        verifier().verify(request(body, at=NOW - 301))
    with pytest.raises(WebhookStaleError):
        verifier().verify(request(body, at=NOW + 301))


def test_without_a_public_key_every_webhook_is_refused() -> None:
    with pytest.raises(WebhookRejectedError):
        verifier(None).verify(request(campaign_update("MNO_REVIEW", "ACCEPTED")))


def test_a_signed_body_that_is_not_the_documented_shape_is_a_payload_error() -> None:
    with pytest.raises(WebhookPayloadError):
        verifier().verify(request(b"[1, 2]"))
    with pytest.raises(WebhookPayloadError):
        verifier().verify(request(b"not json"))


def test_the_public_key_is_read_as_the_portal_shows_it_or_as_pem() -> None:
    raw = SIGNING_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    pem = SIGNING_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    assert load_public_key(base64.b64encode(raw).decode()) == SIGNING_KEY.public_key()
    assert load_public_key(pem.decode()) == SIGNING_KEY.public_key()
    with pytest.raises(ValueError, match="TELNYX_PUBLIC_KEY"):
        load_public_key("not a key!")
