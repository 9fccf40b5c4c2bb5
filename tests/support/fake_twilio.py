"""A fake Twilio on 127.0.0.1 that answers with the documented JSON shapes (Twilio's public
OpenAPI, ``api_v2010`` numbers and ``numbers_v2`` hosted-number orders, in
tests/data/provider_openapi; the A2P 10DLC and TrustHub half is
``tests.support.fake_twilio_a2p``). Never the internet.

It keeps an inventory per country, the account's incoming numbers and hosting orders;
checks HTTP Basic auth; records every request; and can be told to answer the next requests
with a given status and body (Twilio error codes, 5xx, 429) or to hang past the client's
timeout, either before or after doing what was asked (``Scripted(hang=True,
after=True)``: the object is stored, the answer never comes).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.fake_http import FakeProviderHandler, FakeProviderState
from tests.support.fake_http import Scripted as Scripted  # noqa: PLC0414 (re-export)
from tests.support.fake_twilio_a2p import ROUTES as A2P_ROUTES
from tests.support.fake_twilio_a2p import A2PState

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    authorization: str | None


def twilio_error(code: int, status: int = 400, message: str = "error") -> dict[str, Any]:
    """Twilio's REST error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def available(phone_number: str, locality: str = "Hilo", region: str = "HI") -> dict[str, Any]:
    """One ``available_phone_numbers`` entry, as in the OpenAPI ``readFull`` example."""
    return {
        "address_requirements": "none",
        "beta": False,
        "capabilities": {"mms": True, "sms": True, "voice": True},
        "friendly_name": phone_number,
        "iso_country": "US",
        "lata": "834",
        "latitude": 19.72,
        "locality": locality,
        "longitude": -155.09,
        "phone_number": phone_number,
        "postal_code": "96720",
        "rate_center": "HILO",
        "region": region,
    }


class FakeTwilio(FakeProviderState):
    """The fake server's state and controls; ``url`` serves both api and numbers hosts."""

    requests: list[Recorded]

    def __init__(self) -> None:
        super().__init__()
        self.inventory: dict[str, list[dict[str, Any]]] = {"US": []}
        self.numbers: dict[str, dict[str, Any]] = {}  # sid → incoming_phone_number
        self.orders: dict[str, dict[str, Any]] = {}  # sid → hosted_number_order
        self.a2p = A2PState()
        self.a2p.held = self._held_number
        self.page_size_cap = 1000
        self.url = self.listen(_handler(self))
        self.account_path = f"/2010-04-01/Accounts/{ACCOUNT_SID}"

    # --- controls --------------------------------------------------------------------------

    def hold(self, phone_number: str, *, reference: str | None = None) -> str:
        """Put a number on the account directly (as if bought elsewhere); its sid."""
        sid = "PN" + uuid.uuid4().hex
        friendly = f"sms-channels:{reference}" if reference else phone_number
        with self.lock:
            self.numbers[sid] = _incoming(sid, phone_number, friendly)
        return sid

    def _held_number(self, sid: str) -> str | None:
        number = self.numbers.get(sid)
        return str(number["phone_number"]) if number else None

    # --- lifecycle -----------------------------------------------------------------------------


@contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    try:
        yield server
    finally:
        server.stop()


def _incoming(sid: str, phone_number: str, friendly_name: str) -> dict[str, Any]:
    """An ``incoming_phone_number`` as in the OpenAPI ``create`` example."""
    return {
        "account_sid": ACCOUNT_SID,
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "date_created": "Thu, 30 Jul 2015 23:19:04 +0000",
        "date_updated": "Thu, 30 Jul 2015 23:19:04 +0000",
        "friendly_name": friendly_name,
        "origin": "twilio",
        "phone_number": phone_number,
        "sid": sid,
        "sms_method": "POST",
        "sms_url": "",
        "status": "in-use",
        "type": "local",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{sid}.json",
    }


def _order(sid: str, form: dict[str, str]) -> dict[str, Any]:
    """A ``hosted_number_order`` as in the numbers_v2 ``create`` example."""
    return {
        "account_sid": ACCOUNT_SID,
        "address_sid": form.get("AddressSid"),
        "capabilities": {"sms": True, "voice": False},
        "cc_emails": [],
        "contact_phone_number": form.get("ContactPhoneNumber"),
        "date_created": "2017-03-28T20:06:39Z",
        "date_updated": "2017-03-28T20:06:39Z",
        "email": form.get("Email"),
        "failure_reason": "",
        "friendly_name": form.get("FriendlyName"),
        "incoming_phone_number_sid": None,
        "phone_number": form["PhoneNumber"],
        "sid": sid,
        "signing_document_sid": None,
        "status": "received",
        "url": f"https://numbers.twilio.com/v2/HostedNumber/Orders/{sid}",
        "verification_attempts": 0,
        "verification_call_sids": [],
        "verification_type": "phone-call",
    }


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    class Handler(FakeProviderHandler):
        def handle_method(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            form = parse_qs(self.read_body().decode())
            recorded = Recorded(method, parts.path, query, form, self.headers.get("Authorization"))
            self.serve(
                fake,
                method,
                parts.path,
                recorded,
                authorized=recorded.authorization == expected_auth,
                refusal=twilio_error(20003, 401, "Authenticate"),
                route=lambda: route(fake, method, parts.path, *_flat(query, form), form),
            )

    return Handler


_SEARCH = re.compile(r"/2010-04-01/Accounts/[^/]+/AvailablePhoneNumbers/([A-Z]{2})/Local\.json")
_NUMBERS = re.compile(r"/2010-04-01/Accounts/[^/]+/IncomingPhoneNumbers\.json")
_NUMBER = re.compile(r"/2010-04-01/Accounts/[^/]+/IncomingPhoneNumbers/(PN[0-9a-f]+)\.json")
_ORDERS = re.compile(r"/v2/HostedNumber/Orders")
_ORDER = re.compile(r"/v2/HostedNumber/Orders/(HR[0-9a-f]+)")


Answer = tuple[int, dict[str, Any] | None]
Endpoint = Callable[[FakeTwilio, "re.Match[str]", dict[str, str], dict[str, str]], Answer]


def _flat(
    query: dict[str, list[str]], form: dict[str, list[str]]
) -> tuple[dict[str, str], dict[str, str]]:
    return {k: v[0] for k, v in query.items()}, {k: v[0] for k, v in form.items()}


def route(
    fake: FakeTwilio,
    method: str,
    path: str,
    query: dict[str, str],
    form: dict[str, str],
    repeated: dict[str, list[str]] | None = None,
) -> Answer:
    """The fake's behaviour per documented endpoint (404 in Twilio's shape otherwise).
    ``repeated``: the form with its repeated parameters, for the A2P endpoints."""
    with fake.lock:
        for verb, pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if verb == method and match:
                return handler(fake, match, query, form)
        for verb, pattern, a2p_handler in A2P_ROUTES:
            match = pattern.fullmatch(path)
            if verb == method and match:
                return a2p_handler(fake.a2p, match, query, repeated or {})
    return 404, _not_found()


def _delete_number(fake: FakeTwilio, match: re.Match[str], *_: dict[str, str]) -> Answer:
    return (204, None) if fake.numbers.pop(match.group(1), None) else (404, _not_found())


def _create_order(
    fake: FakeTwilio, _: re.Match[str], __: dict[str, str], form: dict[str, str]
) -> Answer:
    sid = "HR" + uuid.uuid4().hex
    fake.orders[sid] = _order(sid, form)
    return 201, fake.orders[sid]


def _list_orders(
    fake: FakeTwilio, _: re.Match[str], query: dict[str, str], __: dict[str, str]
) -> Answer:
    items = [o for o in fake.orders.values() if o["phone_number"] == query.get("PhoneNumber")]
    return 200, {"items": items, "meta": {"page": 0, "page_size": 20, "key": "items"}}


def _get_order(fake: FakeTwilio, match: re.Match[str], *_: dict[str, str]) -> Answer:
    order = fake.orders.get(match.group(1))
    return (200, order) if order else (404, _not_found())


def _delete_order(fake: FakeTwilio, match: re.Match[str], *_: dict[str, str]) -> Answer:
    return (204, None) if fake.orders.pop(match.group(1), None) else (404, _not_found())


def _not_found() -> dict[str, Any]:
    return twilio_error(20404, 404, "The requested resource was not found")


def _search(
    fake: FakeTwilio, match: re.Match[str], query: dict[str, str], _: dict[str, str]
) -> Answer:
    country = match.group(1)
    if country not in fake.inventory:
        return 404, _not_found()
    held = {n["phone_number"] for n in fake.numbers.values()}
    offers = [
        o
        for o in fake.inventory[country]
        if o["phone_number"] not in held
        and (not query.get("AreaCode") or o["phone_number"][2:5] == query["AreaCode"])
        and (not query.get("Contains") or query["Contains"] in o["phone_number"])
        and (query.get("SmsEnabled") != "true" or o["capabilities"]["sms"])
    ]
    size = int(query.get("PageSize", 50))
    uri = f"{fake.account_path}/AvailablePhoneNumbers/{country}/Local.json"
    return 200, {"available_phone_numbers": offers[:size], "uri": uri}


def _purchase(
    fake: FakeTwilio, _: re.Match[str], __: dict[str, str], form: dict[str, str]
) -> Answer:
    phone_number = form.get("PhoneNumber", "")
    on_offer = any(
        o["phone_number"] == phone_number for offers in fake.inventory.values() for o in offers
    )
    held = any(n["phone_number"] == phone_number for n in fake.numbers.values())
    if not on_offer or held:
        return 400, twilio_error(21422, 400, "PhoneNumber is not available")
    sid = "PN" + uuid.uuid4().hex
    fake.numbers[sid] = _incoming(sid, phone_number, form.get("FriendlyName") or phone_number)
    fake.numbers[sid]["sms_url"] = form.get("SmsUrl") or ""
    return 201, fake.numbers[sid]


def _list_numbers(
    fake: FakeTwilio, match: re.Match[str], query: dict[str, str], _: dict[str, str]
) -> Answer:
    path = match.group(0)
    numbers = sorted(fake.numbers.values(), key=lambda n: str(n["sid"]))
    if query.get("PhoneNumber"):
        numbers = [n for n in numbers if n["phone_number"] == query["PhoneNumber"]]
    size = min(int(query.get("PageSize", 50)), fake.page_size_cap)
    page = int(query.get("Page", 0))
    chunk = numbers[page * size : (page + 1) * size]
    more = (page + 1) * size < len(numbers)
    next_uri = f"{path}?PageSize={size}&Page={page + 1}" if more else None
    return 200, {
        "incoming_phone_numbers": chunk,
        "page": page,
        "page_size": size,
        "next_page_uri": next_uri,
        "uri": f"{path}?PageSize={size}&Page={page}",
    }


_ROUTES: list[tuple[str, re.Pattern[str], Endpoint]] = [
    ("GET", _SEARCH, _search),
    ("POST", _NUMBERS, _purchase),
    ("GET", _NUMBERS, _list_numbers),
    ("DELETE", _NUMBER, _delete_number),
    ("POST", _ORDERS, _create_order),
    ("GET", _ORDERS, _list_orders),
    ("GET", _ORDER, _get_order),
    ("DELETE", _ORDER, _delete_order),
]
