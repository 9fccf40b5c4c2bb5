"""Shared reducers: how connection and directory events change a projection's rows in
memory. Pure functions of (row, event), so every read model that needs the same facts
derives them the same way, and a rebuild reproduces the rows exactly (times come from the
events, never from the clock)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.agent_directory import AgentInfo
from domain.capabilities import ConnectionFacts
from domain.compliance_progress import compliance_progress

Row = dict[str, Any]
AgentKey = tuple[str, str]  # (account id, agent id)

CONNECTION_TOPIC_PREFIX = "SmsConnection."
DIRECTORY_TOPIC_PREFIX = "DirectoryAgent."
SKIP_DECISION = "ProjectionSkip.Decided"


def event_kind(event: Any) -> str:
    """``SmsConnection.NumberRequested`` → ``SmsConnection.NumberRequested`` (qualified
    name of the nested event class, stable across modules)."""
    return type(event).__qualname__


def is_connection_event(event: Any) -> bool:
    return event_kind(event).startswith(CONNECTION_TOPIC_PREFIX)


def is_directory_event(event: Any) -> bool:
    return event_kind(event).startswith(DIRECTORY_TOPIC_PREFIX)


def is_skip_decision(event: Any) -> bool:
    """An operator's decision that a projection goes on without one event."""
    return event_kind(event) == SKIP_DECISION


def connection_ids(events: Sequence[Any]) -> list[UUID]:
    """The connections a batch touches, in first-seen order (the skipped event's aggregate
    for a skip decision: it may be a connection whose row needs attention)."""
    found: list[UUID] = []
    for event in events:
        if is_connection_event(event):
            found.append(event.originator_id)
        elif is_skip_decision(event) and event.event_id is not None:
            found.append(event.event_id)
    return list(dict.fromkeys(found))


def agent_keys(events: Sequence[Any]) -> list[AgentKey]:
    """The directory agents a batch changes."""
    return list(dict.fromkeys((e.account_id, e.agent_id) for e in events if is_directory_event(e)))


def agents_needed(events: Sequence[Any], rows: dict[UUID, Row]) -> list[AgentKey]:
    """Every agent whose directory entry the batch may consult: the batch's directory
    events, the loaded rows' agents, and the agents the batch's connection events name."""
    accounts = {cid: row["account_id"] for cid, row in rows.items()}
    keys = [*agent_keys(events), *((r["account_id"], r["agent_id"]) for r in rows.values())]
    for event in events:
        if not is_connection_event(event):
            continue
        if hasattr(event, "account_id"):
            accounts[event.originator_id] = event.account_id
        if hasattr(event, "agent_id") and event.originator_id in accounts:
            keys.append((accounts[event.originator_id], event.agent_id))
    return keys


def apply_connection_event(row: Row | None, event: Any) -> Row | None:
    """The connection's facts after ``event``; None once it is deleted."""
    name = event_kind(event).removeprefix(CONNECTION_TOPIC_PREFIX)
    if name == "NumberRequested":
        row = {
            "connection_id": event.originator_id,
            "request_id": event.request_id,
            "account_id": event.account_id,
            "workspace_id": event.workspace_id,
            "agent_id": event.agent_id,
            "phone_number": event.phone_number,
            "country": event.country,
            "area_code": event.area_code,
            "mode": event.mode,
            "status": "requested",
            "active": False,
            "registration_status": "not_submitted",
            "failure_code": None,
            "reclaim_reason": None,
            "replaced_by": None,
            "compliance_complete": 0,
            "compliance_total": compliance_progress(None).total_sections,
            "attention": False,
            "created_at": event.timestamp,
        }
    elif row is None:
        msg = f"{name} for a connection this projection has no row of"
        raise LookupError(msg)
    elif name == "ConnectionDeleted":
        return None
    else:
        _apply_change(row, name, event)
    row["version"] = event.originator_version
    row["updated_at"] = event.timestamp
    return row


def _apply_change(row: Row, name: str, event: Any) -> None:
    if name == "NumberConnected":
        row["status"] = "connected"
    elif name == "ProvisioningFailed":
        row["status"], row["failure_code"] = "failed", event.code
    elif name == "NumberReclaimed":
        row["status"], row["active"], row["reclaim_reason"] = "reclaimed", False, event.reason
    elif name == "AgentAssigned":
        row["agent_id"] = event.agent_id
    elif name == "WorkspaceChanged":
        row["workspace_id"], row["agent_id"] = event.workspace_id, event.agent_id
    elif name == "ActiveChanged":
        row["active"] = event.active
    elif name == "ComplianceUpdated":
        # Only the counts: a read model never holds a compliance value.
        progress = compliance_progress(event.compliance)
        row["compliance_complete"] = progress.complete_sections
        row["compliance_total"] = progress.total_sections
    elif name == "RegistrationStatusChanged":
        row["registration_status"] = event.status
    elif name in ("RegistrationSubmitted", "RegistrationLevelChanged"):
        # Derived from the three levels by the aggregate (one rule), stored on the event.
        row["registration_status"] = event.registration_status
    elif name == "Replaced":
        row["replaced_by"] = event.replacement_id


def apply_directory_event(event: Any) -> tuple[AgentKey, AgentInfo | None]:
    """The agent a directory event is about, and its details (None once removed)."""
    key: AgentKey = (event.account_id, event.agent_id)
    if event_kind(event) == DIRECTORY_TOPIC_PREFIX + "Removed":
        return key, None
    info = AgentInfo(
        workspace_id=event.workspace_id,
        workspace_name=event.workspace_name,
        name=event.name,
        knowledge_base_id=event.knowledge_base_id,
        knowledge_base_name=event.knowledge_base_name,
    )
    return key, info


def facts_of(row: Row) -> ConnectionFacts:
    """What the capability rule reads of a projection row."""
    return ConnectionFacts(
        status=row["status"],
        active=row["active"],
        workspace_id=row["workspace_id"],
        agent_id=row["agent_id"],
        country=row["country"],
        registration_status=row["registration_status"],
        replaced=row.get("replaced_by") is not None,
    )
