"""Compliance payloads for tests: a complete one that passes every preflight rule, one with
a unique marker in every text field (for secrecy tests), and Hypothesis strategies for any
structurally valid payload and for sequences of edits."""

from __future__ import annotations

import copy
import uuid
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from tests.support.common import unique_us_number

GOOD: dict[str, Any] = {
    "brand": {
        "entity": "PRIVATE_PROFIT",
        "vertical": "HEALTHCARE",
        "displayName": "Acme Dental",
        "companyName": "Acme Dental LLC",
        "registrationNumber": "12-3456789",
        "brandType": "STANDARD",
        "contactPhone": "+14155552671",
        "contactEmail": "compliance@acmedental.com",
        "website": "https://www.acmedental.com",
        "address": "1 Market St",
        "city": "San Francisco",
        "state": "CA",
        "zipCode": "94105",
        "country": "US",
    },
    "campaign": {
        "campaignDescription": "Appointment reminders and follow-ups for patients of Acme Dental.",
        "messageFlow": "Patients opt in on the booking web form by ticking an unchecked box "
        "that says: I agree to receive appointment reminder texts from Acme Dental. Msg "
        "frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to cancel. "
        "Privacy policy: https://www.acmedental.com/privacy",
        "privacyPolicyUrl": "https://www.acmedental.com/privacy",
        "useCaseType": "ACCOUNT_NOTIFICATION",
        "messageSamples": [
            "Acme Dental: your cleaning is tomorrow at 9am. Reply STOP to opt out.",
            "Acme Dental: please confirm your visit on Friday by replying YES.",
            None,
            "",
            "",
        ],
        "optInKeywords": "START",
        "optInMessage": "Acme Dental: you are subscribed to reminders. Msg frequency varies. "
        "Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
        "optOutKeywords": "STOP,QUIT",
        "optOutMessage": "Acme Dental: you are unsubscribed and will receive no more messages.",
        "helpKeywords": "HELP",
        "helpMessage": "Acme Dental: for help call +1 415 555 2671 or email care@acmedental.com.",
        "numberPooling": False,
        "directLending": False,
        "embeddedLink": False,
        "embeddedPhone": False,
        "ageGatedContent": False,
        "termsAndConditions": True,
    },
}

DELETE = object()


def good_with(**changes: Any) -> dict[str, Any]:
    """A deep copy of GOOD with ``brand_<field>=…`` / ``campaign_<field>=…`` changed
    (``DELETE`` removes the field)."""
    payload = copy.deepcopy(GOOD)
    for key, value in changes.items():
        section, field = key.split("_", 1)
        if value is DELETE:
            payload[section].pop(field, None)
        else:
            payload[section][field] = value
    return payload


ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "entity": (
        "",
        "PRIVATE_PROFIT",
        "PUBLIC_PROFIT",
        "NON_PROFIT",
        "GOVERNMENT",
        "SOLE_PROPRIETOR",
    ),
    "vertical": ("", "HEALTHCARE", "RETAIL", "TECHNOLOGY", "NGO", "POLITICAL", "REAL_ESTATE"),
    "brandType": ("", "STANDARD", "LOW_VOLUME_STANDARD", "SOLE_PROPRIETOR"),
    "useCaseType": ("", "2FA", "MARKETING", "MIXED", "SOLE_PROPRIETOR", "K12_EDUCATION"),
}
# Hard caps of the text fields (the design's, or the service's where the design names none).
BRAND_TEXT_CAPS = {
    "displayName": 100,
    "companyName": 100,
    "registrationNumber": 21,
    "contactPhone": 20,
    "contactEmail": 100,
    "website": 100,
    "address": 255,
    "city": 100,
    "state": 100,
    "zipCode": 20,
    "country": 100,
    # Beyond the seed's list (optional; Twilio's TrustHub needs them).
    "authorizedRepFirstName": 100,
    "authorizedRepLastName": 100,
    "authorizedRepEmail": 100,
    "authorizedRepPhone": 20,
    "authorizedRepTitle": 100,
    "stockSymbol": 20,
    "campaignVerifyToken": 1024,  # a secret (issue 31)
}
CAMPAIGN_TEXT_CAPS = {
    "campaignDescription": 4096,
    "messageFlow": 2048,
    "privacyPolicyUrl": 255,
    "optInKeywords": 255,
    "optInMessage": 320,
    "optOutKeywords": 255,
    "optOutMessage": 320,
    "helpKeywords": 255,
    "helpMessage": 320,
}
FLAGS = (
    "numberPooling",
    "directLending",
    "embeddedLink",
    "embeddedPhone",
    "ageGatedContent",
    "termsAndConditions",
)
SAMPLE_CAP = 1024


# What the text rule (domain/text.py) lets into a compliance answer: any script, line breaks
# and tabs, but no control, format, surrogate, private-use or unassigned character.
ALLOWED_CHARACTERS = st.one_of(
    st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"]),
    st.sampled_from("\t\n\r\u200d"),
)


def text_up_to(cap: int) -> st.SearchStrategy[str]:
    """Any allowed text within ``cap`` characters: short and odd (spaces, case, any script),
    or exactly at the cap (a repeated character, possibly outside ASCII)."""
    return st.one_of(
        st.text(ALLOWED_CHARACTERS, max_size=min(cap, 30)),
        st.builds(lambda ch: ch * cap, ALLOWED_CHARACTERS),
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


brand_sections = st.fixed_dictionaries(
    {},
    optional={
        **{name: _optional(st.sampled_from(ENUM_VALUES[name])) for name in ("entity", "vertical")},
        "brandType": _optional(st.sampled_from(ENUM_VALUES["brandType"])),
        **{name: _optional(text_up_to(cap)) for name, cap in BRAND_TEXT_CAPS.items()},
    },
)
campaign_sections = st.fixed_dictionaries(
    {},
    optional={
        "useCaseType": _optional(st.sampled_from(ENUM_VALUES["useCaseType"])),
        "messageSamples": _optional(st.lists(_optional(text_up_to(SAMPLE_CAP)), max_size=5)),
        **{name: _optional(text_up_to(cap)) for name, cap in CAMPAIGN_TEXT_CAPS.items()},
        **{name: _optional(st.booleans()) for name in FLAGS},
    },
)
compliance_payloads = st.fixed_dictionaries(
    {}, optional={"brand": _optional(brand_sections), "campaign": _optional(campaign_sections)}
)
actors = st.sampled_from(["alice", "bob", "carol"])
edit_sequences = st.lists(st.tuples(actors, compliance_payloads), min_size=1, max_size=6)


def marked_payload(tag: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """A payload whose every text field (and every sample slot) holds its own unique marker
    that fits the field's cap; enum fields hold list values and flags booleans (neither can
    hold a marker). Returns the payload and its markers."""
    tag = tag or uuid.uuid4().hex[:8]
    markers: list[str] = []

    def marker() -> str:
        value = f"Q{tag}x{len(markers):02d}"  # 12 characters: fits every cap
        markers.append(value)
        return value

    payload: dict[str, Any] = {
        "brand": {
            "entity": "PUBLIC_PROFIT",
            "vertical": "RETAIL",
            "brandType": "STANDARD",
            "authorizedRepJobPosition": "CEO",
            "stockExchange": "NASDAQ",
            **{name: marker() for name in BRAND_TEXT_CAPS},
        },
        "campaign": {
            "useCaseType": "MIXED",
            "messageSamples": [marker() for _ in range(5)],
            **{name: marker() for name in CAMPAIGN_TEXT_CAPS},
            **dict.fromkeys(FLAGS, True),
        },
    }
    return payload, markers


def expected_changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The test's own oracle for "changed fields": dotted names whose value differs, an
    absent field counting as null, sorted."""
    names = []
    for section in ("brand", "campaign"):
        old = (before or {}).get(section) or {}
        new = after.get(section) or {}
        names += [f"{section}.{k}" for k in set(old) | set(new) if old.get(k) != new.get(k)]
    return sorted(names)


def connect(
    application: SmsChannels, account: str, compliance: dict[str, Any] | None = None
) -> UUID:
    """Connect a fresh US number for ``account`` (requested by "requester"); its id."""
    result = application.connect(
        ConnectNumber(
            account_id=account,
            workspace_id="ws",
            agent_id="agent",
            mode="new",
            country="US",
            area_code=None,
            phone_number=unique_us_number(),
            requested_by="requester",
            compliance=compliance,
        )
    )
    return result.connection.id


# An oracle for progress and preflight: the fields each accordion section needs, as the
# design lists them (registration's required fields), written without the domain's helpers.
REQUIRED_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "brand_identity": (
        "brand.entity",
        "brand.vertical",
        "brand.displayName",
        "brand.companyName",
        "brand.registrationNumber",
        "brand.brandType",
    ),
    "brand_contact": tuple(
        f"brand.{name}"
        for name in (
            "contactPhone",
            "contactEmail",
            "website",
            "address",
            "city",
            "state",
            "zipCode",
            "country",
        )
    ),
    "campaign_details": (
        "campaign.campaignDescription",
        "campaign.privacyPolicyUrl",
        "campaign.useCaseType",
    ),
    "opt_in": ("campaign.messageFlow", "campaign.optInMessage"),
    "opt_out": ("campaign.optOutKeywords", "campaign.optOutMessage"),
    "help": ("campaign.helpKeywords", "campaign.helpMessage"),
}


def value_at(payload: dict[str, Any], dotted: str) -> Any:
    section, name = dotted.split(".")
    return (payload.get(section) or {}).get(name)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")
