"""The preflight's rules across the connections of one account: what the registry refuses
because of the account's other brands and campaigns, not because of this form.

They read ``Payload.others``: the compliance payloads of the account's other live
connections, as the caller found them (the HTTP route loads them from the event store; a
caller that passes none gets no finding from these rules). Connections of one account with
the same brand share one brand registration, and with the same campaign content one
campaign (the design's registration rules), so a brand is keyed by its tax id (or, without
one, its company name) and a campaign by its whole content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from domain.compliance.rules import Hit, Payload, RuleBook, twilio_error

book = RuleBook()

# The Campaign Registry's limit of campaigns per brand (Twilio 30930).
MAX_CAMPAIGNS_PER_BRAND = 100
# T-Mobile's limit of numbers on a campaign without number pooling (its 50th is refused).
MAX_NUMBERS_WITHOUT_POOLING = 49

_NOT_DIGIT = re.compile(r"[^0-9]")


def _tax_id(p: Payload) -> str:
    return _NOT_DIGIT.sub("", p.brand_text("registrationNumber"))


def _company(p: Payload) -> str:
    return " ".join(p.brand_text("companyName").casefold().split())


def _brand_key(p: Payload) -> str:
    """Tax id when it has one, else the company name; "" when neither is filled."""
    return _tax_id(p) or _company(p)


def _campaign_key(p: Payload) -> bytes:
    campaign: dict[str, Any] = p.campaign
    return orjson.dumps(campaign, option=orjson.OPT_SORT_KEYS)


@book.rule(
    "account.ein_company_mismatch",
    "error",
    "The same tax id is registered under another company name in this account.",
    codes=("30898", "30703"),
    source=(twilio_error("30898"), twilio_error("30703")),
)
def _ein_company_mismatch(p: Payload) -> Iterator[Hit]:
    tax_id, company = _tax_id(p), _company(p)
    if not (tax_id and company):
        return
    if any(_tax_id(o) == tax_id and _company(o) not in ("", company) for o in p.others):
        yield (
            "brand.companyName",
            "Another connection of this account registers the same tax id under a different "
            "company name: use the legal name exactly as on the tax record everywhere.",
        )


@book.rule(
    "account.brand_campaign_limit",
    "error",
    f"The brand already has {MAX_CAMPAIGNS_PER_BRAND} campaigns in this account.",
    codes=("30930",),
    source=twilio_error("30930"),
)
def _brand_campaign_limit(p: Payload) -> Iterator[Hit]:
    brand = _brand_key(p)
    if not brand:
        return
    campaigns = {_campaign_key(o) for o in p.others if _brand_key(o) == brand}
    if _campaign_key(p) not in campaigns and len(campaigns) >= MAX_CAMPAIGNS_PER_BRAND:
        yield (
            "campaign.useCaseType",
            f"The registry accepts at most {MAX_CAMPAIGNS_PER_BRAND} campaigns per brand: "
            "reuse the content of an existing campaign, or retire one first.",
        )


@book.rule(
    "account.second_sole_proprietor",
    "error",
    "A second sole-proprietor campaign for the same person.",
    codes=("21732",),
    source=twilio_error("21732"),
)
def _second_sole_proprietor(p: Payload) -> Iterator[Hit]:
    if not p.sole_proprietor or not p.brand_names:
        return
    names = set(p.brand_names)
    campaign = _campaign_key(p)
    for other in p.others:
        same_person = other.sole_proprietor and names & set(other.brand_names)
        if same_person and _campaign_key(other) != campaign:
            yield (
                "brand.entity",
                "A sole proprietor may register one campaign only, and another connection of "
                "this account already has one: reuse its campaign content, or register as a "
                "business.",
            )
            return


@book.rule(
    "account.number_pool_limit",
    "warning",
    f"More than {MAX_NUMBERS_WITHOUT_POOLING} numbers on one campaign without number pooling.",
    # No provider code: the service holds the number back (``number_pool_required``).
    source="https://www.twilio.com/docs/messaging/compliance/a2p-10dlc/onboarding-isv-api"
    "#number-pooling",
)
def _number_pool_limit(p: Payload) -> Iterator[Hit]:
    if p.campaign.get("numberPooling") is True:
        return
    brand, campaign = _brand_key(p), _campaign_key(p)
    same = sum(1 for o in p.others if _brand_key(o) == brand and _campaign_key(o) == campaign)
    if same >= MAX_NUMBERS_WITHOUT_POOLING:
        yield (
            "campaign.numberPooling",
            f"T-Mobile takes at most {MAX_NUMBERS_WITHOUT_POOLING} numbers on a campaign "
            f"without number pooling, and {same} other numbers of this account use this "
            "campaign: this one's registration would wait for it. Turn number pooling on, or "
            "change the campaign.",
        )
