"""Registration response models (US A2P 10DLC): where a connection's submission stands at
each level, its timeline, and the registration facts of the compliance history (camelCase
on the wire). Nothing here carries a compliance value: reasons are the provider's codes and
texts, fields are dotted names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from domain.actors import ActorType
from domain.registration_history import RegistrationFact
from domain.registration_levels import LevelState, Reason
from domain.sms_connections import SmsConnection


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ReasonOut(_Out):
    code: str = Field(description="The provider's reason code, e.g. 30892.")
    description: str
    fields: list[str] = Field(description="Dotted names of the compliance fields it names.")


class LevelOut(_Out):
    status: str = Field(
        description="not_submitted | submitted | pending | action_required | approved | "
        "rejected | suspended | expired"
    )
    raw_status: str | None = Field(description="The provider's own status, as reported.")
    provider_ref: str | None = Field(description="The provider's id (BN…, CM…, MG…/PN…).")
    reasons: list[ReasonOut]


class BrandLevelOut(LevelOut):
    identity_status: str | None = Field(
        description="The brand's identity status (UNVERIFIED, VERIFIED, VETTED_VERIFIED, "
        "SELF_DECLARED)."
    )


class TimelineEntryOut(_Out):
    at: datetime
    level: str = Field(description="submission | brand | campaign | number | connection")
    status: str
    reasons: list[ReasonOut]


class RegistrationOut(_Out):
    """``GET …/registration``: the connection's ``registrationStatus`` (derived from the
    three levels) and each level, with the timeline oldest first."""

    status: str
    submitted_version: int | None = Field(
        description="The compliance version submitted (read it with "
        "…/compliance/history?asOfVersion=)."
    )
    submitted_at: datetime | None
    submitted_by: str | None
    changed_since_submission: bool
    brand: BrandLevelOut
    campaign: LevelOut
    number: LevelOut
    timeline: list[TimelineEntryOut]


class SubmitRegistrationOut(_Out):
    """``POST …/registration``: the registration as submitted, the connection's new
    version (its ``ETag``) and the event-log position (for ``waitFor``)."""

    registration: RegistrationOut
    version: int
    position: int


class RegistrationFactOut(_Out):
    """A registration fact in the compliance history."""

    version: int
    recorded_at: datetime
    actor: str
    actor_type: ActorType = Field(
        description="`user` (actor: the token's sub) or `provider`; from the kind of fact, "
        "never from the actor's name."
    )
    type: str = Field(description="registration.submitted | registration.changed")
    level: str
    status: str
    submitted_version: int | None
    provider_codes: list[str]


def reasons_out(reasons: Iterable[Reason]) -> list[ReasonOut]:
    return [
        ReasonOut(code=r.code, description=r.description, fields=list(r.fields)) for r in reasons
    ]


def _level(state: LevelState) -> LevelOut:
    return LevelOut(
        status=state.status,
        raw_status=state.raw_status,
        provider_ref=state.provider_ref,
        reasons=reasons_out(state.reasons),
    )


def registration_document(
    connection: SmsConnection, facts: list[RegistrationFact]
) -> RegistrationOut:
    submission = connection.submission
    brand = connection.level("brand")
    return RegistrationOut(
        status=connection.registration_status,
        submitted_version=submission.compliance_version if submission else None,
        submitted_at=submission.submitted_at if submission else None,
        submitted_by=submission.submitted_by if submission else None,
        changed_since_submission=connection.changed_since_submission,
        brand=BrandLevelOut(**_level(brand).model_dump(), identity_status=brand.identity_status),
        campaign=_level(connection.level("campaign")),
        number=_level(connection.level("number")),
        timeline=[
            TimelineEntryOut(
                at=f.at, level=f.level, status=f.status, reasons=reasons_out(f.reasons)
            )
            for f in facts
        ],
    )


def fact_out(fact: RegistrationFact) -> RegistrationFactOut:
    return RegistrationFactOut(
        version=fact.version,
        recorded_at=fact.at,
        actor=fact.actor,
        actor_type=fact.actor_type,
        type=fact.type,
        level=fact.level,
        status=fact.status,
        submitted_version=fact.submitted_version,
        provider_codes=[r.code for r in fact.reasons if r.code],
    )
