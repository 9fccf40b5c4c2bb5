"""The Twilio adapter of the provider port, over httpx, and Twilio's webhook signature.

Numbers (Twilio's public OpenAPI, ``api_v2010`` and ``numbers_v2``):
``GET /2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{ISO}/Local.json`` (search),
``POST …/IncomingPhoneNumbers.json`` (purchase), ``GET …/IncomingPhoneNumbers.json`` (status
lookup and the reconcile sweep), ``DELETE …/IncomingPhoneNumbers/{PN sid}.json`` (release),
``POST/GET/DELETE https://numbers.twilio.com/v2/HostedNumber/Orders[/{HR sid}]`` (bring your
own number). A number bought or hosted while ``INBOUND_SMS_WEBHOOK_URL`` is set gets it as
its ``SmsUrl`` (until it joins a Messaging Service, whose ``InboundRequestUrl`` applies).

Registration (US A2P 10DLC: TrustHub, BrandRegistrations, Messaging Services and their
``Compliance/Usa2p`` campaign) is delegated to ``providers.twilio_registrations``; the HTTP
mechanics to ``providers.twilio_http``; statuses and callbacks to ``providers.twilio_statuses``.

Failures: timeouts, transport errors, 5xx and 429 are retried with exponential backoff
(honouring ``Retry-After``), then raised as ProviderUnavailableError; the adapter then
reports itself unavailable (``check_available``) until the Retry-After has passed, so that
connects during a known outage record nothing. A purchase is retried even after an
ambiguous failure (a timeout after sending): a number can be bought once, so a retry of a
purchase that went through answers 21422, and the application recognises its own purchase
by the reference kept in ``FriendlyName``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

import httpx
import phonenumbers
import structlog

from domain.providers import (
    AvailableNumber,
    ComplianceRestrictedError,
    HeldNumber,
    HostingCompleted,
    HostingFailed,
    HostingOrder,
    HostingStatus,
    ProviderEvent,
    ProviderFact,
    ProvisionedNumber,
    RegistrationAnswer,
    Unrecognised,
    VettingAnswer,
    VettingProvider,
    WebhookRejectedError,
    WebhookRequest,
)
from domain.registration_levels import Level
from providers.twilio_http import REFERENCE_PREFIX, TwilioHttp, path_part, raise_for_error
from providers.twilio_http import TwilioConfig as TwilioConfig  # noqa: PLC0414 (re-export)
from providers.twilio_registrations import TwilioRegistrations
from providers.twilio_statuses import event_stream_event
from providers.twilio_statuses import hosting_status as order_status

log = structlog.get_logger("providers.twilio")

PROVIDER_NAME = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioProvider:
    """The NumberProvider on Twilio's REST API. Thread-safe (httpx.Client is)."""

    name = PROVIDER_NAME

    def __init__(
        self,
        config: TwilioConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._config = config
        self._http = TwilioHttp(config, client=client, sleep=sleep, clock=clock, jitter=jitter)
        account = path_part(config.account_sid)
        self._account_url = f"{config.base_url.rstrip('/')}/2010-04-01/Accounts/{account}"
        self._orders_url = f"{config.numbers_base_url.rstrip('/')}/v2/HostedNumber/Orders"
        self._registrations = TwilioRegistrations(self._http, self._account_url)

    # --- the port ----------------------------------------------------------------------

    def check_available(self) -> None:
        """ProviderUnavailableError while the last call's outage has not yet passed its
        Retry-After (no network call)."""
        self._http.check_available()

    @property
    def credentials_refused(self) -> bool:
        """True while Twilio refuses the account SID / auth token (for /readyz)."""
        return self._http.credentials_refused

    def search(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]:
        params: dict[str, str | int] = {"SmsEnabled": "true", "PageSize": limit}
        if area_code:
            params["AreaCode"] = area_code
        if contains:
            params["Contains"] = contains
        url = f"{self._account_url}/AvailablePhoneNumbers/{path_part(country)}/Local.json"
        response = self._call("GET", url, params=params)
        if response.status_code == 404:
            return []  # Twilio has no inventory in that country
        self._raise_for_error(response)
        offers = response.json().get("available_phone_numbers") or []
        return [_available(offer, country) for offer in offers][:limit]

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        response = self._call(
            "POST",
            f"{self._account_url}/IncomingPhoneNumbers.json",
            data={
                "PhoneNumber": phone_number,
                "FriendlyName": REFERENCE_PREFIX + reference,
                "SmsUrl": self._config.inbound_url,
            },
            retry_ambiguous=True,
        )
        self._raise_for_error(response)
        return ProvisionedNumber(self.name, str(response.json()["sid"]))

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        """An open (or completed) hosting order for the number if there is one, else a new
        one. Creating is not retried after an ambiguous failure: the caller's next attempt
        finds the order if it was created."""
        existing = self._open_order(phone_number)
        if existing is not None:
            return HostingOrder(self.name, existing)
        config = self._config
        if not (
            config.hosting_address_sid and config.hosting_email and config.hosting_contact_phone
        ):
            raise ComplianceRestrictedError(
                "hosting a number needs an address, an email and a contact number on file"
            )
        response = self._call(
            "POST",
            self._orders_url,
            data={
                "PhoneNumber": phone_number,
                "SmsCapability": "true",
                "FriendlyName": REFERENCE_PREFIX + reference,
                "AddressSid": config.hosting_address_sid,
                "Email": config.hosting_email,
                "ContactPhoneNumber": config.hosting_contact_phone,
                "SmsUrl": config.inbound_url,
            },
        )
        self._raise_for_error(response)
        return HostingOrder(self.name, str(response.json()["sid"]))

    def release(self, ref: str) -> None:
        """DELETE the number (``PN…``) or the hosting order (``HR…``); 404 is success."""
        if ref.startswith("HR"):
            url = f"{self._orders_url}/{path_part(ref)}"
        else:
            url = f"{self._account_url}/IncomingPhoneNumbers/{path_part(ref)}.json"
        response = self._call("DELETE", url, retry_ambiguous=True)
        if response.status_code != 404:
            self._raise_for_error(response)

    def holding(self, phone_number: str) -> HeldNumber | None:
        response = self._call(
            "GET",
            f"{self._account_url}/IncomingPhoneNumbers.json",
            params={"PhoneNumber": phone_number, "PageSize": 20},
        )
        self._raise_for_error(response)
        for item in response.json().get("incoming_phone_numbers") or []:
            if item.get("phone_number") == phone_number:
                return _held(item)
        return None

    def held_numbers(self) -> Iterator[HeldNumber]:
        """Every number on the account, page by page (``next_page_uri``)."""
        url: str | None = f"{self._account_url}/IncomingPhoneNumbers.json"
        params: dict[str, str | int] | None = {"PageSize": 1000}
        while url is not None:
            response = self._call("GET", url, params=params)
            self._raise_for_error(response)
            page = response.json()
            for item in page.get("incoming_phone_numbers") or []:
                if item.get("phone_number") and item.get("sid"):
                    yield _held(item)
            next_uri = page.get("next_page_uri")
            url = self._config.base_url.rstrip("/") + next_uri if next_uri else None
            params = None  # the next page's URI carries its own query

    def hosting_status(self, order_ref: str) -> HostingStatus:
        response = self._call("GET", f"{self._orders_url}/{path_part(order_ref)}")
        if response.status_code == 404:
            return HostingStatus("failed", reason="Twilio has no such hosting order.")
        self._raise_for_error(response)
        return order_status(response.json())

    # --- registration (US A2P 10DLC): providers/twilio_brands.py, twilio_campaigns.py ----

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        return self._registrations.create_brand(brand, reference=reference)

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        return self._registrations.create_campaign(
            campaign, brand_ref=brand_ref, reference=reference
        )

    def vet_brand(
        self,
        brand_ref: str,
        *,
        vetting_provider: VettingProvider,
        vetting_id: str | None,
        reference: str,
    ) -> VettingAnswer:
        return self._registrations.vet_brand(
            brand_ref, vetting_provider=vetting_provider, vetting_id=vetting_id
        )

    def update_campaign(
        self,
        campaign: Mapping[str, Any],
        *,
        ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        return self._registrations.update_campaign(campaign, service_ref=service_ref or ref)

    def register_number(
        self,
        phone_number: str,
        number_ref: str,
        *,
        campaign_ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        return self._registrations.register_number(
            number_ref, service_ref=service_ref or campaign_ref
        )

    def registration_status(self, level: Level, ref: str) -> RegistrationAnswer:
        return self._registrations.status(level, ref)

    def close(self) -> None:
        self._http.close()

    # --- mechanics -----------------------------------------------------------------------

    def _open_order(self, phone_number: str) -> str | None:
        response = self._call(
            "GET", self._orders_url, params={"PhoneNumber": phone_number, "PageSize": 20}
        )
        self._raise_for_error(response)
        for order in response.json().get("items") or []:
            if order.get("phone_number") == phone_number and order.get("status") != "failed":
                return str(order["sid"])
        return None

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Mapping[str, str | None] | None = None,
        retry_ambiguous: bool = False,
    ) -> httpx.Response:
        return self._http.call(
            method, url, params=params, data=data, retry_ambiguous=retry_ambiguous
        )

    @staticmethod
    def _raise_for_error(response: httpx.Response) -> None:
        raise_for_error(response)


def _available(offer: Mapping[str, Any], country: str) -> AvailableNumber:
    phone_number = str(offer["phone_number"])
    capabilities = offer.get("capabilities") or {}
    return AvailableNumber(
        phone_number=phone_number,
        country=str(offer.get("iso_country") or country),
        area_code=_area_code(phone_number),
        locality=offer.get("locality"),
        region=offer.get("region"),
        capabilities={k: bool(capabilities.get(k)) for k in ("sms", "mms", "voice")},
    )


def _area_code(phone_number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(phone_number, None)
    except phonenumbers.NumberParseException:
        return None
    length = phonenumbers.length_of_geographical_area_code(parsed)
    return phonenumbers.national_significant_number(parsed)[:length] if length else None


def _held(item: Mapping[str, Any]) -> HeldNumber:
    friendly = str(item.get("friendly_name") or "")
    reference = (
        friendly.removeprefix(REFERENCE_PREFIX) if friendly.startswith(REFERENCE_PREFIX) else None
    )
    inbound = str(item.get("sms_url") or "") or None
    return HeldNumber(str(item["phone_number"]), str(item["sid"]), reference, inbound)


# --- webhooks -----------------------------------------------------------------------------


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
    ``bodySHA256``; see ``providers.twilio_statuses.event_stream_event``).

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
            fact, occurred_at = _fact(dict(form)), None
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


def _fact(form: Mapping[str, str]) -> ProviderFact:
    """A hosted-number-order status callback (``Sid``/``HostedNumberOrderSid`` of an
    ``HR…`` order, ``Status``, ``PhoneNumber``, ``IncomingPhoneNumberSid``,
    ``FailureReason``) → a hosting fact; anything else → Unrecognised."""
    order = form.get("HostedNumberOrderSid") or form.get("Sid") or ""
    status = form.get("Status", "")
    phone_number = form.get("PhoneNumber", "")
    if not order.startswith("HR") or not phone_number:
        return Unrecognised("twilio_callback")
    if status == "completed" and form.get("IncomingPhoneNumberSid"):
        return HostingCompleted(phone_number, order, form["IncomingPhoneNumberSid"])
    if status == "failed":
        return HostingFailed(phone_number, order, form.get("FailureReason") or "Hosting failed.")
    return Unrecognised(f"hosted_number_order.{status or 'unknown'}")
