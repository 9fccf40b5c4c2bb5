"""Registration facts of a connection, replayed from its own events: what was submitted
(which compliance version, by whom) and what each level of the provider answered (status,
raw status, coded reasons). The registration timeline and the compliance history's
registration entries both read them, so a reviewer can answer "which payload version was
approved, and when".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from domain.actors import PROVIDER, PROVIDER_ACTOR, USER, ActorType
from domain.registration_levels import Reason, reasons_of
from domain.sms_connections import SmsConnection

FactType = Literal[
    "registration.submitted", "registration.changed", "registration.vetting_requested"
]


@dataclass(frozen=True)
class RegistrationFact:
    """One registration fact. ``level`` is ``submission`` for a submission, ``brand`` /
    ``campaign`` / ``number`` for a level's change, ``connection`` for a status reported
    for the whole connection; ``submitted_version`` is the compliance version the
    submission in effect submitted (None before any submission here)."""

    version: int
    at: datetime
    actor: str
    actor_type: ActorType
    type: FactType
    level: str
    status: str
    raw_status: str | None
    reasons: tuple[Reason, ...]
    submitted_version: int | None
    registration_status: str


def registration_facts(events: Iterable[Any]) -> list[RegistrationFact]:
    """The registration facts among a connection's events, oldest first."""
    facts: list[RegistrationFact] = []
    submitted: int | None = None
    for event in events:
        if isinstance(event, SmsConnection.RegistrationSubmitted):
            submitted = event.compliance_version
            facts.append(_submitted(event, submitted))
        elif isinstance(event, SmsConnection.RegistrationLevelChanged):
            facts.append(_level_changed(event, submitted))
        elif isinstance(event, SmsConnection.RegistrationStatusChanged):
            facts.append(_reported(event, submitted))
        elif isinstance(event, SmsConnection.SecondaryVettingRequested):
            facts.append(_vetting_requested(event, submitted, facts))
    return facts


def _vetting_requested(
    event: SmsConnection.SecondaryVettingRequested,
    submitted: int | None,
    facts: list[RegistrationFact],
) -> RegistrationFact:
    return RegistrationFact(
        version=event.originator_version,
        at=event.timestamp,
        actor=event.requested_by,
        actor_type=USER,
        type="registration.vetting_requested",
        level="brand",
        status="requested",
        raw_status=None,
        reasons=(),
        submitted_version=submitted,
        registration_status=facts[-1].registration_status if facts else "not_submitted",
    )


def _submitted(
    event: SmsConnection.RegistrationSubmitted, submitted: int | None
) -> RegistrationFact:
    return RegistrationFact(
        version=event.originator_version,
        at=event.timestamp,
        actor=event.submitted_by,
        actor_type=USER,
        type="registration.submitted",
        level="submission",
        status="submitted",
        raw_status=None,
        reasons=(),
        submitted_version=submitted,
        registration_status=event.registration_status,
    )


def _level_changed(
    event: SmsConnection.RegistrationLevelChanged, submitted: int | None
) -> RegistrationFact:
    return RegistrationFact(
        version=event.originator_version,
        at=event.timestamp,
        actor=PROVIDER_ACTOR,
        actor_type=PROVIDER,
        type="registration.changed",
        level=event.level,
        status=event.status,
        raw_status=event.raw_status,
        reasons=reasons_of(event.reasons),
        submitted_version=submitted,
        registration_status=event.registration_status,
    )


def _reported(
    event: SmsConnection.RegistrationStatusChanged, submitted: int | None
) -> RegistrationFact:
    reasons = (Reason("", event.reason),) if event.reason else ()
    return RegistrationFact(
        version=event.originator_version,
        at=event.timestamp,
        actor=PROVIDER_ACTOR,
        actor_type=PROVIDER,
        type="registration.changed",
        level="connection",
        status=event.status,
        raw_status=event.raw_status,
        reasons=reasons,
        submitted_version=submitted,
        registration_status=event.status,
    )
