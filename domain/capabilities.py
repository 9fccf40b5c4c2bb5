"""Effective capabilities of a connection: may messages come in, and may the agent reply?

Derived, never set by an operator: a pure function of the connection's facts, the agent
directory's entry for its agent, and the regional rules. The channels table computes it at
flush (so a rebuild gives the same rows) and the single-connection response computes it
from the write model and the directory.

- ``ingestion`` is enabled when the number is connected, the channel active, and a
  knowledge base resolves through the agent (in the connection's workspace).
- ``outbound_replies`` are permitted when ingestion is enabled and the region's rule holds
  for the current provider-reported registration status.

When false, ``reason`` is the first unmet condition, in the order above. Outbound replies
that fail because ingestion is off carry the ingestion reason (the UI shows one "why").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.agent_directory import AgentInfo
from domain.regions import Regions, load_regions

# Ingestion reasons (also the outbound reason when ingestion is off).
NOT_CONNECTED: Final = "not_connected"  # requested: the provider has not confirmed it yet
PROVISIONING_FAILED: Final = "provisioning_failed"
NUMBER_RECLAIMED: Final = "number_reclaimed"
CONNECTION_DELETED: Final = "connection_deleted"
INACTIVE: Final = "inactive"
NO_AGENT: Final = "no_agent"
AGENT_NOT_FOUND: Final = "agent_not_found"  # not in the directory for this workspace
KB_UNRESOLVED: Final = "kb_unresolved"  # the agent has no knowledge base
# Outbound reasons (ingestion enabled, the region's rule does not hold).
REGION_UNSUPPORTED: Final = "region_unsupported"  # the country left the rules table
REGION_NOT_PERMITTED: Final = "region_not_permitted"  # no A2P on these numbers at all
REGISTRATION_REQUIRED: Final = "registration_required"  # nothing submitted yet
CAMPAIGN_PENDING: Final = "campaign_pending"  # submitted or pending review
CAMPAIGN_REJECTED: Final = "campaign_rejected"
CAMPAIGN_SUSPENDED: Final = "campaign_suspended"
CAMPAIGN_EXPIRED: Final = "campaign_expired"
# The provider waits on the operator (e.g. a sole proprietor's OTP confirmation).
REGISTRATION_ACTION_REQUIRED: Final = "registration_action_required"

INGESTION_REASONS: Final = (
    NOT_CONNECTED,
    PROVISIONING_FAILED,
    NUMBER_RECLAIMED,
    CONNECTION_DELETED,
    INACTIVE,
    NO_AGENT,
    AGENT_NOT_FOUND,
    KB_UNRESOLVED,
)
OUTBOUND_REASONS: Final = (
    *INGESTION_REASONS,
    REGION_UNSUPPORTED,
    REGION_NOT_PERMITTED,
    REGISTRATION_REQUIRED,
    CAMPAIGN_PENDING,
    CAMPAIGN_REJECTED,
    CAMPAIGN_SUSPENDED,
    CAMPAIGN_EXPIRED,
    REGISTRATION_ACTION_REQUIRED,
)

_STATUS_REASONS: Final = {
    "requested": NOT_CONNECTED,
    "failed": PROVISIONING_FAILED,
    "reclaimed": NUMBER_RECLAIMED,
    "deleted": CONNECTION_DELETED,
}
_REGISTRATION_REASONS: Final = {
    "not_submitted": REGISTRATION_REQUIRED,
    "submitted": CAMPAIGN_PENDING,
    "pending": CAMPAIGN_PENDING,
    "rejected": CAMPAIGN_REJECTED,
    "suspended": CAMPAIGN_SUSPENDED,
    "expired": CAMPAIGN_EXPIRED,
    "action_required": REGISTRATION_ACTION_REQUIRED,
}


@dataclass(frozen=True)
class ConnectionFacts:
    """What the rule reads of a connection (from the aggregate or a read-model row)."""

    status: str
    active: bool
    workspace_id: str
    agent_id: str | None
    country: str
    registration_status: str
    replaced: bool = False  # another connection took its place (replace-number)


@dataclass(frozen=True)
class Capability:
    """Allowed or not; ``reason`` is a stable code when not, None when allowed."""

    allowed: bool
    reason: str | None = None


ALLOWED: Final = Capability(allowed=True)


@dataclass(frozen=True)
class Capabilities:
    ingestion: Capability
    outbound_replies: Capability


def effective_capabilities(
    facts: ConnectionFacts, agent: AgentInfo | None, regions: Regions | None = None
) -> Capabilities:
    """The capabilities of the connection described by ``facts`` whose agent's directory
    entry is ``agent`` (None: unknown or deleted), under ``regions`` (default: the
    packaged table)."""
    ingestion = _ingestion(facts, agent)
    if not ingestion.allowed:
        return Capabilities(ingestion, ingestion)
    return Capabilities(ingestion, _outbound(facts, regions or load_regions()))


def _ingestion(facts: ConnectionFacts, agent: AgentInfo | None) -> Capability:
    if facts.status != "connected":
        return Capability(False, _STATUS_REASONS.get(facts.status, NOT_CONNECTED))
    if not facts.active:
        return Capability(False, INACTIVE)
    if not facts.agent_id:
        return Capability(False, NO_AGENT)
    if agent is None or agent.workspace_id != facts.workspace_id:
        return Capability(False, AGENT_NOT_FOUND)
    if not agent.knowledge_base_id:
        return Capability(False, KB_UNRESOLVED)
    return ALLOWED


def _outbound(facts: ConnectionFacts, regions: Regions) -> Capability:
    region = regions.find(facts.country)
    if region is None:
        return Capability(False, REGION_UNSUPPORTED)
    registration = regions.registration_of(region)
    if registration.never_permitted:
        return Capability(False, REGION_NOT_PERMITTED)
    if registration.permits(facts.registration_status):
        return ALLOWED
    return Capability(
        False, _REGISTRATION_REASONS.get(facts.registration_status, REGISTRATION_REQUIRED)
    )
