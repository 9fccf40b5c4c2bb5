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
from api.schemas.text import IdOrEmpty, IdText
from domain.agent_directory import AgentInfo
from domain.capabilities import Capabilities, ConnectionFacts, effective_capabilities
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
    workspace_id: IdText
    agent_id: IdOrEmpty
    sms_compliance: dict[str, Any] | None = Field(
        default=None, description="Optional compliance draft; see PUT …/compliance."
    )


class UpdateConnectionRequest(WireModel):
    """``PATCH /channels/sms/connections/{id}``: assign an agent and/or switch on/off."""

    agent_id: IdOrEmpty | None = None
    active: StrictBool | None = None


class Ref(WireModel):
    id: str
    name: str | None = None


class Degraded(WireModel):
    is_degraded: bool
    reasons: list[str]


class IngestionOut(WireModel):
    enabled: bool = Field(description="Messages to the number reach the agent.")
    reason: str | None = Field(description="Why not (a stable code); null when enabled.")


class OutboundRepliesOut(WireModel):
    permitted: bool = Field(description="The agent may reply (the region's rule holds).")
    reason: str | None = Field(description="Why not (a stable code); null when permitted.")


class CapabilitiesOut(WireModel):
    """Effective capabilities, derived from the connection, its agent's knowledge base and
    the region's rule for the registration status; never set by an operator."""

    ingestion: IngestionOut
    outbound_replies: OutboundRepliesOut


def capabilities_out(capabilities: Capabilities) -> CapabilitiesOut:
    return CapabilitiesOut(
        ingestion=IngestionOut(
            enabled=capabilities.ingestion.allowed, reason=capabilities.ingestion.reason
        ),
        outbound_replies=OutboundRepliesOut(
            permitted=capabilities.outbound_replies.allowed,
            reason=capabilities.outbound_replies.reason,
        ),
    )


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
    capabilities: CapabilitiesOut
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
    agent: AgentInfo | None,
    *,
    position: int | None = None,
    compliance: dict[str, Any] | None = None,
) -> ConnectionOut:
    """The wire form of ``connection``; ``agent`` is the directory's entry for its agent
    (``domain.agent_directory.find_agent``), which resolves the knowledge base and so the
    capabilities."""
    reasons = degraded_reasons(connection)
    capabilities = effective_capabilities(
        ConnectionFacts(
            status=connection.status,
            active=connection.active,
            workspace_id=connection.workspace_id,
            agent_id=connection.agent_id,
            country=connection.country,
            registration_status=connection.registration_status,
        ),
        agent,
    )
    in_workspace = agent if agent and agent.workspace_id == connection.workspace_id else None
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
        agent=(
            Ref(id=connection.agent_id, name=in_workspace.name if in_workspace else None)
            if connection.agent_id
            else None
        ),
        knowledge_base=(
            Ref(id=in_workspace.knowledge_base_id, name=in_workspace.knowledge_base_name)
            if in_workspace and in_workspace.knowledge_base_id
            else None
        ),
        degraded=Degraded(is_degraded=bool(reasons), reasons=reasons),
        registration_status=connection.registration_status,
        registration=registration_out(connection),
        capabilities=capabilities_out(capabilities),
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
