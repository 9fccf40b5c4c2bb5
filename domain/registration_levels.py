"""The three levels of a US A2P 10DLC registration (brand, campaign, number), what each
level reports, and the one rule that derives a connection's ``registrationStatus`` from them.

Pure values and functions: the connection aggregate decides with them, the read models and
the answers read what it decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

import structlog

from domain.carriers import CarrierState, Throughput
from domain.text import check_id, clean_provider_text

log = structlog.get_logger("domain.registration_levels")

Level = Literal["brand", "campaign", "number"]
LEVELS: tuple[Level, ...] = get_args(Level)

# A level's status. ``not_submitted``: the submission has not reached this level;
# ``submitted``: recorded, not yet sent to the provider; the rest are the provider's answer.
LevelStatus = Literal[
    "not_submitted",
    "submitted",
    "pending",
    "action_required",
    "approved",
    "rejected",
    "suspended",
    "expired",
]
LEVEL_STATUSES: tuple[str, ...] = get_args(LevelStatus)
# What a provider may report (the first two are the service's own).
PROVIDER_STATUSES: frozenset[str] = frozenset(LEVEL_STATUSES) - {"not_submitted", "submitted"}
# Statuses a level is still waiting in (the provider may change them by itself).
IN_FLIGHT: frozenset[str] = frozenset({"submitted", "pending", "action_required"})
# The first of these that any level is in decides the connection's status.
_DECIDING: Final = ("rejected", "suspended", "expired", "action_required")

REASON_CODE_MAX = 64
REASON_FIELDS_MAX = 20
REASONS_MAX = 20
_unknown_logged: set[str] = set()


@dataclass(frozen=True)
class Reason:
    """One coded reason a provider gave (e.g. Twilio 30892): code, what it means, the
    compliance fields it names (dotted names, never values), and the carrier that gave it
    (None: the provider's own, or not said)."""

    code: str
    description: str
    fields: tuple[str, ...] = ()
    carrier: str | None = None

    def as_dict(self) -> dict[str, Any]:
        found = {"code": self.code, "description": self.description, "fields": list(self.fields)}
        return found if self.carrier is None else {**found, "carrier": self.carrier}


@dataclass(frozen=True)
class LevelState:
    """Where one level stands: its status, the provider's raw status, the provider's
    reference (BN…, CM…, the number's registration ref), coded reasons, and for the brand
    the identity status (``VERIFIED``…); what each carrier decided (None: the provider
    does not report per carrier) and the throughput the provider reported (None: none)."""

    status: LevelStatus = "not_submitted"
    raw_status: str | None = None
    provider_ref: str | None = None
    reasons: tuple[Reason, ...] = ()
    identity_status: str | None = None
    carriers: tuple[CarrierState, ...] | None = None
    throughput: Throughput | None = None

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT


NOT_SUBMITTED: Final = LevelState()
SUBMITTED: Final = LevelState(status="submitted")


def derive_status(brand: LevelState, campaign: LevelState, number: LevelState) -> LevelStatus:
    """The connection's ``registrationStatus`` from its three levels: nothing submitted →
    ``not_submitted``; any level rejected, else suspended, else expired, else waiting on
    the operator → that status; all approved → ``approved``; nothing sent to the provider
    yet → ``submitted``; otherwise (in flight somewhere) → ``pending``."""
    statuses = (brand.status, campaign.status, number.status)
    if all(s == "not_submitted" for s in statuses):
        return "not_submitted"
    for deciding in _DECIDING:
        if deciding in statuses:
            return cast(LevelStatus, deciding)
    if all(s == "approved" for s in statuses):
        return "approved"
    if all(s in ("submitted", "not_submitted") for s in statuses):
        return "submitted"
    return "pending"


def provider_status(status: str | None, raw_status: str | None) -> LevelStatus:
    """A status a provider reported, in the domain's terms: a known one as is; anything
    else (an unknown or missing status) is ``pending`` (the raw status is kept beside it),
    logged once per raw value."""
    if status in PROVIDER_STATUSES:
        return cast(LevelStatus, status)
    key = f"{status}/{raw_status}"
    if key not in _unknown_logged:
        _unknown_logged.add(key)
        log.warning("registration_status_unknown", raw_status=raw_status)
    return "pending"


def clean_reasons(raw: Iterable[Mapping[str, Any]] | None) -> tuple[Reason, ...]:
    """Reasons from a provider, through the text rule (at most ``REASONS_MAX``)."""
    reasons: list[Reason] = []
    for item in list(raw or ())[:REASONS_MAX]:
        fields = [str(f) for f in list(item.get("fields") or ())[:REASON_FIELDS_MAX]]
        carrier = item.get("carrier")
        reasons.append(
            Reason(
                code=clean_provider_text(str(item.get("code") or ""), max_length=REASON_CODE_MAX),
                description=clean_provider_text(str(item.get("description") or "")),
                fields=tuple(clean_provider_text(f, max_length=REASON_CODE_MAX) for f in fields),
                carrier=clean_provider_text(str(carrier), max_length=16) if carrier else None,
            )
        )
    return tuple(reasons)


def clean_ref(ref: str | None, field: str = "providerRef") -> str | None:
    """A provider reference is used again to ask the provider: refused, not cleaned."""
    if ref is None:
        return None
    check_id(ref, field, max_length=256)
    return ref


def reasons_of(stored: Iterable[Mapping[str, Any]] | None) -> tuple[Reason, ...]:
    """Reasons as stored on an event (already cleaned when recorded)."""
    return tuple(
        Reason(
            str(r["code"]), str(r["description"]), tuple(r.get("fields") or ()), r.get("carrier")
        )
        for r in stored or ()
    )
