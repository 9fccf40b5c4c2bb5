"""Telnyx's webhooks: the Ed25519 signature and the facts two kinds of delivery report.

Signature: ``telnyx-signature-ed25519`` is base64 of an Ed25519 signature over
``"{telnyx-timestamp}|{raw body}"``, made with Telnyx's key; the public key
(``TELNYX_PUBLIC_KEY``: base64 of its 32 bytes, as Telnyx's portal shows it, or a PEM) is
the only secret-free setting needed to check it. A timestamp further than the tolerance
(300 s) from now is refused (a replay). Without a public key every webhook is refused
(fail closed).

Deliveries (the reference's ``webhooks``):

- ``hostedNumberOrderEvent`` (``{"data": {"event_type": "messaging_hosted_numbers_orders.*",
  "id", "occurred_at", "payload": {"order_id", "order_status", "numbers"}}}``): a
  ``successful`` order is HostingCompleted, a failed one HostingFailed; its ``id`` is the
  delivery id (a redelivery is a duplicate), ``occurred_at`` the provider's time.
- ``campaignStatusUpdate`` (``CampaignStatusUpdateEvent``: ``campaignId``, ``type``,
  ``status``, ``description``; flat, or inside ``data``): the stage it reports as the
  campaign's raw status (``CAMPAIGN_EVENTS``), a RegistrationReported of the campaign.
  It carries no id and no time: the delivery id is a hash of the body (a redelivery of
  the same body is a duplicate whatever its timestamp) and the provider's time is the
  signed ``telnyx-timestamp`` (so that an older report delivered late changes nothing).
- ``BRAND_OTP_VERIFIED`` (``brandId``): the sole proprietor confirmed the OTP; the brand's
  identity is then ``VERIFIED`` (the poll reads the brand's status).

Anything else correctly signed is acknowledged and ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from domain.providers import (
    DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
    HostingCompleted,
    HostingFailed,
    ProviderEvent,
    ProviderFact,
    RegistrationReported,
    Unrecognised,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookRequest,
    check_webhook_fresh,
)
from providers.telnyx.statuses import (
    CAMPAIGN_STATUSES,
    HOSTING_COMPLETED,
    HOSTING_FAILED,
    failure_reasons,
    order_ref,
)

PROVIDER_NAME = "telnyx"
SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
HOSTING_EVENT_PREFIX = "messaging_hosted_numbers_orders."
# CampaignStatusUpdateEvent (type, status) → the campaignStatus it reports.
CAMPAIGN_EVENTS: dict[tuple[str, str], str] = {
    ("REGISTRATION", "ACCEPTED"): "TCR_ACCEPTED",
    ("REGISTRATION", "success"): "TCR_ACCEPTED",
    ("REGISTRATION", "REJECTED"): "TCR_FAILED",
    ("REGISTRATION", "failed"): "TCR_FAILED",
    ("TELNYX_REVIEW", "ACCEPTED"): "TELNYX_ACCEPTED",
    ("TELNYX_REVIEW", "REJECTED"): "TELNYX_FAILED",
    ("MNO_REVIEW", "ACCEPTED"): "MNO_ACCEPTED",
    ("MNO_REVIEW", "REJECTED"): "MNO_REJECTED",
    ("VERIFIED", "ACCEPTED"): "MNO_PROVISIONED",
    ("VERIFIED", "success"): "MNO_PROVISIONED",
    ("NUMBER_POOL_PROVISIONED", "success"): "MNO_PROVISIONED",
    ("NUMBER_POOL_PROVISIONED", "ACCEPTED"): "MNO_PROVISIONED",
}
DORMANT = "DORMANT"  # TCR marked the campaign dormant (any type): it no longer sends


def load_public_key(value: str) -> Ed25519PublicKey:
    """Telnyx's public key: base64 of the 32 raw bytes (the portal's form) or a PEM."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            msg = "TELNYX_PUBLIC_KEY is not an Ed25519 key"
            raise ValueError(msg)
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        msg = "TELNYX_PUBLIC_KEY is neither base64 nor PEM"
        raise ValueError(msg) from None
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(private_key: Ed25519PrivateKey, body: bytes, timestamp: int) -> str:
    """``telnyx-signature-ed25519`` for ``body`` sent at ``timestamp`` (the fake's side)."""
    return base64.b64encode(private_key.sign(f"{timestamp}|".encode() + body)).decode()


class TelnyxWebhookVerifier:
    """Verifies Telnyx's Ed25519 signature and reads the fact the delivery reports."""

    provider = PROVIDER_NAME

    def __init__(
        self,
        public_key: str | None,
        *,
        tolerance_seconds: int = DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = load_public_key(public_key) if public_key else None
        self._tolerance = tolerance_seconds
        self._clock = clock

    def verify(self, request: WebhookRequest) -> ProviderEvent:
        timestamp = self._check_signature(request)
        check_webhook_fresh(timestamp, now=self._clock(), tolerance_seconds=self._tolerance)
        try:
            document = json.loads(request.body)
            if not isinstance(document, dict):
                raise TypeError
            return _event(document, request.body, timestamp)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookPayloadError("The Telnyx event is not in the documented shape.") from None

    def _check_signature(self, request: WebhookRequest) -> int:
        if self._key is None:
            raise WebhookRejectedError("Telnyx webhooks are not configured here.")
        signature = request.headers.get(SIGNATURE_HEADER)
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not signature or not stamp:
            raise WebhookRejectedError(
                f"The {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header is missing."
            )
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            raise WebhookRejectedError(f"The {TIMESTAMP_HEADER} header is malformed.")
        try:
            raw = base64.b64decode(signature, validate=True)
            self._key.verify(raw, stamp.encode() + b"|" + request.body)
        except (binascii.Error, ValueError, InvalidSignature):
            raise WebhookRejectedError() from None
        return int(stamp)


def _event(document: Mapping[str, Any], body: bytes, timestamp: int) -> ProviderEvent:
    data = document.get("data")
    if isinstance(data, Mapping) and str(data.get("event_type") or "").startswith(
        HOSTING_EVENT_PREFIX
    ):
        return ProviderEvent(
            PROVIDER_NAME, str(data["id"]), _hosting_fact(data), _instant(data.get("occurred_at"))
        )
    update = data if isinstance(data, Mapping) and "campaignId" in data else document
    body_id = "sha256:" + hashlib.sha256(body).hexdigest()
    sent_at = datetime.fromtimestamp(timestamp, UTC)
    if "campaignId" in update:
        return ProviderEvent(PROVIDER_NAME, body_id, _campaign_fact(update), sent_at)
    if update.get("type") == "BRAND_OTP_VERIFIED" and update.get("brandId"):
        fact = RegistrationReported(
            "brand", str(update["brandId"]), "approved", "OK", (), "VERIFIED"
        )
        return ProviderEvent(PROVIDER_NAME, body_id, fact, sent_at)
    kind = str(update.get("event_type") or update.get("type") or "unknown")
    return ProviderEvent(PROVIDER_NAME, body_id, Unrecognised(f"telnyx.{kind}"[:64]), sent_at)


def _hosting_fact(data: Mapping[str, Any]) -> ProviderFact:
    payload = data.get("payload") or {}
    status = str(payload.get("order_status") or "")
    order = str(payload["order_id"])
    numbers = [n for n in payload.get("numbers") or [] if isinstance(n, Mapping)]
    phone_number = str((numbers[0] if numbers else {}).get("phone_number") or "")
    if not phone_number:
        return Unrecognised(str(data["event_type"]))
    if status == HOSTING_COMPLETED:
        return HostingCompleted(phone_number, order_ref(order), order_ref(order))
    if status in HOSTING_FAILED:
        return HostingFailed(phone_number, order_ref(order), HOSTING_FAILED[status])
    return Unrecognised(f"{data['event_type']}.{status or 'unknown'}")


def _campaign_fact(update: Mapping[str, Any]) -> ProviderFact:
    kind, status = str(update.get("type") or ""), str(update.get("status") or "")
    raw = DORMANT if status == DORMANT else CAMPAIGN_EVENTS.get((kind, status))
    if raw is None:
        return Unrecognised(f"telnyx.campaign.{kind or 'unknown'}.{status or 'unknown'}"[:64])
    mapped = "suspended" if raw == DORMANT else CAMPAIGN_STATUSES[raw]
    reasons = failure_reasons(update.get("description")) if mapped == "rejected" else ()
    return RegistrationReported("campaign", str(update["campaignId"]), mapped, raw, reasons)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
