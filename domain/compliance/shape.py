"""The 10DLC compliance payload (``smsCompliance``): its shape and hard caps.

The payload is stored exactly as the operator entered it: these models only *check* it
(level 1 of the design: unknown field, wrong JSON type, a string over its hard cap, more than
five message samples, an enum value off its list). Required-but-empty fields are normal in a
draft and are not errors here. Error messages never quote a submitted value.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from domain.errors import ComplianceInvalidError, FieldProblem, InvalidTextError
from domain.text import check_free_text

# "" is the "not chosen yet" value of a select in a draft.
Entity = Literal[
    "", "PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "GOVERNMENT", "SOLE_PROPRIETOR"
]
Vertical = Literal[
    "",
    "AGRICULTURE",
    "COMMUNICATION",
    "CONSTRUCTION",
    "EDUCATION",
    "ENERGY",
    "ENTERTAINMENT",
    "FINANCIAL",
    "GAMBLING",
    "GOVERNMENT",
    "HEALTHCARE",
    "HOSPITALITY",
    "HUMAN_RESOURCES",
    "INSURANCE",
    "LEGAL",
    "MANUFACTURING",
    "NGO",
    "POLITICAL",
    "POSTAL",
    "PROFESSIONAL",
    "REAL_ESTATE",
    "RETAIL",
    "TECHNOLOGY",
    "TRANSPORTATION",
]
BrandType = Literal["", "STANDARD", "LOW_VOLUME_STANDARD", "SOLE_PROPRIETOR"]
# The authorized representative's position (TrustHub's ``job_position`` values).
JobPosition = Literal["", "Director", "GM", "VP", "CEO", "CFO", "General Counsel", "Other"]
# Where a public company's stock is listed (TCR's list, as Twilio takes it).
StockExchange = Literal[
    "",
    "NONE",
    "NASDAQ",
    "NYSE",
    "AMEX",
    "AMX",
    "ASX",
    "B3",
    "BME",
    "BSE",
    "FRA",
    "ICEX",
    "JPX",
    "JSE",
    "KRX",
    "LON",
    "NSE",
    "OMX",
    "SEHK",
    "SSE",
    "STO",
    "SWX",
    "SZSE",
    "TSX",
    "TWSE",
    "VSE",
    "OTHER",
]
UseCaseType = Literal[
    "",
    "2FA",
    "ACCOUNT_NOTIFICATION",
    "CUSTOMER_CARE",
    "DELIVERY_NOTIFICATION",
    "FRAUD_ALERT",
    "HIGHER_EDUCATION",
    "LOW_VOLUME",
    "MARKETING",
    "MIXED",
    "POLLING_VOTING",
    "PUBLIC_SERVICE_ANNOUNCEMENT",
    "SECURITY_ALERT",
    "AGENTS_FRANCHISES",
    "CARRIER_EXEMPT",
    "CHARITY",
    "EMERGENCY",
    "K12_EDUCATION",
    "POLITICAL",
    "PROXY",
    "SOCIAL",
    "SWEEPSTAKE",
    "SOLE_PROPRIETOR",
]

MAX_MESSAGE_SAMPLES = 5


# JSON strings (never a number or bool coerced to one) of at most N characters.
Text20 = Annotated[str, StringConstraints(strict=True, max_length=20)]
Text21 = Annotated[str, StringConstraints(strict=True, max_length=21)]
Text100 = Annotated[str, StringConstraints(strict=True, max_length=100)]
Text255 = Annotated[str, StringConstraints(strict=True, max_length=255)]
Text320 = Annotated[str, StringConstraints(strict=True, max_length=320)]
Text1024 = Annotated[str, StringConstraints(strict=True, max_length=1024)]
Text2048 = Annotated[str, StringConstraints(strict=True, max_length=2048)]
Text4096 = Annotated[str, StringConstraints(strict=True, max_length=4096)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BrandDraft(_Section):
    """Brand fields, each optional in a draft; caps are TCR's hard limits (or, where TCR
    names none, a generous cap that keeps the event small)."""

    entity: Entity | None = None
    vertical: Vertical | None = None
    displayName: Text100 | None = None
    companyName: Text100 | None = None
    registrationNumber: Text21 | None = None
    brandType: BrandType | None = None
    contactPhone: Text20 | None = None
    contactEmail: Text100 | None = None
    website: Text100 | None = None
    address: Text255 | None = None
    city: Text100 | None = None
    state: Text100 | None = None
    zipCode: Text20 | None = None
    country: Text100 | None = None
    # Beyond the seed's list, for providers that need them (Twilio's TrustHub): the person
    # who may act for the business, and a public company's stock listing. All optional.
    authorizedRepFirstName: Text100 | None = None
    authorizedRepLastName: Text100 | None = None
    authorizedRepEmail: Text100 | None = None
    authorizedRepPhone: Text20 | None = None
    authorizedRepTitle: Text100 | None = None
    authorizedRepJobPosition: JobPosition | None = None
    stockSymbol: Text20 | None = None
    stockExchange: StockExchange | None = None
    # A political sender's Campaign Verify token (campaignverify.org): required by the
    # preflight for the POLITICAL vertical, sent to the provider as a vetting (issue 31).
    # A compliance value: never in logs, events unencrypted, read models or errors.
    campaignVerifyToken: Text1024 | None = None


class CampaignDraft(_Section):
    """Campaign fields, each optional in a draft; ``messageSamples`` has five slots."""

    campaignDescription: Text4096 | None = None
    messageFlow: Text2048 | None = None
    privacyPolicyUrl: Text255 | None = None
    useCaseType: UseCaseType | None = None
    messageSamples: (
        Annotated[list[Text1024 | None], Field(max_length=MAX_MESSAGE_SAMPLES)] | None
    ) = None
    optInKeywords: Text255 | None = None
    optInMessage: Text320 | None = None
    optOutKeywords: Text255 | None = None
    optOutMessage: Text320 | None = None
    helpKeywords: Text255 | None = None
    helpMessage: Text320 | None = None
    numberPooling: StrictBool | None = None
    directLending: StrictBool | None = None
    embeddedLink: StrictBool | None = None
    embeddedPhone: StrictBool | None = None
    ageGatedContent: StrictBool | None = None
    termsAndConditions: StrictBool | None = None


class ComplianceDraft(_Section):
    """The whole ``smsCompliance`` payload: ``{"brand": {...}, "campaign": {...}}``."""

    brand: BrandDraft | None = None
    campaign: CampaignDraft | None = None


BRAND_FIELDS: tuple[str, ...] = tuple(BrandDraft.model_fields)
CAMPAIGN_FIELDS: tuple[str, ...] = tuple(CampaignDraft.model_fields)

# An unknown key is named in the error path only if it looks like a field name: a key that
# holds pasted text (spaces, punctuation, length) could be a value typed into the wrong place.
_FIELD_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def _path_part(part: str | int) -> str:
    if isinstance(part, int) or _FIELD_LIKE.fullmatch(part):
        return str(part)
    return "<unknown>"


def _problem(error: Any) -> FieldProblem:
    # Only the location, the error type and pydantic's generic message: never error["input"]
    # nor error["ctx"] (which can hold the offending text for pattern errors).
    field = ".".join(_path_part(part) for part in error["loc"])
    return FieldProblem(field=field or "smsCompliance", code=error["type"], message=error["msg"])


def check_compliance(payload: object) -> dict[str, Any]:
    """Return a deep copy of ``payload`` (equal to it, key order and all) if it has the
    right shape, else raise ComplianceInvalidError listing every problem (field path, code,
    generic message; never a submitted value).

    The right shape is a JSON object of at most ``brand`` and ``campaign``, each an object of
    the known fields, each field null or of its JSON type within its hard cap or enum list.
    Required-but-empty fields are fine: a draft is saved as entered. The copy keeps later
    changes to the caller's object out of what is recorded."""
    if not isinstance(payload, dict):
        raise ComplianceInvalidError(
            [FieldProblem("smsCompliance", "model_type", "Input should be a JSON object")]
        )
    try:
        ComplianceDraft.model_validate(payload)
    except ValidationError as error:
        raise ComplianceInvalidError(
            [_problem(e) for e in error.errors(include_input=False, include_url=False)]
        ) from None
    problems = list(_text_problems(payload))
    if problems:
        raise ComplianceInvalidError(problems)
    return copy.deepcopy(payload)


def _text_problems(payload: dict[str, Any]) -> Iterator[FieldProblem]:
    """The text rule on every string of a well-shaped payload (line breaks allowed)."""
    for section, fields in payload.items():
        for name, value in (fields or {}).items():
            texts = value if isinstance(value, list) else [value]
            for index, text in enumerate(texts):
                if not isinstance(text, str):
                    continue
                path = f"{section}.{name}" + (f".{index}" if isinstance(value, list) else "")
                try:
                    check_free_text(text, path)
                except InvalidTextError as error:
                    yield FieldProblem(path, error.rule, error.message)


def empty_compliance() -> dict[str, Any]:
    """The defaults a connection that never had compliance data answers with: every field
    present and empty, so the settings dialog can open on a blank form. The yes/no
    questions are null (unanswered), never false: saving the untouched form must not record
    "no" to direct lending or age-gated content, and progress counts only real answers."""
    brand: dict[str, Any] = dict.fromkeys(BrandDraft.model_fields, "")
    campaign: dict[str, Any] = {}
    for name, field in CampaignDraft.model_fields.items():
        if name == "messageSamples":
            campaign[name] = [""] * MAX_MESSAGE_SAMPLES
        elif field.annotation == StrictBool | None:
            campaign[name] = None
        else:
            campaign[name] = ""
    return {"brand": brand, "campaign": campaign}


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Dotted names (``brand.displayName``) of the fields whose value differs; a field that
    is absent counts as null. Sorted, so the audit trail reads the same on every replay."""
    before = before or {}
    names: list[str] = []
    for section in ("brand", "campaign"):
        old = before.get(section) or {}
        new = after.get(section) or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                names.append(f"{section}.{key}")
    return names
