"""Connection request and response models."""

from __future__ import annotations

from collections.abc import Sequence
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
from api.schemas.text import AgentId, CountryCode, IdText
from domain.agent_directory import AgentInfo
from domain.capabilities import Capabilities
from domain.carriers import CarrierState
from domain.serving import Names, Spell, assess, connection_since, facts_of_connection
from domain.sms_connections import SmsConnection


class WireModel(BaseModel):
    """camelCase on the wire; unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ConnectRequest(WireModel):
    """``POST /channels/sms/connect``."""

    mode: Literal["new", "byon"]
    country_code: CountryCode
    area_code: str | None = Field(default=None, max_length=5)
    phone_number: str = Field(max_length=20)
    workspace_id: IdText
    agent_id: AgentId
    sms_compliance: dict[str, Any] | None = Field(
        default=None, description="Optional compliance draft; see PUT …/compliance."
    )


class UpdateConnectionRequest(WireModel):
    """``PATCH /channels/sms/connections/{id}``: assign an agent, move to another workspace
    (with an agent of that workspace), and/or switch on/off."""

    workspace_id: IdText | None = Field(
        default=None,
        description="Move the connection to this workspace; needs agentId, an agent of it.",
    )
    agent_id: AgentId | None = None
    active: StrictBool | None = None


class ReplaceNumberRequest(WireModel):
    """``POST /channels/sms/connections/{id}/replace-number``: the new number; workspace,
    agent and smsCompliance are carried over from the connection it replaces."""

    mode: Literal["new", "byon"]
    country_code: CountryCode
    area_code: str | None = Field(default=None, max_length=5)
    phone_number: str = Field(max_length=20)


class Ref(WireModel):
    id: str
    name: str | None = None


class Degraded(WireModel):
    is_degraded: bool
    reasons: list[str] = Field(
        description="no_agent, agent_not_found, kb_unresolved, number_reclaimed, "
        "provisioning_failed"
    )
    since: datetime | None = Field(
        default=None, description="When the current degraded spell began; null when not degraded."
    )


def refs(
    workspace_id: str, agent_id: str | None, names: Names
) -> tuple[Ref, Ref | None, Ref | None]:
    """The workspace, agent and knowledge base as the UI shows them (names only from the
    directory's entry of an agent of that workspace)."""
    knowledge_base = (
        Ref(id=names.knowledge_base_id, name=names.knowledge_base_name)
        if names.knowledge_base_id
        else None
    )
    agent = Ref(id=agent_id, name=names.agent_name) if agent_id else None
    return Ref(id=workspace_id, name=names.workspace_name), agent, knowledge_base


class IngestionOut(WireModel):
    enabled: bool = Field(description="Messages to the number reach the agent.")
    reason: str | None = Field(description="Why not (a stable code); null when enabled.")


class OutboundRepliesOut(WireModel):
    permitted: bool = Field(description="The agent may reply (the region's rule holds).")
    reason: str | None = Field(description="Why not (a stable code); null when permitted.")
    not_permitted_on: list[str] = Field(
        default_factory=list,
        description="The carriers (att | tmobile | verizon | uscellular | other) that refused, "
        "suspended or expired the registration: replies to their subscribers are not "
        "carried. Empty when none did or the provider does not report per carrier.",
    )


class CarrierBadge(WireModel):
    carrier: str = Field(description="att | tmobile | verizon | uscellular | other")
    status: str = Field(description="pending | approved | rejected | suspended | expired")


def badges_out(carriers: Sequence[CarrierState] | None) -> list[CarrierBadge] | None:
    if carriers is None:
        return None
    return [CarrierBadge(carrier=c.carrier, status=c.status) for c in carriers]


class CapabilitiesOut(WireModel):
    """Effective capabilities, derived from the connection, its agent's knowledge base and
    the region's rule for the registration status; never set by an operator."""

    ingestion: IngestionOut
    outbound_replies: OutboundRepliesOut


def capabilities_out(
    capabilities: Capabilities, not_permitted_on: Sequence[str] = ()
) -> CapabilitiesOut:
    return CapabilitiesOut(
        ingestion=IngestionOut(
            enabled=capabilities.ingestion.allowed, reason=capabilities.ingestion.reason
        ),
        outbound_replies=OutboundRepliesOut(
            permitted=capabilities.outbound_replies.allowed,
            reason=capabilities.outbound_replies.reason,
            not_permitted_on=list(not_permitted_on),
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
    registration_carriers: list[CarrierBadge] | None = Field(
        default=None,
        description="What each carrier decided about the registration (the worst of the "
        "campaign's and the number's): the per-carrier badge. Null when the provider does "
        "not report per carrier.",
    )
    capabilities: CapabilitiesOut
    compliance_progress: ComplianceProgressOut = Field(
        description="Completion of the compliance accordion, by section (no values)."
    )
    failure: Failure | None
    reclaim_reason: Literal["reclaimed", "expired", "released"] | None = Field(
        default=None, description="Why the provider took the number back (reclaimed only)."
    )
    replaced_by: UUID | None = Field(
        default=None, description="The connection that replaced this one's number."
    )
    request_id: UUID
    actions: list[str] = Field(description="edit, delete, assignInAgents, replaceNumber")
    version: int
    created_at: datetime
    updated_at: datetime
    position: int | None = Field(
        default=None, description="Event-log position of the command (command responses)."
    )
    sms_compliance: dict[str, Any] | None = Field(
        default=None, description="Only for callers holding sms.manage."
    )


def connection_out(
    connection: SmsConnection,
    agent: AgentInfo | None,
    *,
    spell: Spell | None = None,
    position: int | None = None,
    compliance: dict[str, Any] | None = None,
) -> ConnectionOut:
    """The wire form of ``connection``; ``agent`` is the directory's entry for its agent
    (``domain.agent_directory.find_agent``) and ``spell`` the degraded spell the channels
    table recorded (None: no row yet). ``domain.serving`` decides what the row decides."""
    serving = assess(facts_of_connection(connection), agent)
    workspace, agent_ref, knowledge_base = refs(
        connection.workspace_id, connection.agent_id, serving.names
    )
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
        workspace=workspace,
        agent=agent_ref,
        knowledge_base=knowledge_base,
        degraded=Degraded(
            is_degraded=serving.is_degraded,
            reasons=list(serving.degraded_reasons),
            since=connection_since(connection, serving.degraded_reasons, spell),
        ),
        registration_status=connection.registration_status,
        registration=registration_out(connection),
        registration_carriers=badges_out(connection.registration_carriers),
        capabilities=capabilities_out(serving.capabilities, connection.not_permitted_on),
        compliance_progress=progress_out(connection.compliance),
        failure=failure,
        reclaim_reason=connection.reclaim_reason,
        replaced_by=connection.replaced_by,
        request_id=connection.request_id,
        actions=list(serving.actions),
        version=connection.version,
        created_at=connection.created_on,
        updated_at=connection.modified_on,
        position=position,
        sms_compliance=compliance,
    )
