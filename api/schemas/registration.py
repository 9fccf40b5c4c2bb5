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
from domain.carriers import CarrierState, Throughput
from domain.registration_levels import LevelState, Reason, reasons_of
from domain.registrations import LevelRegistration
from domain.remedies import remedy_of
from domain.service.registration_history import RegistrationFact
from domain.sms_connections import SmsConnection


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ReasonOut(_Out):
    code: str = Field(description="The provider's reason code, e.g. 30892.")
    description: str
    fields: list[str] = Field(
        description="Dotted names of the compliance fields it concerns: the provider's, "
        "else the service's catalogue's for the code."
    )
    fix: str | None = Field(
        default=None,
        description="What to change, in plain words (null: a code the catalogue does not know).",
    )
    carrier: str | None = Field(
        default=None,
        description="The carrier that gave the reason (att | tmobile | verizon | uscellular | "
        "other); null: the provider's own.",
    )


class CarrierOut(_Out):
    carrier: str = Field(description="att | tmobile | verizon | uscellular | other")
    status: str = Field(description="pending | approved | rejected | suspended | expired")
    reasons: list[ReasonOut]


class LevelOut(_Out):
    status: str = Field(
        description="not_submitted | submitted | pending | action_required | approved | "
        "rejected | suspended | expired. With carriers: approved only when every carrier "
        "reported approved; rejected when one refused."
    )
    raw_status: str | None = Field(description="The provider's own status, as reported.")
    provider_ref: str | None = Field(description="The provider's id (BN…, CM…, MG…/PN…).")
    reasons: list[ReasonOut]
    carriers: list[CarrierOut] | None = Field(
        default=None,
        description="What each carrier decided, where the provider reports it (campaign, "
        "number); null where it does not (never guessed).",
    )


class ThroughputOut(_Out):
    """How much the number may send, as the provider reported it (null: unknown)."""

    brand_score: int | None = Field(description="The brand's vetting score (0-100).")
    tmobile_tier: str | None = Field(description="T-Mobile's brand tier (LOW … TOP).")
    tmobile_daily_cap: int | None = Field(
        description="T-Mobile's messages a day for the brand (null: unknown or uncapped TOP)."
    )
    att_message_class: str | None = Field(description="AT&T's message class (A, B, E, T…).")
    att_tpm: int | None = Field(description="AT&T's messages a minute for the campaign.")


class ResubmissionOut(_Out):
    """What the next submission of a changed payload will do, said before it is made."""

    mode: str = Field(
        description="in_place (the refused campaign is updated at the provider) | "
        "new_campaign | new_brand (the brand is registered again) | none (nothing refused)"
    )
    attempts: int = Field(description="Submissions made so far.")
    fields: list[str] = Field(description="The fields the refusal's reasons ask to change.")


class VettingOut(_Out):
    kind: str = Field(
        description="campaign_verify (a political sender's Campaign Verify token) | secondary "
        "(secondary vetting, for a higher brand score)"
    )
    status: str = Field(description="pending | approved | rejected")
    raw_status: str | None = Field(description="The provider's own status (PENDING, SUCCESS…).")
    vetting_class: str | None = Field(description="POLITICAL | STANDARD, as the provider says.")
    provider_ref: str = Field(description="The provider's id of the vetting (VT…).")


class BrandLevelOut(LevelOut):
    identity_status: str | None = Field(
        description="The brand's identity status (UNVERIFIED, VERIFIED, VETTED_VERIFIED, "
        "SELF_DECLARED)."
    )
    vettings: list[VettingOut] = Field(
        default_factory=list,
        description="The brand's vettings at the provider (never the Campaign Verify token).",
    )
    secondary_vetting_requested: bool = Field(
        default=False, description="Secondary vetting was asked for (POST …/registration/vetting)."
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
    throughput: ThroughputOut
    not_permitted_on: list[str] = Field(
        description="The carriers that refused, suspended or expired the campaign or number "
        "(outbound replies are not carried to their subscribers)."
    )
    resubmission: ResubmissionOut
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
    type: str = Field(
        description="registration.submitted | registration.changed | registration.vetting_requested"
    )
    level: str
    status: str
    submitted_version: int | None
    provider_codes: list[str]


def reasons_out(reasons: Iterable[Reason]) -> list[ReasonOut]:
    """Reasons with the catalogue's fields (where the provider named none) and fix."""
    found = []
    for r in reasons:
        remedy = remedy_of(r.code)
        fields = list(r.fields) or (list(remedy.fields) if remedy else [])
        found.append(
            ReasonOut(
                code=r.code,
                description=r.description,
                fields=fields,
                fix=remedy.fix if remedy else None,
                carrier=r.carrier,
            )
        )
    return found


def _carriers(carriers: tuple[CarrierState, ...] | None) -> list[CarrierOut] | None:
    if carriers is None:
        return None
    return [
        CarrierOut(carrier=c.carrier, status=c.status, reasons=reasons_out(reasons_of(c.reasons)))
        for c in carriers
    ]


def _level(state: LevelState) -> LevelOut:
    return LevelOut(
        status=state.status,
        raw_status=state.raw_status,
        provider_ref=state.provider_ref,
        reasons=reasons_out(state.reasons),
        carriers=_carriers(state.carriers),
    )


def throughput_out(throughput: Throughput) -> ThroughputOut:
    return ThroughputOut(**throughput.as_dict())


def resubmission_out(connection: SmsConnection) -> ResubmissionOut:
    plan = connection.resubmission_plan
    return ResubmissionOut(mode=plan.mode, attempts=plan.attempts, fields=list(plan.fields))


def registration_document(
    connection: SmsConnection,
    facts: list[RegistrationFact],
    brand_registration: LevelRegistration | None = None,
) -> RegistrationOut:
    """``brand_registration``: the brand registration of the submission (its vettings)."""
    submission = connection.submission
    brand = connection.level("brand")
    vettings = [
        VettingOut(
            kind=v.kind, status=v.status, raw_status=v.raw_status,
            vetting_class=v.vetting_class, provider_ref=v.ref,
        )
        for v in (brand_registration.vettings.values() if brand_registration else ())
    ]  # fmt: skip
    return RegistrationOut(
        status=connection.registration_status,
        submitted_version=submission.compliance_version if submission else None,
        submitted_at=submission.submitted_at if submission else None,
        submitted_by=submission.submitted_by if submission else None,
        changed_since_submission=connection.changed_since_submission,
        brand=BrandLevelOut(
            **_level(brand).model_dump(),
            identity_status=brand.identity_status,
            vettings=vettings,
            secondary_vetting_requested=connection.secondary_vetting_requested,
        ),
        campaign=_level(connection.level("campaign")),
        number=_level(connection.level("number")),
        throughput=throughput_out(connection.registration_throughput),
        not_permitted_on=list(connection.not_permitted_on),
        resubmission=resubmission_out(connection),
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
