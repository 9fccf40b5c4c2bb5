"""A fake Telnyx API v2 on 127.0.0.1, built from the reference
(tests/data/provider_openapi/telnyx-v2-numbers-10dlc.yml): it answers in Telnyx's shapes
(``{"data": …}`` with ``meta`` for numbers and messaging, ``records``/``totalRecords`` for
10DLC, ``{"errors": [{"code", "title", "detail", "source"}]}`` for refusals), checks the
Bearer key, records every request, and never reaches the internet.

State: an inventory per country, number orders and the numbers they bought, messaging hosted
number orders, brands (their SMS OTPs and external vettings), campaigns (with
``operationStatus`` per carrier network and appeals) and number-to-campaign assignments.

Control surface (the test plays Telnyx): ``order_outcome`` (what new number orders end in),
``set_hosting``, ``set_brand``, ``set_campaign`` (a provisioned campaign assigns its pending
numbers), ``set_assignment``, ``refuse_next_campaign``, ``auto_approve`` (every brand,
campaign and assignment approved on creation), ``answer_next`` (a status and body, or a hang
past the client's timeout, before or after doing what was asked), and signed webhooks with a
test key (``campaign_event``, ``hosting_event``: body and headers, signed with
``SIGNING_KEY``; ``PUBLIC_KEY`` is what the service is configured with).
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from providers.telnyx.webhooks import sign
from tests.support.fake_http import FakeProviderHandler, FakeProviderState
from tests.support.fake_http import Scripted as Scripted  # noqa: PLC0414 (re-export)

API_KEY = "KEYfake-telnyx-api-key-0123456789"
MESSAGING_PROFILE_ID = "40017f8e-49bd-4f16-9e3d-ef103f916228"
SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC_KEY = base64.b64encode(
    SIGNING_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()
CARRIERS = ("10017", "10035", "10037")
OTP_PIN = "123456"
NOW = "2026-07-16T12:00:00.000000Z"

Answer = tuple[int, Any]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None


def telnyx_error(code: str, title: str, detail: str = "", pointer: str = "") -> dict[str, Any]:
    """Telnyx's error body (numbers_Errors / messaging_Errors / 10dlc_Errors)."""
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail or title}
    if pointer:
        error["source"] = {"pointer": pointer}
    return {"errors": [error]}


def available(phone_number: str, locality: str = "Chicago", state: str = "IL") -> dict[str, Any]:
    """One AvailablePhoneNumber, as the reference describes it."""
    return {
        "record_type": "available_phone_number",
        "phone_number": phone_number,
        "vanity_format": "",
        "best_effort": False,
        "quickship": True,
        "reservable": True,
        "region_information": [
            {"region_type": "country_code", "region_name": "US"},
            {"region_type": "rate_center", "region_name": locality.upper()},
            {"region_type": "state", "region_name": state},
            {"region_type": "location", "region_name": locality},
        ],
        "cost_information": {"upfront_cost": "1.00", "monthly_cost": "1.00", "currency": "USD"},
        "features": [{"name": "sms"}, {"name": "mms"}, {"name": "voice"}],
    }


class FakeTelnyx(FakeProviderState):
    """The fake server's state and controls; ``base_url`` is its API v2 root."""

    requests: list[Recorded]

    def __init__(self) -> None:
        super().__init__()
        self.inventory: dict[str, list[dict[str, Any]]] = {"US": []}
        self.numbers: dict[str, dict[str, Any]] = {}  # id → PhoneNumberDetailed
        self.number_orders: dict[str, dict[str, Any]] = {}
        self.hosted_orders: dict[str, dict[str, Any]] = {}
        self.brands: dict[str, dict[str, Any]] = {}
        self.otps: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.operation: dict[str, dict[str, str]] = {}
        self.appeals: list[tuple[str, str]] = []
        self.assignments: dict[str, dict[str, Any]] = {}
        self.vettings: dict[str, list[dict[str, Any]]] = {}  # brandId → ExternalVetting
        self.order_outcome = "success"
        self.auto_approve = False
        self.refusal: tuple[str, str] | None = None
        self._next_number_id = 1293384261075731499
        self.url = self.listen(_handler(self))
        self.base_url = self.url + "/v2"

    # --- controls --------------------------------------------------------------------------

    def offer(self, phone_number: str, country: str = "US") -> None:
        with self.lock:
            self.inventory.setdefault(country, []).append(available(phone_number))

    def hold(self, phone_number: str, *, reference: str | None = None) -> str:
        """Put a number on the account directly (as if bought elsewhere); its id."""
        with self.lock:
            return self._add_number(phone_number, reference, MESSAGING_PROFILE_ID)

    def set_hosting(self, order_id: str, status: str, number_status: str | None = None) -> None:
        with self.lock:
            order = self.hosted_orders[order_id]
            order["status"] = status
            for number in order["phone_numbers"]:
                number["status"] = number_status or status

    def set_brand(
        self,
        brand_id: str,
        status: str,
        identity: str | None = None,
        failure_reasons: str | None = None,
    ) -> None:
        with self.lock:
            brand = self.brands[brand_id]
            brand["status"] = status
            if identity is not None:
                brand["identityStatus"] = identity
            if failure_reasons is not None:
                brand["failureReasons"] = failure_reasons

    def set_campaign(
        self,
        campaign_id: str,
        status: str,
        failure_reasons: str | None = None,
        operation: dict[str, str] | None = None,
    ) -> None:
        with self.lock:
            self._set_campaign(campaign_id, status, failure_reasons, operation)

    def set_assignment(self, phone_number: str, status: str, failure: str | None = None) -> None:
        with self.lock:
            self.assignments[phone_number]["assignmentStatus"] = status
            if failure is not None:
                self.assignments[phone_number]["failureReasons"] = failure

    def refuse_next_campaign(self, code: str, detail: str) -> None:
        with self.lock:
            self.refusal = (code, detail)

    def count(self, kind: str) -> int:
        with self.lock:
            return len(getattr(self, kind))

    # --- webhooks, signed as Telnyx signs them --------------------------------------------

    def campaign_event(
        self, campaign_id: str, kind: str, status: str, description: str = "", at: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A campaignStatusUpdate delivery (CampaignStatusUpdateEvent) and its headers."""
        event = {
            "brandId": self.campaigns[campaign_id]["brandId"]
            if campaign_id in self.campaigns
            else str(uuid.uuid4()),
            "campaignId": campaign_id,
            "createDate": NOW,
            "cspId": "CSP0001",
            "description": description,
            "isTMobileRegistered": status == "ACCEPTED",
            "status": status,
            "type": kind,
        }
        return self.signed(json.dumps(event).encode(), at)

    def hosting_event(
        self, order_id: str, status: str, *, event_id: str | None = None, at: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A hostedNumberOrderEvent delivery (``messaging_hosted_numbers_orders.updated``)."""
        order = self.hosted_orders[order_id]
        event = {
            "data": {
                "event_type": "messaging_hosted_numbers_orders.updated",
                "id": event_id or str(uuid.uuid4()),
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(at)),
                "record_type": "event",
                "payload": {
                    "order_id": order_id,
                    "order_status": status,
                    "profile_id": MESSAGING_PROFILE_ID,
                    "user_id": "c2d3f8b1-0000-4000-8000-000000000001",
                    "decision": "pending",
                    "approval_deadline": None,
                    "numbers": [
                        {"phone_number": n["phone_number"], "status": status}
                        for n in order["phone_numbers"]
                    ],
                },
            }
        }
        return self.signed(json.dumps(event).encode(), at)

    @staticmethod
    def signed(body: bytes, at: int | None = None) -> tuple[bytes, dict[str, str]]:
        timestamp = int(at if at is not None else time.time())
        return body, {
            "Content-Type": "application/json",
            "telnyx-timestamp": str(timestamp),
            "telnyx-signature-ed25519": sign(SIGNING_KEY, body, timestamp),
        }

    # --- lifecycle -----------------------------------------------------------------------------

    # --- state changes (under the lock) ----------------------------------------------------

    def _add_number(self, phone_number: str, reference: str | None, profile: str | None) -> str:
        self._next_number_id += 1
        number_id = str(self._next_number_id)
        self.numbers[number_id] = _phone_number(number_id, phone_number, reference, profile)
        return number_id

    def _set_campaign(
        self,
        campaign_id: str,
        status: str,
        failure_reasons: str | None = None,
        operation: dict[str, str] | None = None,
    ) -> None:
        campaign = self.campaigns[campaign_id]
        campaign["campaignStatus"] = status
        if failure_reasons is not None:
            campaign["failureReasons"] = failure_reasons
        if operation is not None:
            self.operation[campaign_id] = dict(operation)
        elif status == "MNO_PROVISIONED":
            self.operation[campaign_id] = dict.fromkeys(CARRIERS, "APPROVED")
        elif status.startswith("MNO_"):
            self.operation.setdefault(campaign_id, dict.fromkeys(CARRIERS, "REVIEW"))
        if status == "MNO_PROVISIONED":
            for assignment in self.assignments.values():
                pending = assignment["assignmentStatus"] == "PENDING_ASSIGNMENT"
                if assignment["campaignId"] == campaign_id and pending:
                    assignment["assignmentStatus"] = "ASSIGNED"

    def _held(self, phone_number: str) -> bool:
        return any(n["phone_number"] == phone_number for n in self.numbers.values()) or any(
            o["status"] == "successful"
            and any(n["phone_number"] == phone_number for n in o["phone_numbers"])
            for o in self.hosted_orders.values()
        )


@contextmanager
def fake_telnyx() -> Iterator[FakeTelnyx]:
    server = FakeTelnyx().start()
    try:
        yield server
    finally:
        server.stop()


def _phone_number(
    number_id: str, phone_number: str, reference: str | None, profile: str | None
) -> dict[str, Any]:
    """A PhoneNumberDetailed."""
    return {
        "id": number_id,
        "record_type": "phone_number",
        "phone_number": phone_number,
        "status": "active",
        "tags": [],
        "external_pin": None,
        "connection_id": None,
        "connection_name": None,
        "customer_reference": f"sms-channels:{reference}" if reference else None,
        "messaging_profile_id": profile,
        "messaging_profile_name": "sms-channels" if profile else None,
        "billing_group_id": None,
        "emergency_enabled": False,
        "emergency_address_id": None,
        "call_forwarding_enabled": True,
        "cnam_listing_enabled": False,
        "caller_id_name_enabled": False,
        "call_recording_enabled": False,
        "t38_fax_gateway_enabled": True,
        "phone_number_type": "local",
        "country_iso_alpha2": "US",
        "purchased_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "activated_at": NOW,
        "deletion_lock_enabled": False,
        "source_type": "number_order",
        "hd_voice_enabled": False,
        "inbound_call_screening": "disabled",
    }


def _handler(fake: FakeTelnyx) -> type[BaseHTTPRequestHandler]:
    class Handler(FakeProviderHandler):
        def do_PUT(self) -> None:
            self.handle_method("PUT")

        def handle_method(self, method: str) -> None:
            parts = urlsplit(self.path)
            raw = self.read_body()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self.send_json(400, telnyx_error("10015", "Bad request", "The body is not JSON."))
                return
            query = parse_qs(parts.query)
            path = parts.path
            recorded = Recorded(method, path, query, body, self.headers.get("Authorization"))
            flat = {k: v[0] for k, v in query.items()}
            self.serve(
                fake,
                method,
                path,
                recorded,
                authorized=recorded.authorization == f"Bearer {API_KEY}",
                refusal=telnyx_error(
                    "10009", "Authentication failed", "Could not understand the credentials."
                ),
                route=lambda: route(fake, method, path, flat, body),
            )

    return Handler


Endpoint = Callable[[FakeTelnyx, "re.Match[str]", dict[str, str], Any], Answer]


def route(fake: FakeTelnyx, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
    """The fake's behaviour per documented endpoint (404 in Telnyx's shape otherwise)."""
    with fake.lock:
        for verb, pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if verb == method and match:
                return handler(fake, match, query, body if isinstance(body, dict) else {})
    return 404, _not_found()


def _not_found() -> dict[str, Any]:
    return telnyx_error("10005", "Resource not found", "The requested resource was not found.")


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """A v2 list page (``page[number]``, ``page[size]``) with its ``meta``."""
    size = max(1, min(int(query.get("page[size]", 20)), 250))
    number = max(1, int(query.get("page[number]", 1)))
    chunk = items[(number - 1) * size : number * size]
    pages = max(1, -(-len(items) // size))
    meta = {
        "page_number": number,
        "page_size": size,
        "total_pages": pages,
        "total_results": len(items),
    }
    return {"data": chunk, "meta": meta}


def _records(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """A 10DLC list page (``page``, ``recordsPerPage``)."""
    size = max(1, min(int(query.get("recordsPerPage", 10)), 500))
    page = max(1, int(query.get("page", 1)))
    return {
        "page": page,
        "records": items[(page - 1) * size : page * size],
        "totalRecords": len(items),
    }


# --- numbers ------------------------------------------------------------------------------


def _search(fake: FakeTelnyx, _: re.Match[str], query: dict[str, str], __: Any) -> Answer:
    country = query.get("filter[country_code]", "")
    if country not in fake.inventory:
        return 422, telnyx_error(
            "10015", "Invalid filter", "No coverage in this country.", "filter[country_code]"
        )
    area = query.get("filter[national_destination_code]")
    if area is not None and not (area.isdigit() and len(area) == 3):
        return 422, telnyx_error(
            "10015",
            "Invalid filter",
            "Unknown national destination code.",
            "filter[national_destination_code]",
        )
    contains = query.get("filter[phone_number][contains]")
    offers = [
        o
        for o in fake.inventory[country]
        if not fake._held(o["phone_number"])
        and (not area or o["phone_number"][2:5] == area)
        and (not contains or contains in o["phone_number"])
    ]
    limit = int(query.get("filter[limit]", 50))
    chosen = offers[:limit]
    meta = {"total_results": len(chosen), "best_effort_results": 0}
    return 200, {"data": chosen, "meta": meta, "metadata": meta}


def _create_number_order(fake: FakeTelnyx, _: re.Match[str], __: Any, body: Any) -> Answer:
    wanted = [str(n.get("phone_number")) for n in body.get("phone_numbers") or []]
    on_offer = {o["phone_number"] for offers in fake.inventory.values() for o in offers}
    for index, number in enumerate(wanted):
        if number not in on_offer or fake._held(number):
            return 422, telnyx_error(
                "10015",
                "Invalid phone number",
                f"{number} is not available for purchase.",
                f"/phone_numbers/{index}/phone_number",
            )
    order_id = str(uuid.uuid4())
    status = fake.order_outcome
    reference = str(body.get("customer_reference") or "")
    order = {
        "id": order_id,
        "record_type": "number_order",
        "phone_numbers_count": len(wanted),
        "messaging_profile_id": body.get("messaging_profile_id"),
        "customer_reference": reference or None,
        "status": status,
        "requirements_met": status != "pending",
        "sub_number_orders_ids": [str(uuid.uuid4())],
        "created_at": NOW,
        "updated_at": NOW,
        "phone_numbers": [
            {
                "id": str(uuid.uuid4()),
                "record_type": "number_order_phone_number",
                "phone_number": number,
                "phone_number_type": "local",
                "country_code": "US",
                "country_iso_alpha2": "US",
                "regulatory_requirements": [],
                "requirements_met": status != "pending",
                "requirements_status": "approved",
                "status": status,
            }
            for number in wanted
        ],
    }
    order = {k: v for k, v in order.items() if v is not None}
    fake.number_orders[order_id] = order
    if status == "success":
        for number in wanted:
            own = reference.removeprefix("sms-channels:") if reference else None
            fake._add_number(number, own, body.get("messaging_profile_id"))
    return 200, {"data": order}


def _get_number_order(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    order = fake.number_orders.get(match.group(1))
    return (200, {"data": order}) if order else (404, _not_found())


def _list_numbers(fake: FakeTelnyx, _: re.Match[str], query: dict[str, str], __: Any) -> Answer:
    numbers = sorted(fake.numbers.values(), key=lambda n: str(n["id"]))
    if query.get("filter[phone_number]"):
        numbers = [n for n in numbers if n["phone_number"] == query["filter[phone_number]"]]
    return 200, _page(numbers, query)


def _delete_number(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    number = fake.numbers.pop(match.group(1), None)
    if number is None:
        return 404, _not_found()
    deleted = {k: v for k, v in number.items() if k not in _NOT_IN_DELETED and v is not None}
    return 200, {"data": {**deleted, "status": "deleted"}}


# PhoneNumberDetailed fields PhoneNumberDeletedDetailed does not have.
_NOT_IN_DELETED = frozenset({"country_iso_alpha2", "inbound_call_screening", "source_type"})


# --- messaging hosted number orders -------------------------------------------------------


def _create_hosted(fake: FakeTelnyx, _: re.Match[str], __: Any, body: Any) -> Answer:
    order_id = str(uuid.uuid4())
    order = {
        "id": order_id,
        "record_type": "messaging_hosted_number_order",
        "messaging_profile_id": body.get("messaging_profile_id"),
        "status": "pending",
        "phone_numbers": [
            {
                "id": str(uuid.uuid4()),
                "record_type": "messaging_hosted_number",
                "phone_number": str(number),
                "status": "pending",
            }
            for number in body.get("phone_numbers") or []
        ],
    }
    fake.hosted_orders[order_id] = order
    return 200, {"data": order}


def _list_hosted(fake: FakeTelnyx, _: re.Match[str], query: dict[str, str], __: Any) -> Answer:
    return 200, _page(list(fake.hosted_orders.values()), query)


def _get_hosted(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    order = fake.hosted_orders.get(match.group(1))
    return (200, {"data": order}) if order else (404, _not_found())


def _delete_hosted(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    order = fake.hosted_orders.pop(match.group(1), None)
    if order is None:
        return 404, _not_found()
    return 200, {"data": {**order, "status": "deleted"}}


# --- 10DLC brands --------------------------------------------------------------------------

_BRAND_REQUIRED = ("entityType", "displayName", "country", "email", "vertical")


def _validation(field_name: str) -> dict[str, Any]:
    """FastAPI-style HTTPValidationError, as the 10DLC API answers 422."""
    return {"detail": [{"loc": ["body", field_name], "msg": "field required", "type": "missing"}]}


def _create_brand(fake: FakeTelnyx, _: re.Match[str], __: Any, body: Any) -> Answer:
    for name in _BRAND_REQUIRED:
        if not body.get(name):
            return 422, _validation(name)
    brand_id = str(uuid.uuid4())
    sole = body.get("entityType") == "SOLE_PROPRIETOR"
    approved = fake.auto_approve
    brand = {
        **{k: v for k, v in body.items() if k != "ipAddress"},
        "brandId": brand_id,
        "referenceId": brand_id,
        "tcrBrandId": "B" + uuid.uuid4().hex[:6].upper(),
        "cspId": "CSP0001",
        "brandRelationship": "BASIC_ACCOUNT",
        "status": "OK" if approved else "REGISTRATION_PENDING",
        "identityStatus": "VERIFIED" if approved and not sole else "UNVERIFIED",
        "mock": bool(body.get("mock")),
        "createdAt": NOW,
        "updatedAt": NOW,
    }
    fake.brands[brand_id] = brand
    return 200, brand


def _list_brands(fake: FakeTelnyx, _: re.Match[str], query: dict[str, str], __: Any) -> Answer:
    brands = list(fake.brands.values())
    if query.get("displayName"):
        brands = [b for b in brands if b.get("displayName") == query["displayName"]]
    return 200, _records([_basic(fake, b) for b in brands], query)


_BASIC = (
    "brandId", "companyName", "createdAt", "displayName", "email", "entityType",
    "failureReasons", "identityStatus", "status", "tcrBrandId", "updatedAt", "website",
)  # fmt: skip


def _basic(fake: FakeTelnyx, brand: dict[str, Any]) -> dict[str, Any]:
    """A BrandBasic: what the brand list answers (not the whole TelnyxBrand)."""
    count = sum(1 for c in fake.campaigns.values() if c["brandId"] == brand["brandId"])
    basic = {k: brand[k] for k in _BASIC if brand.get(k) is not None}
    return {**basic, "assignedCampaingsCount": count}  # sic: the reference's spelling


def _get_brand(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    brand = fake.brands.get(match.group(1))
    if brand is None:
        return 404, _not_found()
    count = sum(1 for c in fake.campaigns.values() if c["brandId"] == brand["brandId"])
    return 200, {**brand, "assignedCampaignsCount": count}


def _get_otp(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    otp = fake.otps.get(match.group(1))
    return (200, otp) if otp else (404, _validation("brandId"))


def _trigger_otp(fake: FakeTelnyx, match: re.Match[str], __: Any, body: Any) -> Answer:
    brand = fake.brands.get(match.group(1))
    if brand is None or brand.get("entityType") != "SOLE_PROPRIETOR":
        return 400, _validation("brandId")
    if "@OTP_PIN@" not in str(body.get("pinSms") or ""):
        return 422, _validation("pinSms")
    reference = "OTP" + uuid.uuid4().hex[:5].upper()
    fake.otps[brand["brandId"]] = {
        "brandId": brand["brandId"],
        "referenceId": reference,
        "mobilePhone": brand.get("mobilePhone"),
        "requestDate": NOW,
        "deliveryStatus": "DELIVERED_HANDSET",
    }
    return 200, {"brandId": brand["brandId"], "referenceId": reference}


def _verify_otp(fake: FakeTelnyx, match: re.Match[str], __: Any, body: Any) -> Answer:
    brand = fake.brands.get(match.group(1))
    if brand is None or body.get("otpPin") != OTP_PIN:
        return 400, _validation("otpPin")
    brand["identityStatus"] = "VERIFIED"
    brand["status"] = "OK"
    fake.otps[brand["brandId"]]["verifyDate"] = NOW
    return 204, None


def _list_vettings(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    if match.group(1) not in fake.brands:
        return 404, _not_found()
    return 200, fake.vettings.get(match.group(1), [])


def _vetting(fake: FakeTelnyx, brand_id: str, body: Any, vetted: bool) -> Answer:
    if brand_id not in fake.brands:
        return 404, _not_found()
    records = fake.vettings.setdefault(brand_id, [])
    if any(r["evpId"] == body.get("evpId") and r.get("vettedDate") for r in records):
        return 400, telnyx_error("10012", "Vetting already exists")
    record = {
        "evpId": body.get("evpId"),
        "vettingId": body.get("vettingId") or uuid.uuid4().hex[:12].upper(),
        "vettingClass": body.get("vettingClass") or ("POLITICAL" if vetted else "STANDARD"),
        "createDate": NOW,
        "vettedDate": NOW if vetted else None,
    }
    record = {k: v for k, v in record.items() if v is not None}
    records.append(record)
    return 200, record


def _order_vetting(fake: FakeTelnyx, match: re.Match[str], __: Any, body: Any) -> Answer:
    if not body.get("evpId") or not body.get("vettingClass"):
        return 422, _validation("evpId")
    return _vetting(fake, match.group(1), body, vetted=False)


def _import_vetting(fake: FakeTelnyx, match: re.Match[str], __: Any, body: Any) -> Answer:
    if not body.get("evpId") or not body.get("vettingId"):
        return 422, _validation("vettingId")
    return _vetting(fake, match.group(1), body, vetted=True)


# --- 10DLC campaigns -----------------------------------------------------------------------


def _create_campaign(fake: FakeTelnyx, _: re.Match[str], __: Any, body: Any) -> Answer:
    for name in ("brandId", "description", "usecase"):
        if not body.get(name):
            return 422, _validation(name)
    brand = fake.brands.get(str(body["brandId"]))
    if brand is None or brand["status"] != "OK" or brand["identityStatus"] == "UNVERIFIED":
        return 400, telnyx_error("10002", "Brand not eligible", "The brand is not registered.")
    reference = body.get("referenceId")
    if reference and any(c.get("referenceId") == reference for c in fake.campaigns.values()):
        return 400, telnyx_error("10016", "Duplicate referenceId", "referenceId must be unique.")
    if fake.refusal is not None:
        code, detail = fake.refusal
        fake.refusal = None
        return 400, telnyx_error(code, "Campaign refused", detail)
    campaign_id = str(uuid.uuid4())
    fake.campaigns[campaign_id] = {
        **body,
        "campaignId": campaign_id,
        "tcrCampaignId": "C" + uuid.uuid4().hex[:6].upper(),
        "tcrBrandId": brand["tcrBrandId"],
        "brandDisplayName": brand["displayName"],
        "cspId": "CSP0001",
        "mock": bool(brand.get("mock")),
        "subUsecases": body.get("subUsecases") or [],
        "termsAndConditions": bool(body.get("termsAndConditions", True)),
        "campaignStatus": "TCR_PENDING",
        "status": "ACTIVE",
        "submissionStatus": "CREATED",
        "createDate": NOW,
        "isTMobileRegistered": False,
        "isTMobileSuspended": False,
        "isTMobileNumberPoolingEnabled": False,
    }
    if fake.auto_approve:
        fake._set_campaign(campaign_id, "MNO_PROVISIONED")
    return 200, fake.campaigns[campaign_id]


def _list_campaigns(fake: FakeTelnyx, _: re.Match[str], query: dict[str, str], __: Any) -> Answer:
    if not query.get("brandId"):
        return 422, _validation("brandId")
    found = [c for c in fake.campaigns.values() if c["brandId"] == query["brandId"]]
    return 200, _records(found, query)


def _get_campaign(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    campaign = fake.campaigns.get(match.group(1))
    return (200, campaign) if campaign else (404, _not_found())


_EDITABLE = frozenset({"sample1", "sample2", "sample3", "sample4", "sample5"})


def _update_campaign(fake: FakeTelnyx, match: re.Match[str], __: Any, body: Any) -> Answer:
    """UpdateCampaign: only the sample messages are editable (the reference's note)."""
    campaign = fake.campaigns.get(match.group(1))
    if campaign is None:
        return 404, _not_found()
    campaign.update({k: v for k, v in body.items() if k in _EDITABLE})
    return 200, campaign


def _operation_status(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    if match.group(1) not in fake.campaigns:
        return 404, _not_found()
    return 200, fake.operation.get(match.group(1), {})


def _appeal(fake: FakeTelnyx, match: re.Match[str], __: Any, body: Any) -> Answer:
    campaign = fake.campaigns.get(match.group(1))
    if campaign is None:
        return 404, telnyx_error("10005", "Campaign not found")
    if not body.get("appeal_reason"):
        return 422, _validation("appeal_reason")
    if campaign["campaignStatus"] not in ("TELNYX_FAILED", "MNO_REJECTED"):
        return 400, telnyx_error("10017", "Campaign not in appealable status")
    fake.appeals.append((campaign["campaignId"], str(body["appeal_reason"])))
    campaign["campaignStatus"] = "TCR_ACCEPTED"
    return 200, {"appealed_at": "2026-07-16T12:00:00.000000+00:00"}


# --- 10DLC number assignments --------------------------------------------------------------


def _assign(fake: FakeTelnyx, match: re.Match[str] | None, body: Any) -> Answer:
    phone_number = str(body.get("phoneNumber") or "")
    campaign = fake.campaigns.get(str(body.get("campaignId") or ""))
    if campaign is None:
        return 400, telnyx_error("10005", "Campaign not found")
    if not fake._held(phone_number):
        return 400, telnyx_error("10006", "Phone number not on this account")
    if match is None and phone_number in fake.assignments:
        return 400, telnyx_error("10018", "The number is already assigned")
    provisioned = campaign["campaignStatus"] == "MNO_PROVISIONED"
    fake.assignments[phone_number] = {
        "phoneNumber": phone_number,
        "campaignId": campaign["campaignId"],
        "telnyxCampaignId": campaign["campaignId"],
        "brandId": campaign["brandId"],
        "tcrBrandId": campaign["tcrBrandId"],
        "tcrCampaignId": campaign["tcrCampaignId"],
        "assignmentStatus": "ASSIGNED" if provisioned else "PENDING_ASSIGNMENT",
        "createdAt": NOW,
        "updatedAt": NOW,
    }
    return 200, fake.assignments[phone_number]


def _create_assignment(fake: FakeTelnyx, _: re.Match[str], __: Any, body: Any) -> Answer:
    return _assign(fake, None, body)


def _put_assignment(fake: FakeTelnyx, match: re.Match[str], __: Any, body: Any) -> Answer:
    return _assign(fake, match, {**body, "phoneNumber": unquote(match.group(1))})


def _get_assignment(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    found = fake.assignments.get(unquote(match.group(1)))
    return (200, found) if found else (404, _not_found())


def _list_assignments(fake: FakeTelnyx, _: re.Match[str], query: dict[str, str], __: Any) -> Answer:
    found = list(fake.assignments.values())
    if query.get("filter[telnyx_campaign_id]"):
        found = [a for a in found if a["campaignId"] == query["filter[telnyx_campaign_id]"]]
    return 200, _records(found, query)


def _delete_assignment(fake: FakeTelnyx, match: re.Match[str], *_: Any) -> Answer:
    found = fake.assignments.pop(unquote(match.group(1)), None)
    return (200, found) if found else (404, _not_found())


_ID = r"([^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], Endpoint]] = [
    ("GET", re.compile(r"/v2/available_phone_numbers"), _search),
    ("POST", re.compile(r"/v2/number_orders"), _create_number_order),
    ("GET", re.compile(rf"/v2/number_orders/{_ID}"), _get_number_order),
    ("GET", re.compile(r"/v2/phone_numbers"), _list_numbers),
    ("DELETE", re.compile(rf"/v2/phone_numbers/{_ID}"), _delete_number),
    ("POST", re.compile(r"/v2/messaging_hosted_number_orders"), _create_hosted),
    ("GET", re.compile(r"/v2/messaging_hosted_number_orders"), _list_hosted),
    ("GET", re.compile(rf"/v2/messaging_hosted_number_orders/{_ID}"), _get_hosted),
    ("DELETE", re.compile(rf"/v2/messaging_hosted_number_orders/{_ID}"), _delete_hosted),
    ("POST", re.compile(r"/v2/10dlc/brand"), _create_brand),
    ("GET", re.compile(r"/v2/10dlc/brand"), _list_brands),
    ("GET", re.compile(rf"/v2/10dlc/brand/{_ID}"), _get_brand),
    ("GET", re.compile(rf"/v2/10dlc/brand/{_ID}/smsOtp"), _get_otp),
    ("POST", re.compile(rf"/v2/10dlc/brand/{_ID}/smsOtp"), _trigger_otp),
    ("PUT", re.compile(rf"/v2/10dlc/brand/{_ID}/smsOtp"), _verify_otp),
    ("GET", re.compile(rf"/v2/10dlc/brand/{_ID}/externalVetting"), _list_vettings),
    ("POST", re.compile(rf"/v2/10dlc/brand/{_ID}/externalVetting"), _order_vetting),
    ("PUT", re.compile(rf"/v2/10dlc/brand/{_ID}/externalVetting"), _import_vetting),
    ("POST", re.compile(r"/v2/10dlc/campaignBuilder"), _create_campaign),
    ("GET", re.compile(r"/v2/10dlc/campaign"), _list_campaigns),
    ("GET", re.compile(rf"/v2/10dlc/campaign/{_ID}"), _get_campaign),
    ("PUT", re.compile(rf"/v2/10dlc/campaign/{_ID}"), _update_campaign),
    ("GET", re.compile(rf"/v2/10dlc/campaign/{_ID}/operationStatus"), _operation_status),
    ("POST", re.compile(rf"/v2/10dlc/campaign/{_ID}/appeal"), _appeal),
    ("POST", re.compile(r"/v2/10dlc/phone_number_campaigns"), _create_assignment),
    ("GET", re.compile(r"/v2/10dlc/phone_number_campaigns"), _list_assignments),
    ("GET", re.compile(rf"/v2/10dlc/phone_number_campaigns/{_ID}"), _get_assignment),
    ("PUT", re.compile(rf"/v2/10dlc/phone_number_campaigns/{_ID}"), _put_assignment),
    ("DELETE", re.compile(rf"/v2/10dlc/phone_number_campaigns/{_ID}"), _delete_assignment),
]
