"""Compliance response models: payload with section progress and registration status,
preflight findings, and the audit history (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.registration import RegistrationFactOut, ThroughputOut, fact_out, throughput_out
from domain.actors import USER, ActorType
from domain.audit_chain import Verification
from domain.compliance.preflight import PreflightReport
from domain.compliance.progress import compliance_progress
from domain.compliance.shape import empty_compliance
from domain.service.compliance_history import ComplianceHistory, ComplianceVersion
from domain.service.registration_history import RegistrationFact
from domain.sms_connections import SmsConnection


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class SectionProgressOut(_Out):
    name: str = Field(description="Stable section id, e.g. brand_identity.")
    complete: bool
    missing: list[str] = Field(description="Dotted names of the empty required fields.")


class ComplianceProgressOut(_Out):
    """Completion markers of the compliance accordion (field names only, never values)."""

    complete_sections: int
    total_sections: int
    sections: list[SectionProgressOut]


class Registration(_Out):
    """The 10DLC registration as the provider last reported it (never set by an operator)."""

    status: str
    raw_status: str | None
    reason: str | None
    changed_since_submission: bool
    throughput: ThroughputOut | None = Field(
        default=None,
        description="How much the number may send, as the provider reported it (every field "
        "null while unknown).",
    )


class ComplianceOut(_Out):
    """``PUT`` / ``GET …/compliance``: the payload as entered (empty defaults when none)."""

    sms_compliance: dict[str, Any]
    compliance_progress: ComplianceProgressOut
    registration: Registration
    version: int
    position: int | None = Field(
        default=None, description="Event-log position of the command (PUT only)."
    )


class FindingOut(_Out):
    field: str
    rule: str = Field(description="Stable rule id, e.g. sample.names_brand.")
    severity: Literal["error", "warning"]
    message: str = Field(description="How to fix it; never quotes the value.")
    provider_codes: list[str] = Field(
        description="The provider reason codes this finding predicts (Twilio error codes, "
        "e.g. 30892 for an unsecured or shortened link in a sample); empty when the rule "
        "predicts no published code.",
        examples=[["30892"]],
    )


class PreflightOut(_Out):
    """Likely refusals at 10DLC registration. ``ready`` means no error was found by these
    rules; it never means that a carrier or The Campaign Registry approved anything."""

    ready: bool
    ruleset: str = Field(description="The rules applied, e.g. us_10dlc.")
    findings: list[FindingOut]


class ComplianceVersionOut(_Out):
    version: int = Field(description="Aggregate version of the edit (If-Match numbering).")
    recorded_at: datetime
    actor: str
    actor_type: ActorType = Field(
        default=USER, description="Always `user`: only a token's subject edits compliance."
    )
    changed_fields: list[str]
    sms_compliance: dict[str, Any]
    chain: str | None = Field(
        default=None,
        description="Hex SHA-256 linking this fact to the previous fact of the connection "
        "(null for facts recorded before chains existed); see …/compliance/history/verify.",
    )


class ChainVerificationOut(_Out):
    """Whether the connection's stored facts still form the chain they were recorded with."""

    connection_id: UUID
    verified: bool
    facts: int = Field(description="Stored facts read (up to the first broken one).")
    head: str | None = Field(
        default=None, description="The chain of the newest fact (when verified)."
    )
    head_version: int = Field(description="The version of the newest fact read.")
    chain_starts_at: int | None = Field(
        description="The first chained version: facts recorded before chains existed are "
        "not covered (null when no fact is chained yet)."
    )
    broken_at: int | None = Field(default=None, description="The first broken version.")
    code: Literal["missing_version", "undecodable", "chain_mismatch", "unchained_fact"] | None = (
        Field(default=None, description="Why it is broken, as a stable code.")
    )
    reason: str | None = Field(default=None, description="Why it is broken, in words.")


def verification_out(verification: Verification) -> ChainVerificationOut:
    v = verification
    return ChainVerificationOut(
        connection_id=v.connection_id,
        verified=v.verified,
        facts=v.facts,
        head=v.head if v.verified else None,
        head_version=v.head_version,
        chain_starts_at=v.chain_starts_at,
        broken_at=v.broken_at,
        code=v.code,
        reason=v.reason,
    )


class ComplianceHistoryOut(_Out):
    """Compliance versions replayed from the event store, oldest first; with ``asOf`` or
    ``asOfVersion``, only the version in effect then (none if nothing was saved yet)."""

    connection_id: UUID
    status: str
    versions: list[ComplianceVersionOut]
    registration: list[RegistrationFactOut] = Field(
        default_factory=list,
        description="Registration facts beside the edits, oldest first: "
        "registration.submitted (with the compliance version submitted) and "
        "registration.changed (what a level of the provider answered, with its codes).",
    )


def progress_out(payload: dict[str, Any] | None) -> ComplianceProgressOut:
    progress = compliance_progress(payload)
    return ComplianceProgressOut(
        complete_sections=progress.complete_sections,
        total_sections=progress.total_sections,
        sections=[
            SectionProgressOut(name=s.name, complete=s.complete, missing=s.missing)
            for s in progress.sections
        ],
    )


def registration_out(connection: SmsConnection) -> Registration:
    """The summary beside the form. Once a submission was made here the status is derived
    from its levels, whose raw statuses and reasons ``GET …/registration`` lists; the
    whole-connection report's would contradict it, so they are not shown then."""
    whole = connection.submission is None
    return Registration(
        status=connection.registration_status,
        raw_status=connection.registration_raw_status if whole else None,
        reason=connection.registration_reason if whole else None,
        changed_since_submission=connection.changed_since_submission,
        throughput=throughput_out(connection.registration_throughput),
    )


def compliance_out(connection: SmsConnection, position: int | None = None) -> ComplianceOut:
    return ComplianceOut(
        sms_compliance=connection.compliance or empty_compliance(),
        compliance_progress=progress_out(connection.compliance),
        registration=registration_out(connection),
        version=connection.version,
        position=position,
    )


def preflight_out(report: PreflightReport) -> PreflightOut:
    return PreflightOut(
        ready=report.ready,
        ruleset=report.ruleset,
        findings=[
            FindingOut(
                field=f.field,
                rule=f.rule,
                severity=f.severity,
                message=f.message,
                provider_codes=list(f.provider_codes),
            )
            for f in report.findings
        ],
    )


def _version_out(version: ComplianceVersion) -> ComplianceVersionOut:
    return ComplianceVersionOut(
        version=version.version,
        recorded_at=version.recorded_at,
        actor=version.actor,
        changed_fields=version.changed_fields,
        sms_compliance=version.compliance,
        chain=version.chain,
    )


def history_out(
    history: ComplianceHistory,
    versions: list[ComplianceVersion] | None = None,
    facts: list[RegistrationFact] | None = None,
) -> ComplianceHistoryOut:
    """The history document; ``versions`` and ``facts`` narrow it (e.g. to what was in
    effect as of a point)."""
    return ComplianceHistoryOut(
        connection_id=history.connection_id,
        status=history.status,
        versions=[_version_out(v) for v in (history.versions if versions is None else versions)],
        registration=[fact_out(f) for f in (history.registration if facts is None else facts)],
    )


def history_json(
    history: ComplianceHistory,
    versions: list[ComplianceVersion] | None = None,
    facts: list[RegistrationFact] | None = None,
) -> bytes:
    """``history_out`` as JSON bytes, the versions serialised by orjson from plain values
    (no model per version: B5). Byte for byte what ``history_out(…).model_dump_json`` writes
    (tests compare them); the few registration facts still go through their models."""
    document = {
        "connectionId": history.connection_id,
        "status": history.status,
        "versions": [
            {
                "version": v.version,
                "recordedAt": v.recorded_at,
                "actor": v.actor,
                "actorType": USER,
                "changedFields": v.changed_fields,
                "smsCompliance": v.compliance,
                "chain": v.chain,
            }
            for v in (history.versions if versions is None else versions)
        ],
        "registration": [
            fact_out(f).model_dump(mode="json", by_alias=True)
            for f in (history.registration if facts is None else facts)
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


def version_document(version: ComplianceVersion) -> dict[str, Any]:
    """One version as JSON-ready data, as the HTTP API spells it (for the CLI's jsonl)."""
    return _version_out(version).model_dump(mode="json", by_alias=True)
