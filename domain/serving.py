"""Can this connection serve? The one rule that decides, for a connection and its agent's
directory entry, the degraded reasons, the effective capabilities, the row actions and the
names the channels UI shows.

The channels table (at projection time), the single connection and every command answer
call ``assess``: they never disagree about a connection. ``degraded_since`` says when the
current degraded spell began, from the previous reasons and the time of the fact that
changed them, so a projection replaying the log and an answer made from the write model
date a spell the same way.

Degraded reasons, in this order: ``number_reclaimed`` / ``provisioning_failed`` (the
number), then one of ``no_agent``, ``agent_not_found`` (not in the directory for the
connection's workspace), ``kb_unresolved`` (the agent has no knowledge base).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from domain.agent_directory import AgentInfo
from domain.capabilities import (
    AGENT_NOT_FOUND,
    KB_UNRESOLVED,
    NO_AGENT,
    NUMBER_RECLAIMED,
    PROVISIONING_FAILED,
    Capabilities,
    ConnectionFacts,
    effective_capabilities,
)
from domain.regions import Regions
from domain.sms_connections import SmsConnection

DEGRADED_REASONS: Final = (
    NUMBER_RECLAIMED,
    PROVISIONING_FAILED,
    NO_AGENT,
    AGENT_NOT_FOUND,
    KB_UNRESOLVED,
)
# Row actions of the channels UI.
EDIT: Final = "edit"
DELETE: Final = "delete"
ASSIGN_IN_AGENTS: Final = "assignInAgents"  # no usable agent is linked: fix it in Agents
REPLACE_NUMBER: Final = "replaceNumber"  # the number is gone: connect another in its place
ACTIONS: Final = (EDIT, DELETE, ASSIGN_IN_AGENTS, REPLACE_NUMBER)

_STATUS_REASONS: Final = {"reclaimed": NUMBER_RECLAIMED, "failed": PROVISIONING_FAILED}
_REPLACEABLE: Final = frozenset(_STATUS_REASONS)


@dataclass(frozen=True)
class Names:
    """What the directory says about the connection's agent, when it is an agent of the
    connection's workspace (all None otherwise: a name from another workspace is not shown)."""

    workspace_name: str | None = None
    agent_name: str | None = None
    knowledge_base_id: str | None = None
    knowledge_base_name: str | None = None


@dataclass(frozen=True)
class Serving:
    """Everything the rule decides about one connection."""

    degraded_reasons: tuple[str, ...]
    capabilities: Capabilities
    actions: tuple[str, ...]
    names: Names

    @property
    def is_degraded(self) -> bool:
        return bool(self.degraded_reasons)


def assess(
    facts: ConnectionFacts, agent: AgentInfo | None, regions: Regions | None = None
) -> Serving:
    """The rule: ``facts`` of a connection whose agent's directory entry is ``agent``
    (None: unknown or deleted), under ``regions`` (default: the packaged table)."""
    in_workspace = agent if agent is not None and agent.workspace_id == facts.workspace_id else None
    reasons = _degraded(facts, in_workspace)
    return Serving(
        degraded_reasons=reasons,
        capabilities=effective_capabilities(facts, agent, regions),
        actions=_actions(facts, reasons),
        names=_names(in_workspace),
    )


def degraded_since(
    previous_reasons: tuple[str, ...] | list[str] | None,
    previous_since: datetime | None,
    reasons: tuple[str, ...] | list[str],
    at: datetime,
) -> datetime | None:
    """When the current degraded spell began: None when not degraded; the previous start
    while it stays degraded (whatever the reasons become); ``at`` (the time of the fact that
    made it degraded) when it was not degraded before, or its start is unknown."""
    if not reasons:
        return None
    if previous_reasons and previous_since is not None:
        return previous_since
    return at


@dataclass(frozen=True)
class Spell:
    """The degraded spell a read model recorded for a connection (as of its position)."""

    reasons: tuple[str, ...]
    since: datetime | None


def connection_since(
    connection: SmsConnection, reasons: tuple[str, ...], recorded: Spell | None
) -> datetime | None:
    """``degraded_since`` for an answer made from the write model: continue the spell the
    channels table ``recorded`` (exact once it has read the connection's last event); with
    no row yet, the spell began no earlier than the connection, and most often with it."""
    if recorded is None:
        return degraded_since((), None, reasons, connection.created_on)
    return degraded_since(recorded.reasons, recorded.since, reasons, connection.modified_on)


def facts_of_connection(connection: SmsConnection) -> ConnectionFacts:
    """What the rule reads of the write model."""
    return ConnectionFacts(
        status=connection.status,
        active=connection.active,
        workspace_id=connection.workspace_id,
        agent_id=connection.agent_id,
        country=connection.country,
        registration_status=connection.registration_status,
        replaced=connection.replaced_by is not None,
    )


def _degraded(facts: ConnectionFacts, in_workspace: AgentInfo | None) -> tuple[str, ...]:
    reasons = [_STATUS_REASONS[facts.status]] if facts.status in _STATUS_REASONS else []
    if not facts.agent_id:
        reasons.append(NO_AGENT)
    elif in_workspace is None:
        reasons.append(AGENT_NOT_FOUND)
    elif not in_workspace.knowledge_base_id:
        reasons.append(KB_UNRESOLVED)
    return tuple(reasons)


def _actions(facts: ConnectionFacts, reasons: tuple[str, ...]) -> tuple[str, ...]:
    actions = [EDIT, DELETE]
    if NO_AGENT in reasons or AGENT_NOT_FOUND in reasons:
        actions.append(ASSIGN_IN_AGENTS)
    if facts.status in _REPLACEABLE and not facts.replaced:
        actions.append(REPLACE_NUMBER)
    return tuple(actions)


def _names(agent: AgentInfo | None) -> Names:
    if agent is None:
        return Names()
    return Names(
        agent.workspace_name, agent.name, agent.knowledge_base_id, agent.knowledge_base_name
    )
