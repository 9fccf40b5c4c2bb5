"""Connection request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel

from api.schemas.compliance import (
    ComplianceProgressOut,
    Registration,
    progress_out,
    registration_out,
)
from domain.sms_connections import SmsConnection


class WireModel(BaseModel):
    """camelCase on the wire; unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ConnectRequest(WireModel):
    """``POST /channels/sms/connect``."""

    mode: Literal["new", "byon"]
    country_code: str = Field(min_length=2, max_length=2, pattern="^[A-Z]{2}$")
    area_code: str | None = Field(default=None, max_length=5)
    phone_number: str = Field(max_length=20)
    workspace_id: str = Field(min_length=1, max_length=128)
    agent_id: str = Field(max_length=128)
    sms_compliance: dict[str, Any] | None = Field(
        default=None, description="Optional compliance draft; see PUT …/compliance."
    )


class UpdateConnectionRequest(WireModel):
    """``PATCH /channels/sms/connections/{id}``: assign an agent and/or switch on/off."""

    agent_id: str | None = Field(default=None, max_length=128)
    active: StrictBool | None = None


class Ref(WireModel):
    id: str
    name: str | None = None


class Degraded(WireModel):
    is_degraded: bool
    reasons: list[str]


class Failure(WireModel):
    code: str
    reason: str


class ConnectionOut(WireModel):
    """A connection as the channels UI shows it (read from the write model, so its
    ``version`` is the one ``If-Match`` needs)."""

    id: UUID
    channel_type: Literal["sms"] = "sms"
    phone_number: str
    country_code: str
    area_code: str | None
    mode: str
    status: str
    active: bool
    workspace: Ref
    agent: Ref | None
    knowledge_base: Ref | None = None
    degraded: Degraded
    registration_status: str
    registration: Registration
    compliance_progress: ComplianceProgressOut = Field(
        description="Completion of the compliance accordion, by section (no values)."
    )
    failure: Failure | None
    request_id: UUID
    actions: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    position: int | None = Field(
        default=None, description="Event-log position of the command (command responses)."
    )
    sms_compliance: dict[str, Any] | None = Field(
        default=None, description="Only for callers holding sms.manage."
    )


def degraded_reasons(connection: SmsConnection) -> list[str]:
    """Why the connection cannot serve, as far as the write model knows (the agent
    directory adds agent and knowledge-base reasons in the read model)."""
    reasons: list[str] = []
    if connection.status == "reclaimed":
        reasons.append("number_reclaimed")
    if connection.status == "failed":
        reasons.append("provisioning_failed")
    if not connection.agent_id:
        reasons.append("no_agent")
    return reasons


def connection_out(
    connection: SmsConnection,
    *,
    position: int | None = None,
    compliance: dict[str, Any] | None = None,
) -> ConnectionOut:
    reasons = degraded_reasons(connection)
    failure = (
        Failure(code=connection.failure_code, reason=connection.failure_reason or "")
        if connection.failure_code
        else None
    )
    return ConnectionOut(
        id=connection.id,
        phone_number=connection.phone_number,
        country_code=connection.country,
        area_code=connection.area_code,
        mode=connection.mode,
        status=connection.status,
        active=connection.active,
        workspace=Ref(id=connection.workspace_id),
        agent=Ref(id=connection.agent_id) if connection.agent_id else None,
        degraded=Degraded(is_degraded=bool(reasons), reasons=reasons),
        registration_status=connection.registration_status,
        registration=registration_out(connection),
        compliance_progress=progress_out(connection.compliance),
        failure=failure,
        request_id=connection.request_id,
        actions=["edit", "delete"] if connection.agent_id else ["edit", "delete", "assignInAgents"],
        version=connection.version,
        created_at=connection.created_on,
        updated_at=connection.modified_on,
        position=position,
        sms_compliance=compliance,
    )
