"""Twilio's webhooks: the ``X-Twilio-Signature`` check (both of Twilio's signing schemes) and
the delivery id; what a delivery reports is read by ``providers.twilio.statuses``
(hosted-number-order status callbacks, Event Streams' A2P brand and campaign events).

Twilio's scheme has no timestamp: a replay is stopped by the delivery id, a hash of exactly
what the signature covers, which the service keeps forever.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

from domain.providers import (
    ProviderEvent,
    WebhookRejectedError,
    WebhookRequest,
)
from providers.twilio.statuses import event_stream_event, hosting_callback_fact

PROVIDER_NAME = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"

# Twilio's signing schemes: the legacy Auth Token one (HMAC-SHA1), and the SharedKey one
# whose ``X-Twilio-Webhooks-Signature-Settings`` header names the algorithm.
HMAC_SHA1 = "HMAC_SHA1"
HMAC_SHA256 = "HMAC_SHA256"
_HASHES = {HMAC_SHA1: hashlib.sha1, HMAC_SHA256: hashlib.sha256}
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"


def compute_signature(
    auth_token: str, url: str, params: Sequence[tuple[str, str]], algorithm: str = HMAC_SHA1
) -> str:
    """Twilio's ``X-Twilio-Signature``: base64(HMAC(key, URL + each parameter name followed
    by its value, names sorted, a repeated name's values sorted)), HMAC-SHA1 or -SHA256."""
    signed = signed_content(url, params)
    digest = hmac.new(auth_token.encode(), signed.encode(), _HASHES[algorithm]).digest()
    return base64.b64encode(digest).decode()


def signed_content(url: str, params: Sequence[tuple[str, str]]) -> str:
    """What Twilio's signature covers: URL + each parameter name followed by its value,
    names sorted, a repeated name's distinct values sorted (as twilio's validator builds it:
    a duplicated pair counts once, an empty value adds only its name)."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    return url + "".join(
        name + value for name in sorted(grouped) for value in sorted(grouped[name])
    )


def signature_algorithm(settings_header: str | None) -> str | None:
    """The algorithm ``X-Twilio-Webhooks-Signature-Settings`` names (``key=…,algorithm=…``);
    HMAC_SHA1 when absent or silent on it (as twilio's own validator reads it); None when
    it names one this service does not know (the request is then refused)."""
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            return value.strip().upper() if value.strip().upper() in _HASHES else None
    return HMAC_SHA1


def signature_is_valid(
    auth_token: str,
    url: str,
    params: Sequence[tuple[str, str]],
    signature: str,
    body: bytes = b"",
    algorithm: str = HMAC_SHA1,
) -> bool:
    """True if ``signature`` is Twilio's for this request. Like Twilio's own validators, the
    URL is tried as received, with its port (the scheme's default when it has none) and
    without any port, a non-default one included (proxies differ on it). A JSON body is
    signed through the ``bodySHA256`` query parameter instead of form parameters."""
    body_hash = parse_qs(urlsplit(url).query).get("bodySHA256")
    if body_hash is not None:
        if not hmac.compare_digest(
            hashlib.sha256(body).hexdigest().encode(), body_hash[0].encode()
        ):
            return False
        params = ()
    return any(
        # Bytes, not str: compare_digest refuses non-ASCII str (a TypeError, not a 403).
        hmac.compare_digest(
            compute_signature(auth_token, candidate, params, algorithm).encode(),
            signature.encode(),
        )
        for candidate in _url_variants(url)
    )


def _url_variants(url: str) -> list[str]:
    """``url``, with its port (the default one added when it has none), and without it."""
    return list(dict.fromkeys([url, *_port_forms(url)]))


def _port_forms(url: str) -> tuple[str, str]:
    """(``url`` with a port, ``url`` without any), as twilio's validator makes them."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme, 80)
    host, colon, port = parts.netloc.rpartition(":")
    has_port = bool(colon) and port.isdigit()
    with_port = parts.netloc if has_port else f"{parts.netloc}:{default}"
    bare = host if has_port else parts.netloc
    return (
        urlunsplit(parts._replace(netloc=with_port)),
        urlunsplit(parts._replace(netloc=bare)),
    )


class TwilioWebhookVerifier:
    """Verifies ``X-Twilio-Signature`` and reads hosted-number-order status callbacks (form
    bodies) and Event Streams' A2P brand and campaign events (JSON bodies, signed through
    ``bodySHA256``; see ``providers.twilio.statuses.event_stream_event``).

    Both of Twilio's schemes: the Auth Token's HMAC-SHA1, and a SharedKey's (its secret,
    ``shared_key``) with the algorithm ``X-Twilio-Webhooks-Signature-Settings`` names,
    HMAC-SHA1 or HMAC-SHA256. Twilio's scheme has no timestamp: replays are stopped by the
    delivery id, a hash of the signed content (URL and parameters or body), which the
    service keeps forever. Twilio's ``I-Twilio-Idempotency-Token`` is not signed, so a
    replay with a fresh one is still the same delivery. Other correctly signed callbacks
    are acknowledged and ignored."""

    provider = PROVIDER_NAME

    def __init__(self, auth_token: str | None, shared_key: str | None = None) -> None:
        self._auth_token = auth_token
        self._shared_key = shared_key

    def verify(self, request: WebhookRequest) -> ProviderEvent:
        if not self._auth_token:
            raise WebhookRejectedError("Twilio webhooks are not configured here.")
        signature = request.headers.get(SIGNATURE_HEADER.lower())
        if not signature:
            raise WebhookRejectedError(f"The {SIGNATURE_HEADER} header is missing.")
        settings = request.headers.get(SIGNATURE_SETTINGS_HEADER.lower())
        algorithm = signature_algorithm(settings)
        key = self._shared_key if settings and self._shared_key else self._auth_token
        form = _form(request)
        if algorithm is None or not signature_is_valid(
            key, request.url, form, signature, request.body, algorithm
        ):
            raise WebhookRejectedError()
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            # Only the URL is signed then: the body counts only when the URL carries its
            # hash (bodySHA256), which the signature covers and which was checked above.
            if "bodySHA256" not in parse_qs(urlsplit(request.url).query):
                raise WebhookRejectedError("A JSON body must be signed through bodySHA256.")
            fact, occurred_at = event_stream_event(request.body)
        else:
            fact, occurred_at = hosting_callback_fact(dict(form)), None
        return ProviderEvent(PROVIDER_NAME, _request_hash(request, form), fact, occurred_at)


def _form(request: WebhookRequest) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return []
    return parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)


def _request_hash(request: WebhookRequest, form: list[tuple[str, str]]) -> str:
    """The delivery id: a hash of exactly what the signature covers (the URL without a
    port, as the variants are all valid, and the parameters as ``signed_content`` joins
    them; a JSON body is covered through the URL's ``bodySHA256``). So a replay that keeps
    the signature valid (a pair repeated, an empty pair added, the pairs reordered) is
    the same delivery: a duplicate, nothing written."""
    body_signed = "bodySHA256" in parse_qs(urlsplit(request.url).query)
    signed = signed_content(_port_forms(request.url)[1], () if body_signed else form)
    return "sha256:" + hashlib.sha256(signed.encode()).hexdigest()
