"""Section progress of the compliance payload: the accordion's completion markers.

Level 2 of the design's checks: which fields that US 10DLC registration needs are still
empty, section by section. It never judges a value (that is the preflight's job) and never
returns one: ``missing`` holds dotted field names only, so read models can keep the counts.

A pure, total function of the stored payload: it accepts anything a ``ComplianceUpdated``
event holds (or None for a connection that never had compliance data) and never raises, so
a projection replaying old events cannot be stopped by it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Registration needs at least this many (distinct, checked by the preflight) samples.
MIN_MESSAGE_SAMPLES = 2
MESSAGE_SAMPLE_SLOTS = 5


@dataclass(frozen=True)
class SectionProgress:
    """One accordion section: complete when no required field is empty."""

    name: str
    complete: bool
    missing: list[str]  # dotted field names (``brand.displayName``), never values


@dataclass(frozen=True)
class ComplianceProgress:
    """Every section in accordion order, and how many of them are complete."""

    sections: list[SectionProgress]
    complete_sections: int
    total_sections: int


def _blank(value: object) -> bool:
    # A draft's "not filled yet": absent, null, or text of only spaces (a select's "").
    return value is None or (isinstance(value, str) and not value.strip())


def _section(payload: dict[str, Any] | None, name: str) -> dict[str, Any]:
    section = payload.get(name) if isinstance(payload, dict) else None
    return section if isinstance(section, dict) else {}


def _missing_text(section: str, *fields: str) -> Callable[[dict[str, Any] | None], list[str]]:
    def missing(payload: dict[str, Any] | None) -> list[str]:
        values = _section(payload, section)
        return [f"{section}.{name}" for name in fields if _blank(values.get(name))]

    return missing


def _brand_identity(payload: dict[str, Any] | None) -> list[str]:
    brand = _section(payload, "brand")
    required = [
        "entity",
        "vertical",
        "displayName",
        "companyName",
        "registrationNumber",
        "brandType",
    ]
    # A sole proprietor registers without a tax id (TCR refuses one for that entity).
    if brand.get("entity") == "SOLE_PROPRIETOR":
        required.remove("registrationNumber")
    # A public company is registered with its stock listing.
    if brand.get("entity") == "PUBLIC_PROFIT":
        required += ["stockSymbol", "stockExchange"]
    return [f"brand.{name}" for name in required if _blank(brand.get(name))]


REPRESENTATIVE = (
    "authorizedRepFirstName",
    "authorizedRepLastName",
    "authorizedRepEmail",
    "authorizedRepPhone",
    "authorizedRepTitle",
    "authorizedRepJobPosition",
)


def _brand_contact(payload: dict[str, Any] | None) -> list[str]:
    """The contact fields; the authorized representative is optional, but once one of
    its fields is filled, all of them are needed (a provider takes a whole person)."""
    missing = _missing_text(
        "brand", "contactPhone", "contactEmail", "website", "address", "city", "state",
        "zipCode", "country",
    )(payload)  # fmt: skip
    brand = _section(payload, "brand")
    if any(not _blank(brand.get(name)) for name in REPRESENTATIVE):
        missing += [f"brand.{name}" for name in REPRESENTATIVE if _blank(brand.get(name))]
    return missing


def _message_samples(payload: dict[str, Any] | None) -> list[str]:
    samples = _section(payload, "campaign").get("messageSamples")
    slots = list(samples) if isinstance(samples, list) else []
    slots += [None] * (MESSAGE_SAMPLE_SLOTS - len(slots))
    filled = sum(1 for sample in slots if not _blank(sample))
    needed = max(0, MIN_MESSAGE_SAMPLES - filled)
    empty = [f"campaign.messageSamples.{i}" for i, sample in enumerate(slots) if _blank(sample)]
    return empty[:needed]


def _campaign_attributes(payload: dict[str, Any] | None) -> list[str]:
    campaign = _section(payload, "campaign")
    flags = ("numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent")
    # A flag is answered by true or false; the terms are answered only by accepting them.
    missing = [f"campaign.{name}" for name in flags if not isinstance(campaign.get(name), bool)]
    if campaign.get("termsAndConditions") is not True:
        missing.append("campaign.termsAndConditions")
    return missing


# Accordion order; fields in the seed's order. ``messageFlow`` sits with opt-in: it describes
# how consent is collected and is reviewed with the opt-in confirmation. Opt-in keywords are
# optional (consent is often collected on a web form), so they never count as missing.
SECTIONS: tuple[tuple[str, Callable[[dict[str, Any] | None], list[str]]], ...] = (
    ("brand_identity", _brand_identity),
    ("brand_contact", _brand_contact),
    (
        "campaign_details",
        _missing_text("campaign", "campaignDescription", "privacyPolicyUrl", "useCaseType"),
    ),
    ("message_samples", _message_samples),
    ("opt_in", _missing_text("campaign", "messageFlow", "optInMessage")),
    ("opt_out", _missing_text("campaign", "optOutKeywords", "optOutMessage")),
    ("help", _missing_text("campaign", "helpKeywords", "helpMessage")),
    ("campaign_attributes", _campaign_attributes),
)
SECTION_NAMES: tuple[str, ...] = tuple(name for name, _ in SECTIONS)


def compliance_progress(payload: dict[str, Any] | None) -> ComplianceProgress:
    """Each section of ``payload`` (None: never saved) with its empty required fields.

    ``total_sections`` is the same for every payload; ``missing`` lists dotted field names
    in form order (message sample slots as ``campaign.messageSamples.<index>``)."""
    sections = [
        SectionProgress(name=name, complete=not missing, missing=missing)
        for name, missing in ((name, find(payload)) for name, find in SECTIONS)
    ]
    return ComplianceProgress(
        sections=sections,
        complete_sections=sum(1 for section in sections if section.complete),
        total_sections=len(sections),
    )


def required_fields(payload: dict[str, Any] | None) -> list[str]:
    """Every required field still empty in ``payload``, across sections, in form order."""
    return [name for section in compliance_progress(payload).sections for name in section.missing]
