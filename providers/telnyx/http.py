"""Telnyx's API v2 as the adapter calls it: one httpx client (``Authorization: Bearer``), the
retry policy, the outage memory, the credentials alarm, and Telnyx's error bodies
(``{"errors": [{"code", "title", "detail", "source": {"pointer"}}]}``) in the port's terms.

Why httpx and not Telnyx's SDK: the adapter needs control the SDK does not give in one place
— which calls may be retried after a timeout (a create that may have reached Telnyx is
*not*, unless the caller says it is safe), the outage memory that ``check_available`` reads
without a network call, the time budget of each call, and the very same transport in the
fake Telnyx tests run against. It is also what the Twilio adapter does
(``providers.twilio.http``): one rule for both, one dependency fewer, no SDK release that
changes retries or logging under us.

Failures (the rule is ``providers.http_calls``'s, shared with Twilio): timeouts, transport
errors, 5xx and 429 are retried with exponential backoff (honouring ``Retry-After``), then
raised as ProviderUnavailableError; the adapter then reports itself unavailable until the
Retry-After has passed. GETs and DELETEs are always retried; a POST/PUT/PATCH only when the
request surely did not take effect (never sent, or 429), unless the caller passes
``retry_ambiguous`` (a create Telnyx deduplicates itself, such as a campaign with its
``referenceId``). A 401 is logged as ``telnyx_credentials_refused`` at most once a minute,
never with the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from domain.providers import (
    NumberUnavailableError,
    ProviderError,
    ProviderRejectedError,
)
from providers.http_calls import RetryPolicy, SafeRetryingHttp

log = structlog.get_logger("providers.telnyx")

# What this service writes into the objects it creates at Telnyx (a number order's
# ``customer_reference``, a campaign's ``referenceId``): the prefix tells ours from the
# account's others; the rest is our reference.
REFERENCE_PREFIX = "sms-channels:"
# Refusals that say nothing about the payload sent (the credentials, a missing object).
NOT_ABOUT_THE_PAYLOAD = frozenset({"401", "403", "404", "10009"})

Query = Mapping[str, str | int]


@dataclass(frozen=True)
class TelnyxConfig(RetryPolicy):
    """Credentials and endpoints (the retry policy: ``RetryPolicy``).

    ``messaging_profile_id``: every number ordered or hosted joins this messaging profile
    (its inbound webhook is where the numbers' messages go). ``webhook_url``: where Telnyx
    sends brand and campaign status updates (``PUBLIC_BASE_URL`` + the webhook path).
    ``mock_brands``: brands are created with ``mock=true`` (no fees, no TCR review).
    ``order_wait_seconds``: how long a purchase waits for its number order to reach
    ``success`` before it answers "unavailable, try again" (the order goes on).
    """

    api_key: str = field(repr=False)
    messaging_profile_id: str | None = None
    base_url: str = "https://api.telnyx.com/v2"
    webhook_url: str | None = None
    mock_brands: bool = False
    order_wait_seconds: float = 10.0
    order_poll_seconds: float = 0.25


class TelnyxHttp(SafeRetryingHttp):
    """Sends requests to Telnyx with the retry rule (``providers.http_calls``):
    ``Authorization: Bearer`` with the API key, JSON bodies, paths below ``base_url``."""

    log = log
    call_failed_event = "telnyx_call_failed"

    def __init__(
        self,
        config: TelnyxConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        super().__init__(
            config,
            client
            or httpx.Client(
                timeout=config.client_timeout(),
                headers={"Accept": "application/json", "Authorization": f"Bearer {config.api_key}"},
            ),
            sleep=sleep,
            clock=clock,
            jitter=jitter,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: Mapping[str, Any] | None = None,
        retry_ambiguous: bool = False,
    ) -> httpx.Response:
        """Send with retries. Returns any response below 500 other than 429; raises
        ProviderUnavailableError once the attempts are spent."""
        url = path if path.startswith("http") else self.base_url + path
        payload = {k: v for k, v in body.items() if v is not None} if body is not None else None
        return self.send(method, url, params=params, json=payload, retry_ambiguous=retry_ambiguous)

    def json(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: Mapping[str, Any] | None = None,
        missing_ok: bool = False,
        retry_ambiguous: bool = False,
    ) -> dict[str, Any] | None:
        """``call``, then the JSON body of a success; None for a 404 when ``missing_ok``;
        the mapped error otherwise."""
        response = self.call(
            method, path, params=params, body=body, retry_ambiguous=retry_ambiguous
        )
        if missing_ok and response.status_code == 404:
            return None
        raise_for_error(response)
        if not response.content:
            return {}
        document = response.json()
        return document if isinstance(document, dict) else {}

    def data(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        """``json`` unwrapped from Telnyx's ``{"data": …}`` envelope (numbers, messaging)."""
        document = self.json(method, path, **kwargs)
        if document is None:
            return None
        inner = document.get("data")
        return inner if isinstance(inner, dict) else {}

    def pages(self, path: str, params: Query | None = None) -> Iterator[Mapping[str, Any]]:
        """Every item of a v2 list (``data`` + ``meta.total_pages``), page by page."""
        number = 1
        while True:
            query = {**(params or {}), "page[number]": number, "page[size]": 250}
            document = self.json("GET", path, params=query) or {}
            yield from document.get("data") or []
            meta = document.get("meta") or {}
            if number >= int(meta.get("total_pages") or 1):
                return
            number += 1

    def records(self, path: str, params: Query | None = None) -> Iterator[Mapping[str, Any]]:
        """Every record of a 10DLC list (``records`` + ``totalRecords``), page by page."""
        page, seen = 1, 0
        while True:
            query = {**(params or {}), "page": page, "recordsPerPage": 500}
            document = self.json("GET", path, params=query) or {}
            records = document.get("records") or []
            yield from records
            seen += len(records)
            if not records or seen >= int(document.get("totalRecords") or 0):
                return
            page += 1

    def log_credentials_refused(self, response: httpx.Response) -> None:
        log.error("telnyx_credentials_refused", telnyx_code=error_code(response))


def raise_for_error(response: httpx.Response) -> None:
    """Map Telnyx's error body to the port's errors, Telnyx's code kept."""
    if response.status_code < 400:
        return
    code = error_code(response)
    log.warning("telnyx_refused", status=response.status_code, telnyx_code=code)
    raise ProviderRejectedError(code or str(response.status_code))


def first_error(response: httpx.Response) -> Mapping[str, Any]:
    """The first entry of ``errors[]`` (or the body itself for 10DLC's flat errors)."""
    try:
        document = response.json()
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    errors = document.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return dict(errors[0])
    return document


def error_code(response: httpx.Response) -> str | None:
    code = first_error(response).get("code")
    return str(code) if isinstance(code, int | str) and str(code) else None


def error_pointer(response: httpx.Response) -> str:
    source = first_error(response).get("source")
    return (
        str(source.get("pointer") or source.get("parameter") or "")
        if isinstance(source, dict)
        else ""
    )


def unavailable_or_error(response: httpx.Response) -> ProviderError:
    """A refused number order: about its phone number → NumberUnavailableError."""
    if "phone_number" in error_pointer(response):
        return NumberUnavailableError()
    return ProviderRejectedError(error_code(response) or str(response.status_code))


def path_part(value: str) -> str:
    """A value as one URL path segment."""
    return quote(value, safe="")


def error_detail(response: httpx.Response) -> str:
    """What Telnyx says about a refusal (``errors[0].detail``/``title``, or the first
    ``msg`` of a 422 validation body), for the operator's reason."""
    first = first_error(response)
    detail = first.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg") or "")
    return str(detail or first.get("title") or "")
