"""Twilio's REST API as the adapter calls it: one httpx client for every Twilio host, the
retry policy, the outage memory, the credentials alarm, and Twilio's error bodies in the
port's terms.

Failures (the rule is ``providers.http_calls``'s, shared with Telnyx): timeouts, transport
errors, 5xx and 429 are retried with exponential backoff (honouring ``Retry-After``), then
raised as ProviderUnavailableError; the adapter then reports itself unavailable
(``check_available``) until the Retry-After has passed. A create (POST) whose request may
have reached Twilio is *not* retried here unless the caller says it is safe
(``retry_ambiguous``): the registration steps look their object up by its reference before
creating it, so the next attempt finds what a timed-out one made.

Twilio's 4xx bodies (``{"code", "message", "more_info", "status"}``) become the port's
errors with Twilio's code kept (``ProviderRejectedError.provider_code``). A 401 (Twilio
20003: the account SID or auth token is wrong) is logged as ``twilio_credentials_refused``
at most once a minute, without the token, and ``credentials_refused`` says so to /readyz.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from domain.providers import (
    BadAreaCodeError,
    ComplianceRestrictedError,
    NumberUnavailableError,
    ProviderError,
    ProviderRejectedError,
)
from providers.http_calls import RetryPolicy, SafeRetryingHttp

log = structlog.get_logger("providers.twilio")

UNAVAILABLE = 21422
BAD_AREA_CODES = frozenset({21451, 21457})
RESTRICTIONS = {
    21631: "an address is required on the account for numbers in this country",
    21649: "a regulatory bundle is required on the account for numbers in this country",
}
CREDENTIALS_REFUSED = 20003
# FriendlyName of what this service creates at Twilio: the prefix tells ours from the
# account's others; the rest is our reference (Twilio allows 64 characters).
REFERENCE_PREFIX = "sms-channels:"
# Refusals that say nothing about the payload sent: the credentials (20003) or a missing
# object, as Twilio's code or the HTTP status (a 429 is an outage, never a refusal).
NOT_ABOUT_THE_PAYLOAD = frozenset({"20003", "20404", "401", "403", "404"})

Form = Mapping[str, str | list[str] | None]


@dataclass(frozen=True)
class TwilioConfig(RetryPolicy):
    """Credentials and endpoints (the retry policy: ``RetryPolicy``).

    ``hosting_*``: who signs the letter of authorisation for bring-your-own numbers
    (Twilio requires an address, an email and a contact number per hosting order).
    ``inbound_url``: every number bought or hosted gets it as its ``SmsUrl``, and every
    Messaging Service as its ``InboundRequestUrl`` (``INBOUND_SMS_WEBHOOK_URL``).
    ``a2p_mock``: brands are created with ``Mock=true`` (test brands, no fees, no carrier
    review). ``profile_email``: the email Twilio writes to about the TrustHub profiles
    (default: the brand's contact email). ``primary_profile_sid``: the ISV's own approved
    customer profile, assigned to each secondary profile when set.
    """

    account_sid: str
    auth_token: str = field(repr=False)
    base_url: str = "https://api.twilio.com"
    numbers_base_url: str = "https://numbers.twilio.com"
    messaging_base_url: str = "https://messaging.twilio.com"
    trusthub_base_url: str = "https://trusthub.twilio.com"
    hosting_address_sid: str | None = None
    # Contact details of the account holder: kept out of reprs (and so out of logs).
    hosting_email: str | None = field(default=None, repr=False)
    hosting_contact_phone: str | None = field(default=None, repr=False)
    inbound_url: str | None = None
    a2p_mock: bool = False
    profile_email: str | None = field(default=None, repr=False)
    primary_profile_sid: str | None = None


class TwilioHttp(SafeRetryingHttp):
    """Sends requests to Twilio with the retry rule (``providers.http_calls``): HTTP basic
    auth with the account SID and auth token, form-encoded bodies."""

    log = log
    call_failed_event = "twilio_call_failed"

    def __init__(
        self,
        config: TwilioConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        """``sleep``, ``clock`` and ``jitter``: see ``SafeRetryingHttp``."""
        self.config = config
        super().__init__(
            config,
            client
            or httpx.Client(
                auth=(config.account_sid, config.auth_token),
                timeout=config.client_timeout(),
                headers={"Accept": "application/json"},
            ),
            sleep=sleep,
            clock=clock,
            jitter=jitter,
        )

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Form | None = None,
        retry_ambiguous: bool = False,
    ) -> httpx.Response:
        """Send with retries. Returns any response below 500 other than 429; raises
        ProviderUnavailableError once the attempts are spent. GETs and DELETEs are always
        retried; other methods only when the request surely did not take effect (it was
        never sent, or 429), unless ``retry_ambiguous``."""
        form = {k: v for k, v in (data or {}).items() if v is not None} if data else None
        return self.send(method, url, params=params, data=form, retry_ambiguous=retry_ambiguous)

    def list_items(self, url: str, key: str = "results") -> Iterator[Mapping[str, Any]]:
        """Every item of a v1 list, page by page (``meta.next_page_url``)."""
        next_url: str | None = url
        params: dict[str, str | int] | None = {"PageSize": 1000}
        while next_url:
            page = self.json("GET", next_url, params=params) or {}
            yield from page.get(key) or []
            next_url = (page.get("meta") or {}).get("next_page_url")
            params = None

    def json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Form | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        """``call``, then the JSON body of a success; None for a 404 when ``missing_ok``;
        the mapped error otherwise."""
        response = self.call(method, url, params=params, data=data)
        if missing_ok and response.status_code == 404:
            return None
        raise_for_error(response)
        if not response.content:
            return {}
        body = response.json()
        return body if isinstance(body, dict) else {}

    def log_credentials_refused(self, response: httpx.Response) -> None:
        # The account SID is not a secret; the token never appears.
        log.error(
            "twilio_credentials_refused",
            account_sid=self.config.account_sid,
            twilio_code=error_code(response),
        )


def raise_for_error(response: httpx.Response) -> None:
    """Map Twilio's error body (``{"code", "message", "more_info", "status"}``)."""
    if response.status_code < 400:
        return
    code = error_code(response)
    log.warning("twilio_refused", status=response.status_code, twilio_code=code)
    error: ProviderError
    if code == UNAVAILABLE:
        error = NumberUnavailableError()
    elif code in BAD_AREA_CODES:
        error = BadAreaCodeError()
    elif code in RESTRICTIONS:
        error = ComplianceRestrictedError(f"{RESTRICTIONS[code]} (Twilio {code})")
    else:
        error = ProviderRejectedError(str(code or response.status_code))
    raise error


def error_code(response: httpx.Response) -> int | None:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def path_part(sid: str) -> str:
    """A sid (or any value) as one URL path segment."""
    return quote(sid, safe="")
