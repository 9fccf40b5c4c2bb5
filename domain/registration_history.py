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

from domain.registration_levels import Reason, reasons_of
from domain.sms_connections import SmsConnection

FactType = Literal["registration.submitted", "registration.changed"]
_SUBMITTED: Any = SmsConnection.RegistrationSubmitted  # type: ignore[attr-defined]
_LEVEL_CHANGED: Any = SmsConnection.RegistrationLevelChanged  # type: ignore[attr-defined]
_REPORTED: Any = SmsConnection.RegistrationStatusChanged  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RegistrationFact:
    """One registration fact. ``level`` is ``submission`` for a submission, ``brand`` /
    ``campaign`` / ``number`` for a level's change, ``connection`` for a status reported
    for the whole connection; ``submitted_version`` is the compliance version the
    submission in effect submitted (None before any submission here)."""

    version: int
    at: datetime
    actor: str
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
    event: Any
    for event in events:
        if isinstance(event, _SUBMITTED):
            submitted = event.compliance_version
            facts.append(_fact(event, "registration.submitted", "submission", submitted))
        elif isinstance(event, _LEVEL_CHANGED):
            facts.append(_fact(event, "registration.changed", event.level, submitted))
        elif isinstance(event, _REPORTED):
            facts.append(_reported(event, submitted))
    return facts


def _fact(event: Any, kind: FactType, level: str, submitted: int | None) -> RegistrationFact:
    is_submission = kind == "registration.submitted"
    return RegistrationFact(
        version=event.originator_version,
        at=event.timestamp,
        actor=event.submitted_by if is_submission else "provider",
        type=kind,
        level=level,
        status="submitted" if is_submission else event.status,
        raw_status=None if is_submission else event.raw_status,
        reasons=() if is_submission else reasons_of(event.reasons),
        submitted_version=submitted,
        registration_status=event.registration_status,
    )


def _reported(event: Any, submitted: int | None) -> RegistrationFact:
    reasons = (Reason("", event.reason),) if event.reason else ()
    return RegistrationFact(
        version=event.originator_version,
        at=event.timestamp,
        actor="provider",
        type="registration.changed",
        level="connection",
        status=event.status,
        raw_status=event.raw_status,
        reasons=reasons,
        submitted_version=submitted,
        registration_status=event.status,
    )
