"""The fake Twilio's US A2P 10DLC half: TrustHub (customer profiles, trust products, end
users, supporting documents, entity assignments, evaluations), api_v2010 Addresses, and
messaging_v1 (brand registrations, Messaging Services, their numbers and their
``Compliance/Usa2p`` campaign), answering the shapes of tests/data/provider_openapi.

State lives in ``A2PState`` (``FakeTwilio.a2p``); tests move it with ``set_brand``,
``set_campaign`` and ``evaluation``. Handlers run under the fake's lock and receive the
form with its repeated parameters (``MessageSamples``, the keywords).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
STAMP = "2026-12-01T11:00:00Z"

Form = dict[str, list[str]]
Answer = tuple[int, dict[str, Any] | None]


@dataclass
class A2PState:
    """Everything the fake account holds for 10DLC, by sid."""

    bundles: dict[str, dict[str, Any]] = field(default_factory=dict)  # BU… (both kinds)
    end_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    brands: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)  # MG… → campaign
    service_numbers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    evaluation: str = "compliant"
    # The E.164 number of an incoming number sid the account holds (set by FakeTwilio).
    held: Callable[[str], str | None] = lambda _: None
    brand_status: str = "PENDING"
    campaign_status: str = "IN_PROGRESS"
    # Campaign updates taken (POST …/Compliance/Usa2p/{QE}), and brand vettings (VT…).
    campaign_updates: list[dict[str, Any]] = field(default_factory=list)
    vettings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def set_brand(
        self,
        sid: str,
        status: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        score: int | None = None,
        feedback: list[str] | None = None,
    ) -> None:
        self.brands[sid]["status"] = status
        self.brands[sid]["errors"] = errors or []
        if score is not None:
            self.brands[sid]["brand_score"] = score
        if feedback is not None:
            self.brands[sid]["brand_feedback"] = feedback

    def set_rate_limits(self, service_sid: str, rate_limits: dict[str, Any]) -> None:
        """The carriers' limits on the service's campaign (``rate_limits``)."""
        self.campaigns[service_sid]["rate_limits"] = rate_limits

    def set_campaign(
        self, service_sid: str, status: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        self.campaigns[service_sid]["campaign_status"] = status
        self.campaigns[service_sid]["errors"] = errors or []

    def count(self, kind: str) -> int:
        return len(getattr(self, kind))


def sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _one(form: Form, name: str, default: str | None = None) -> str | None:
    values = form.get(name)
    return values[0] if values else default


def _flag(form: Form, name: str) -> bool:
    return _one(form, name) == "true"


def _error(code: int, status: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _missing() -> Answer:
    return 404, _error(20404, 404, "The requested resource was not found")


def _page(key: str, items: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """A v1 list page (everything on one page)."""
    return {
        key: items,
        "meta": {
            "first_page_url": f"{url}?PageSize=1000&Page=0",
            "key": key,
            "next_page_url": None,
            "page": 0,
            "page_size": 1000,
            "previous_page_url": None,
            "url": f"{url}?PageSize=1000&Page=0",
        },
    }


# --- TrustHub ------------------------------------------------------------------------------


def _bundle_kind(path: str) -> str:
    return "CustomerProfiles" if "/CustomerProfiles" in path else "TrustProducts"


def _bundle(state: A2PState, kind: str, form: Form) -> dict[str, Any]:
    new = sid("BU")
    url = f"https://trusthub.twilio.com/v1/{kind}/{new}"
    body: dict[str, Any] = {
        "sid": new,
        "account_sid": ACCOUNT_SID,
        "policy_sid": _one(form, "PolicySid"),
        "friendly_name": _one(form, "FriendlyName"),
        "status": "draft",
        "valid_until": None,
        "email": _one(form, "Email"),
        "status_callback": _one(form, "StatusCallback"),
        "date_created": STAMP,
        "date_updated": STAMP,
        "url": url,
        "links": {
            "entity_assignments": f"{url}/EntityAssignments",
            "evaluations": f"{url}/Evaluations",
            "channel_endpoint_assignment": f"{url}/ChannelEndpointAssignments",
        },
        "errors": None,
    }
    state.bundles[new] = body
    return body


def create_bundle(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    for name in ("FriendlyName", "Email", "PolicySid"):
        if not _one(form, name):
            return 400, _error(21604, 400, f"{name} is required")
    return 201, _bundle(state, _bundle_kind(m.group(0)), form)


def list_bundles(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    kind = _bundle_kind(m.group(0))
    items = [
        b
        for b in state.bundles.values()
        if f"/{kind}/" in b["url"] and q.get("FriendlyName") in (None, b["friendly_name"])
    ]
    return 200, _page("results", items, f"https://trusthub.twilio.com/v1/{kind}")


def get_bundle(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    found = state.bundles.get(m.group(1))
    if found is None or f"/{_bundle_kind(m.group(0))}/" not in found["url"]:
        return _missing()
    return 200, found


def update_bundle(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    status, found = get_bundle(state, m, q, form)
    if found is None or status != 200:
        return status, found
    if _one(form, "Status"):
        found["status"] = _one(form, "Status")
    return 200, found


def assign(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    bundle = state.bundles.get(m.group(1))
    if bundle is None:
        return _missing()
    key = "customer_profile_sid" if "/CustomerProfiles/" in m.group(0) else "trust_product_sid"
    new = sid("BV")
    body = {
        "sid": new,
        key: bundle["sid"],
        "account_sid": ACCOUNT_SID,
        "object_sid": _one(form, "ObjectSid"),
        "date_created": STAMP,
        "url": f"{bundle['url']}/EntityAssignments/{new}",
    }
    state.assignments.setdefault(bundle["sid"], []).append(body)
    return 201, body


def list_assignments(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    bundle = state.bundles.get(m.group(1))
    if bundle is None:
        return _missing()
    items = state.assignments.get(bundle["sid"], [])
    return 200, _page("results", items, f"{bundle['url']}/EntityAssignments")


def evaluate(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    bundle = state.bundles.get(m.group(1))
    if bundle is None:
        return _missing()
    key = "customer_profile_sid" if "/CustomerProfiles/" in m.group(0) else "trust_product_sid"
    new = sid("EL")
    passed = state.evaluation == "compliant"
    invalid = [
        {
            "friendly_name": "First Name",
            "object_field": "first_name",
            "failure_reason": "The First Name is missing.",
            "error_code": 22215,
        }
    ]
    return 201, {
        "sid": new,
        "account_sid": ACCOUNT_SID,
        "policy_sid": _one(form, "PolicySid"),
        key: bundle["sid"],
        "status": state.evaluation,
        "results": [
            {
                "friendly_name": "Authorized Representative",
                "object_type": "authorized_representative_1",
                "passed": passed,
                "failure_reason": "" if passed else "The representative is incomplete.",
                "error_code": 0 if passed else 22214,
                "valid": [],
                "invalid": [] if passed else invalid,
                "requirement_friendly_name": "Authorized Representative",
                "requirement_name": "authorized_representative_1",
            }
        ],
        "date_created": STAMP,
        "url": f"{bundle['url']}/Evaluations/{new}",
    }


def _document(prefix: str, kind: str, store: dict[str, dict[str, Any]], form: Form) -> Answer:
    if not _one(form, "FriendlyName") or not _one(form, "Type"):
        return 400, _error(21604, 400, "FriendlyName and Type are required")
    new = sid(prefix)
    body: dict[str, Any] = {
        "sid": new,
        "account_sid": ACCOUNT_SID,
        "friendly_name": _one(form, "FriendlyName"),
        "type": _one(form, "Type"),
        "attributes": json.loads(_one(form, "Attributes") or "{}"),
        "date_created": STAMP,
        "date_updated": STAMP,
        "url": f"https://trusthub.twilio.com/v1/{kind}/{new}",
    }
    if prefix == "RD":
        body |= {"mime_type": None, "status": "DRAFT"}
    store[new] = body
    return 201, body


def create_end_user(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    return _document("IT", "EndUsers", state.end_users, form)


def list_end_users(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    items = list(state.end_users.values())
    return 200, _page("results", items, "https://trusthub.twilio.com/v1/EndUsers")


def create_document(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    return _document("RD", "SupportingDocuments", state.documents, form)


def list_documents(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    items = list(state.documents.values())
    return 200, _page("results", items, "https://trusthub.twilio.com/v1/SupportingDocuments")


def create_address(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    new = sid("AD")
    body = {
        "sid": new,
        "account_sid": ACCOUNT_SID,
        "friendly_name": _one(form, "FriendlyName"),
        "customer_name": _one(form, "CustomerName"),
        "street": _one(form, "Street"),
        "city": _one(form, "City"),
        "region": _one(form, "Region"),
        "postal_code": _one(form, "PostalCode"),
        "iso_country": _one(form, "IsoCountry"),
    }
    state.addresses[new] = body
    return 201, body


def list_addresses(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    items = [
        a for a in state.addresses.values() if q.get("FriendlyName") in (None, a["friendly_name"])
    ]
    return 200, {"addresses": items, "next_page_uri": None}


# --- messaging_v1: brands -------------------------------------------------------------------


def create_brand(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    profile, product = _one(form, "CustomerProfileBundleSid"), _one(form, "A2PProfileBundleSid")
    if profile not in state.bundles or product not in state.bundles:
        return 400, _error(21601, 400, "Bundle not found")
    new = sid("BN")
    url = f"https://messaging.twilio.com/v1/a2p/BrandRegistrations/{new}"
    sole = _one(form, "BrandType") == "SOLE_PROPRIETOR"
    body: dict[str, Any] = {
        "sid": new,
        "account_sid": ACCOUNT_SID,
        "customer_profile_bundle_sid": profile,
        "a2p_profile_bundle_sid": product,
        "date_created": STAMP,
        "date_updated": STAMP,
        "brand_type": _one(form, "BrandType", "STANDARD"),
        "status": state.brand_status,
        "tcr_id": None,
        "failure_reason": None,
        "errors": [],
        "url": url,
        "brand_score": None,
        "brand_feedback": None,
        "identity_status": None if sole else "UNVERIFIED",
        "russell_3000": None,
        "government_entity": None,
        "tax_exempt_status": None,
        "skip_automatic_sec_vet": _flag(form, "SkipAutomaticSecVet"),
        "mock": _flag(form, "Mock"),
        "links": {
            "brand_vettings": f"{url}/Vettings",
            "brand_registration_otps": f"{url}/SmsOtp",
        },
    }
    state.brands[new] = body
    return 201, body


def list_brands(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    items = list(state.brands.values())
    return 200, _page("data", items, "https://messaging.twilio.com/v1/a2p/BrandRegistrations")


def get_brand(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    found = state.brands.get(m.group(1))
    return (200, found) if found else _missing()


# --- messaging_v1: services, numbers, campaigns ---------------------------------------------


def create_service(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    if not _one(form, "FriendlyName"):
        return 400, _error(21604, 400, "FriendlyName is required")
    new = sid("MG")
    url = f"https://messaging.twilio.com/v1/Services/{new}"
    body = {
        "sid": new,
        "account_sid": ACCOUNT_SID,
        "friendly_name": _one(form, "FriendlyName"),
        "date_created": STAMP,
        "date_updated": STAMP,
        "inbound_request_url": _one(form, "InboundRequestUrl"),
        "inbound_method": _one(form, "InboundMethod", "POST"),
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": None,
        "sticky_sender": True,
        "mms_converter": True,
        "smart_encoding": True,
        "scan_message_content": "inherit",
        "fallback_to_long_code": True,
        "area_code_geomatch": True,
        "synchronous_validation": False,
        "validity_period": 14400,
        "url": url,
        "links": {
            "phone_numbers": f"{url}/PhoneNumbers",
            "us_app_to_person": f"{url}/Compliance/Usa2p",
        },
        "usecase": "undeclared",
        "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": _flag(form, "UseInboundWebhookOnNumber"),
    }
    state.services[new] = body
    state.service_numbers[new] = {}
    return 201, body


def list_services(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    items = list(state.services.values())
    return 200, _page("services", items, "https://messaging.twilio.com/v1/Services")


def add_number(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    service = state.services.get(m.group(1))
    number_sid = _one(form, "PhoneNumberSid") or ""
    if service is None:
        return _missing()
    phone_number = state.held(number_sid)
    if phone_number is None:
        return 400, _error(21606, 400, "The phone number is not on this account")
    numbers = state.service_numbers[service["sid"]]
    if number_sid in numbers:
        return 409, _error(21710, 409, "Phone Number is already in the Messaging Service")
    body = {
        "sid": number_sid,
        "account_sid": ACCOUNT_SID,
        "service_sid": service["sid"],
        "date_created": STAMP,
        "date_updated": STAMP,
        "phone_number": phone_number,
        "country_code": "US",
        "capabilities": ["SMS"],
        "url": f"{service['url']}/PhoneNumbers/{number_sid}",
    }
    numbers[number_sid] = body
    return 201, body


def get_number(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    found = state.service_numbers.get(m.group(1), {}).get(m.group(2))
    return (200, found) if found else _missing()


def create_campaign(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    service = state.services.get(m.group(1))
    if service is None:
        return _missing()
    brand = state.brands.get(_one(form, "BrandRegistrationSid") or "")
    if brand is None:
        return 400, _error(21601, 400, "Brand not found")
    if brand["status"] != "APPROVED":
        return 400, _error(21712, 400, "The brand is not approved")
    if service["sid"] in state.campaigns:
        return 409, _error(21713, 409, "The Messaging Service already has a campaign")
    new = sid("QE")
    body = {
        "sid": new,
        "account_sid": ACCOUNT_SID,
        "brand_registration_sid": brand["sid"],
        "messaging_service_sid": service["sid"],
        "description": _one(form, "Description"),
        "message_samples": form.get("MessageSamples", []),
        "us_app_to_person_usecase": _one(form, "UsAppToPersonUsecase"),
        "has_embedded_links": _flag(form, "HasEmbeddedLinks"),
        "has_embedded_phone": _flag(form, "HasEmbeddedPhone"),
        "subscriber_opt_in": _flag(form, "SubscriberOptIn"),
        "age_gated": _flag(form, "AgeGated"),
        "direct_lending": _flag(form, "DirectLending"),
        "campaign_status": state.campaign_status,
        "campaign_id": "C" + new[2:8].upper(),
        "is_externally_registered": False,
        "rate_limits": {"att": {"mps": 600, "msg_class": "A"}, "tmobile": {"brand_tier": "TOP"}},
        "message_flow": _one(form, "MessageFlow"),
        "opt_in_message": _one(form, "OptInMessage"),
        "opt_out_message": _one(form, "OptOutMessage"),
        "help_message": _one(form, "HelpMessage"),
        "opt_in_keywords": form.get("OptInKeywords", []),
        "opt_out_keywords": form.get("OptOutKeywords", []),
        "help_keywords": form.get("HelpKeywords", []),
        "date_created": STAMP,
        "date_updated": STAMP,
        "url": f"{service['url']}/Compliance/Usa2p/{new}",
        "mock": brand["mock"],
        "errors": [],
        "privacy_policy_url": _one(form, "PrivacyPolicyUrl"),
        "terms_and_conditions_url": _one(form, "TermsAndConditionsUrl"),
    }
    state.campaigns[service["sid"]] = body
    return 201, body


def list_campaigns(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    service = state.services.get(m.group(1))
    if service is None:
        return _missing()
    found = state.campaigns.get(service["sid"])
    return 200, _page("compliance", [found] if found else [], f"{service['url']}/Compliance/Usa2p")


# The parameters Twilio's campaign update requires (the reference's requestBody).
UPDATE_REQUIRED = (
    "HasEmbeddedLinks", "HasEmbeddedPhone", "MessageSamples", "MessageFlow", "Description",
    "AgeGated", "DirectLending",
)  # fmt: skip


def update_campaign(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    """``POST /v1/Services/{MG}/Compliance/Usa2p/{QE}``: the campaign's content replaced
    and its review started again (``campaign_status`` back to ``PENDING``, errors cleared)."""
    found = state.campaigns.get(m.group(1))
    if found is None or found["sid"] != m.group(2):
        return _missing()
    missing = [name for name in UPDATE_REQUIRED if not form.get(name)]
    if missing:
        return 400, _error(21604, 400, f"Missing required parameter {missing[0]}")
    found.update(
        description=_one(form, "Description"),
        message_samples=form.get("MessageSamples", []),
        message_flow=_one(form, "MessageFlow"),
        has_embedded_links=_flag(form, "HasEmbeddedLinks"),
        has_embedded_phone=_flag(form, "HasEmbeddedPhone"),
        age_gated=_flag(form, "AgeGated"),
        direct_lending=_flag(form, "DirectLending"),
        privacy_policy_url=_one(form, "PrivacyPolicyUrl", found.get("privacy_policy_url")),
        campaign_status="PENDING",
        errors=[],
    )
    state.campaign_updates.append({"service": m.group(1), "sid": m.group(2), "form": form})
    return 200, found


def create_vetting(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    """``POST /v1/a2p/BrandRegistrations/{BN}/Vettings`` (``VettingProvider`` required:
    ``campaign-verify`` with the token as ``VettingId``, or ``aegis`` for secondary
    vetting), answered ``PENDING``."""
    brand = state.brands.get(m.group(1))
    if brand is None:
        return _missing()
    provider = _one(form, "VettingProvider")
    if provider not in ("campaign-verify", "aegis"):
        return 400, _error(21604, 400, "VettingProvider must be campaign-verify or aegis")
    new = sid("VT")
    body = {
        "account_sid": ACCOUNT_SID,
        "brand_sid": brand["sid"],
        "brand_vetting_sid": new,
        "date_updated": STAMP,
        "date_created": STAMP,
        "vetting_id": _one(form, "VettingId"),
        "vetting_class": "POLITICAL" if provider == "campaign-verify" else "STANDARD",
        "vetting_status": "PENDING",
        "vetting_provider": provider,
        "url": f"https://messaging.twilio.com/v1/a2p/BrandRegistrations/{brand['sid']}/Vettings/{new}",
    }
    state.vettings[new] = body
    return 201, body


def list_vettings(state: A2PState, m: re.Match[str], q: dict[str, str], form: Form) -> Answer:
    wanted = q.get("VettingProvider")
    items = [
        v
        for v in state.vettings.values()
        if v["brand_sid"] == m.group(1) and wanted in (None, v["vetting_provider"])
    ]
    url = f"https://messaging.twilio.com/v1/a2p/BrandRegistrations/{m.group(1)}/Vettings"
    return 200, _page("data", items, url)


Handler = Callable[[A2PState, "re.Match[str]", dict[str, str], Form], Answer]
_SID = r"([A-Z]{2}[0-9a-f]{32})"
_BUNDLES = r"/v1/(?:CustomerProfiles|TrustProducts)"

ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(_BUNDLES), create_bundle),
    ("GET", re.compile(_BUNDLES), list_bundles),
    ("GET", re.compile(_BUNDLES + "/" + _SID), get_bundle),
    ("POST", re.compile(_BUNDLES + "/" + _SID), update_bundle),
    ("POST", re.compile(_BUNDLES + "/" + _SID + "/EntityAssignments"), assign),
    ("GET", re.compile(_BUNDLES + "/" + _SID + "/EntityAssignments"), list_assignments),
    ("POST", re.compile(_BUNDLES + "/" + _SID + "/Evaluations"), evaluate),
    ("POST", re.compile(r"/v1/EndUsers"), create_end_user),
    ("GET", re.compile(r"/v1/EndUsers"), list_end_users),
    ("POST", re.compile(r"/v1/SupportingDocuments"), create_document),
    ("GET", re.compile(r"/v1/SupportingDocuments"), list_documents),
    ("POST", re.compile(r"/2010-04-01/Accounts/[^/]+/Addresses\.json"), create_address),
    ("GET", re.compile(r"/2010-04-01/Accounts/[^/]+/Addresses\.json"), list_addresses),
    ("POST", re.compile(r"/v1/a2p/BrandRegistrations"), create_brand),
    ("GET", re.compile(r"/v1/a2p/BrandRegistrations"), list_brands),
    ("GET", re.compile(r"/v1/a2p/BrandRegistrations/" + _SID), get_brand),
    ("POST", re.compile(r"/v1/Services"), create_service),
    ("GET", re.compile(r"/v1/Services"), list_services),
    ("POST", re.compile(r"/v1/Services/" + _SID + "/PhoneNumbers"), add_number),
    ("GET", re.compile(r"/v1/Services/" + _SID + "/PhoneNumbers/" + _SID), get_number),
    ("POST", re.compile(r"/v1/Services/" + _SID + "/Compliance/Usa2p"), create_campaign),
    ("GET", re.compile(r"/v1/Services/" + _SID + "/Compliance/Usa2p"), list_campaigns),
    ("POST", re.compile(r"/v1/Services/" + _SID + "/Compliance/Usa2p/" + _SID), update_campaign),
    ("POST", re.compile(r"/v1/a2p/BrandRegistrations/" + _SID + "/Vettings"), create_vetting),
    ("GET", re.compile(r"/v1/a2p/BrandRegistrations/" + _SID + "/Vettings"), list_vettings),
]
