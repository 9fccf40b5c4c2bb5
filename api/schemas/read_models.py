"""Response models of the query side: channels table rows, SMS requests, directory."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from api.schemas.connections import (
    CapabilitiesOut,
    CarrierBadge,
    Degraded,
    Ref,
    WireModel,
)
from api.schemas.text import IdText, NameText
from domain.carriers import badges_of, not_permitted_on
from projections.channels_table import NOT_COMPUTED


class ComplianceCounts(WireModel):
    complete_sections: int
    total_sections: int


class ChannelRow(WireModel):
    """A row of the SMS tab of the channels table."""

    id: UUID
    channel_type: Literal["sms"] = "sms"
    phone_number: str
    country_code: str
    mode: str
    status: str
    active: bool
    workspace: Ref
    knowledge_base: Ref | None
    agent: Ref | None
    degraded: Degraded
    registration_status: str
    compliance_progress: ComplianceCounts
    capabilities: CapabilitiesOut
    reclaim_reason: Literal["reclaimed", "expired", "released"] | None = None
    replaced_by: UUID | None = None
    actions: list[str]
    version: int
    updated_at: datetime
    attention: bool = Field(
        default=False,
        description="An operator let this read model skip one of the connection's events "
        "(`sms-channels projections skip`): the row may be incomplete until it is rebuilt.",
    )
    registration_carriers: list[CarrierBadge] | None = Field(
        default=None,
        description="What each carrier decided about the registration (the worst of the "
        "campaign's and the number's): the per-carrier badge. Null when the provider does "
        "not report per carrier.",
    )


class ChannelsPage(WireModel):
    items: list[ChannelRow]
    next_cursor: str | None


class SmsRequestRow(WireModel):
    id: UUID
    connection_id: UUID
    mode: str
    phone_number: str
    country_code: str
    status: str
    reason: str | None
    created_at: datetime
    updated_at: datetime


class SmsRequestsPage(WireModel):
    items: list[SmsRequestRow]
    next_cursor: str | None


class DirectoryAgentIn(WireModel):
    """``PUT /directory/agents/{agentId}``: the agent as the agents service knows it."""

    workspace_id: IdText
    workspace_name: NameText
    name: NameText
    knowledge_base_id: IdText | None = None
    knowledge_base_name: NameText | None = None


class DirectoryAgentOut(DirectoryAgentIn):
    agent_id: str
    position: int | None = Field(default=None, description="Event-log position of the change.")


class DirectoryAgentRow(WireModel):
    """An option of the Agent selector, with its knowledge base for the Destination step."""

    agent_id: str
    name: str
    workspace: Ref
    knowledge_base: Ref | None


class DirectoryAgentsPage(WireModel):
    items: list[DirectoryAgentRow]
    next_cursor: str | None


def directory_agent_row(row: dict[str, Any]) -> DirectoryAgentRow:
    """The wire form of an ``agent_directory`` row."""
    return DirectoryAgentRow(
        agent_id=row["agent_id"],
        name=row["name"],
        workspace=Ref(id=row["workspace_id"], name=row["workspace_name"]),
        knowledge_base=Ref(id=row["kb_id"], name=row["kb_name"]) if row["kb_id"] else None,
    )


def channel_row_wire(row: dict[str, Any]) -> dict[str, Any]:
    """The wire form of a ``sms_channels_rows`` row (what ``domain.serving`` decided when
    the row was projected) as plain camelCase values, ready for ``orjson.dumps``: the list
    route serialises a page of these without a model per row (B3). Same shape as
    ``ChannelRow`` (tests compare the two for random rows)."""
    agent_id, kb_id = row["agent_id"], row["kb_id"]
    ingestion, outbound = row["ingestion_enabled"], row["outbound_permitted"]
    carriers = badges_of(row.get("registration_carriers"))
    return {
        "id": row["connection_id"],
        "channelType": "sms",
        "phoneNumber": row["phone_number"],
        "countryCode": row["country"],
        "mode": row["mode"],
        "status": row["status"],
        "active": row["active"],
        "workspace": {"id": row["workspace_id"], "name": row["workspace_name"]},
        "knowledgeBase": {"id": kb_id, "name": row["kb_name"]} if kb_id else None,
        "agent": {"id": agent_id, "name": row["agent_name"]} if agent_id else None,
        "degraded": {
            "isDegraded": row["is_degraded"],
            "reasons": list(row["degraded_reasons"]),
            "since": row["degraded_since"],
        },
        "registrationStatus": row["registration_status"],
        "complianceProgress": {
            "completeSections": row["compliance_complete"],
            "totalSections": row["compliance_total"],
        },
        # A value never computed (NULL) denies, as ``not_computed``.
        "capabilities": {
            "ingestion": {
                "enabled": bool(ingestion),
                "reason": NOT_COMPUTED if ingestion is None else row["ingestion_reason"],
            },
            "outboundReplies": {
                "permitted": bool(outbound),
                "reason": NOT_COMPUTED if outbound is None else row["outbound_reason"],
                "notPermittedOn": list(not_permitted_on(carriers)),
            },
        },
        "reclaimReason": row["reclaim_reason"],
        "replacedBy": row["replaced_by"],
        "actions": list(row["actions"]),
        "version": row["version"],
        "updatedAt": row["updated_at"],
        "attention": bool(row.get("attention")),
        "registrationCarriers": None
        if carriers is None
        else [{"carrier": c.carrier, "status": c.status} for c in carriers],
    }


def sms_request_row(row: dict[str, Any]) -> SmsRequestRow:
    return SmsRequestRow(
        id=row["request_id"],
        connection_id=row["connection_id"],
        mode=row["mode"],
        phone_number=row["phone_number"],
        country_code=row["country"],
        status=row["status"],
        reason=row["reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
