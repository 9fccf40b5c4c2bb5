"""The sandbox's webhooks: signed with HMAC-SHA256 (``X-Sandbox-Signature``), verified
and read into provider facts, and sent by ``SandboxWebhookSender``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from domain.carriers import carriers_of, throughput_of
from domain.providers import (
    DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
    HostingCompleted,
    HostingFailed,
    NumberLost,
    ProviderEvent,
    ProviderFact,
    RegistrationChanged,
    RegistrationReported,
    Unrecognised,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookRequest,
    check_webhook_fresh,
)
from domain.registration_levels import LEVELS
from domain.sms_connections import REGISTRATION_STATUSES, ReclaimReason

PROVIDER_NAME = "sandbox"
SIGNATURE_HEADER = "X-Sandbox-Signature"
DEFAULT_TOLERANCE_SECONDS = DEFAULT_WEBHOOK_TOLERANCE_SECONDS


@dataclass(frozen=True)
class SandboxWebhook:
    """One sandbox event as delivered: ``{"id", "type", "createdAt", "data"}`` in JSON.
    The id is stable: a redelivery sends the same body (with a fresh signature)."""

    id: str
    type: str
    created_at: datetime
    data: Mapping[str, Any]

    @classmethod
    def new(cls, kind: str, data: Mapping[str, Any]) -> SandboxWebhook:
        return cls("evt_" + uuid.uuid4().hex, kind, datetime.now(UTC), dict(data))

    def body(self) -> bytes:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "createdAt": self.created_at.isoformat(),
                "data": dict(self.data),
            },
            separators=(",", ":"),
        ).encode()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Sandbox-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of
    "<t>." + body under the secret>``. The timestamp is inside the MAC, so it cannot be
    moved to replay an old delivery past the window."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


class SandboxWebhookVerifier:
    """Verifies ``X-Sandbox-Signature`` and reads the event.

    Accepts any ``v1`` entry that matches (several during a secret rotation), refuses a
    timestamp more than ``tolerance_seconds`` from now (replays), and refuses everything
    when no secret is configured (fail closed)."""

    provider = PROVIDER_NAME

    def __init__(
        self,
        secret: str | None,
        *,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._tolerance = tolerance_seconds
        self._clock = clock

    def verify(self, request: WebhookRequest) -> ProviderEvent:
        timestamp = self._check_signature(request)
        check_webhook_fresh(timestamp, now=self._clock(), tolerance_seconds=self._tolerance)
        return _read_event(request.body)

    def _check_signature(self, request: WebhookRequest) -> int:
        if not self._secret:
            raise WebhookRejectedError("Sandbox webhooks are not configured here.")
        header = request.headers.get(SIGNATURE_HEADER.lower())
        if not header:
            raise WebhookRejectedError(f"The {SIGNATURE_HEADER} header is missing.")
        timestamp: int | None = None
        macs: list[str] = []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
                timestamp = int(value)
            elif key == "v1":
                macs.append(value)
        if timestamp is None or not macs:
            raise WebhookRejectedError(f"The {SIGNATURE_HEADER} header is malformed.")
        expected = _mac(self._secret, request.body, timestamp)
        # Bytes, not str: compare_digest refuses non-ASCII str (a TypeError, not a 403).
        if not any(hmac.compare_digest(expected.encode(), mac.encode()) for mac in macs):
            raise WebhookRejectedError()
        return timestamp


def _read_event(body: bytes) -> ProviderEvent:
    try:
        document = json.loads(body)
        event_id, kind, data = document["id"], document["type"], document["data"]
        if not isinstance(event_id, str) or not event_id or not isinstance(kind, str):
            raise TypeError
        occurred_at = _instant(document.get("createdAt"))
        fact = _fact(kind, data)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise WebhookPayloadError("The sandbox event is not in the documented shape.") from None
    return ProviderEvent(PROVIDER_NAME, event_id, fact, occurred_at)


def _fact(kind: str, data: Mapping[str, Any]) -> ProviderFact:
    text = _text(data)
    if kind == "hosted_number.verified":
        return HostingCompleted(text("phoneNumber"), text("orderRef"), text("numberRef"))
    if kind == "hosted_number.failed":
        return HostingFailed(text("phoneNumber"), text("orderRef"), text("reason"))
    if kind in ("number.reclaimed", "number.expired", "number.released"):
        reason: ReclaimReason = kind.removeprefix("number.")  # type: ignore[assignment]
        return NumberLost(text("phoneNumber"), data.get("numberRef"), reason)
    if kind == "registration.status_changed":
        status = text("status")
        if status not in REGISTRATION_STATUSES:
            raise ValueError(status)
        return RegistrationChanged(
            text("phoneNumber"),
            status,
            data.get("rawStatus"),
            data.get("reason"),
            data.get("registrationRef"),
        )
    if kind == "registration.level_changed":
        return _level_fact(data)
    return Unrecognised(kind)


def _level_fact(data: Mapping[str, Any]) -> RegistrationReported:
    """A ``registration.level_changed`` event; the status is passed on as reported (an
    unknown one is recorded raw and counted as pending by the domain)."""
    text = _text(data)
    level = text("level")
    if level not in LEVELS:
        raise ValueError(level)
    reasons = data.get("reasons") or []
    if not isinstance(reasons, list) or not all(isinstance(r, dict) for r in reasons):
        raise TypeError("reasons")
    raw, identity = data.get("rawStatus"), data.get("identityStatus")
    carriers, throughput = data.get("carriers"), data.get("throughput")
    if carriers is not None and (
        not isinstance(carriers, list) or not all(isinstance(c, dict) for c in carriers)
    ):
        raise TypeError("carriers")
    if throughput is not None and not isinstance(throughput, dict):
        raise TypeError("throughput")
    return RegistrationReported(
        level,
        text("ref"),
        text("status"),
        raw if isinstance(raw, str) else None,
        tuple(reasons),
        identity if isinstance(identity, str) else None,
        carriers_of(carriers),
        throughput_of(throughput),
    )


def _text(data: Mapping[str, Any]) -> Callable[[str], str]:
    def read(key: str) -> str:
        value = data[key]
        if not isinstance(value, str) or not value:
            raise TypeError(key)
        return value

    return read


def _instant(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


class SandboxWebhookSender:
    """Delivers sandbox events to a service's ``POST /providers/sandbox/webhooks``,
    signed with the shared secret at the time of sending."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = base_url.rstrip("/") + f"/providers/{PROVIDER_NAME}/webhooks"
        self._secret = secret
        self._client = client or httpx.Client(timeout=10)
        self._clock = clock

    def send(self, event: SandboxWebhook) -> httpx.Response:
        """POST the event once; the service's answer (200 with the outcome)."""
        body = event.body()
        signature = sign(self._secret, body, int(self._clock()))
        return self._client.post(
            self._url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )

    def close(self) -> None:
        self._client.close()
