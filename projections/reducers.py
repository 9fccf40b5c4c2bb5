"""Shared reducers: how connection and directory events change a projection's rows in
memory. Pure functions of (row, event), so every read model that needs the same facts
derives them the same way, and a rebuild reproduces the rows exactly (times come from the
events, never from the clock). Events are recognised by their classes (``isinstance``,
``functools.singledispatch``), so a renamed event fails the type check instead of silently
leaving a projection behind."""

from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatch
from typing import Any
from uuid import UUID

from domain.agent_directory import AgentInfo, DirectoryAgent
from domain.capabilities import ConnectionFacts
from domain.carriers import badge_entries, carriers_of
from domain.compliance.progress import compliance_progress
from domain.operator_decisions import ProjectionSkip
from domain.sms_connections import SmsConnection

Row = dict[str, Any]
AgentKey = tuple[str, str]  # (account id, agent id)

# The connection events that name the agent (and so may need its directory entry).
_NAMING_AGENT = (
    SmsConnection.NumberRequested,
    SmsConnection.AgentAssigned,
    SmsConnection.WorkspaceChanged,
)


def is_connection_event(event: object) -> bool:
    return isinstance(event, SmsConnection.Event)


def is_directory_event(event: object) -> bool:
    return isinstance(event, DirectoryAgent.Event)


def connection_ids(events: Sequence[Any]) -> list[UUID]:
    """The connections a batch touches, in first-seen order (the skipped event's aggregate
    for a skip decision: it may be a connection whose row needs attention)."""
    found: list[UUID] = []
    for event in events:
        if is_connection_event(event):
            found.append(event.originator_id)
        elif isinstance(event, ProjectionSkip.Decided) and event.event_id is not None:
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
        if isinstance(event, SmsConnection.NumberRequested):
            accounts[event.originator_id] = event.account_id
        if isinstance(event, _NAMING_AGENT) and event.originator_id in accounts:
            keys.append((accounts[event.originator_id], event.agent_id))
    return keys


def apply_connection_event(row: Row | None, event: Any) -> Row | None:
    """The connection's facts after ``event`` (a connection event); None once deleted."""
    if isinstance(event, SmsConnection.NumberRequested):
        row = _requested(event)
    elif row is None:
        msg = f"{type(event).__name__} for a connection this projection has no row of"
        raise LookupError(msg)
    elif isinstance(event, SmsConnection.ConnectionDeleted):
        return None
    else:
        _change(event, row)
    row["version"] = event.originator_version
    row["updated_at"] = event.timestamp
    return row


def _requested(event: SmsConnection.NumberRequested) -> Row:
    return {
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
        "registration_carriers": [],
        "created_at": event.timestamp,
    }


@singledispatch
def _change(event: object, row: Row) -> None:
    """A connection event that changes none of the row's facts (e.g. HostingStarted)."""


@_change.register
def _(_event: SmsConnection.NumberConnected, row: Row) -> None:
    row["status"] = "connected"


@_change.register
def _(event: SmsConnection.ProvisioningFailed, row: Row) -> None:
    row["status"], row["failure_code"] = "failed", event.code


@_change.register
def _(event: SmsConnection.NumberReclaimed, row: Row) -> None:
    row["status"], row["active"], row["reclaim_reason"] = "reclaimed", False, event.reason


@_change.register
def _(event: SmsConnection.AgentAssigned, row: Row) -> None:
    row["agent_id"] = event.agent_id


@_change.register
def _(event: SmsConnection.WorkspaceChanged, row: Row) -> None:
    row["workspace_id"], row["agent_id"] = event.workspace_id, event.agent_id


@_change.register
def _(event: SmsConnection.ActiveChanged, row: Row) -> None:
    row["active"] = event.active


@_change.register
def _(event: SmsConnection.ComplianceUpdated, row: Row) -> None:
    # Only the counts: a read model never holds a compliance value.
    progress = compliance_progress(event.compliance)
    row["compliance_complete"] = progress.complete_sections
    row["compliance_total"] = progress.total_sections


@_change.register
def _(event: SmsConnection.RegistrationStatusChanged, row: Row) -> None:
    row["registration_status"] = event.status


@_change.register
def _(event: SmsConnection.RegistrationSubmitted, row: Row) -> None:
    # Derived from the three levels by the aggregate (one rule), stored on the event.
    row["registration_status"] = event.registration_status
    row["registration_carriers"] = badge_entries(
        "campaign", carriers_of(event.campaign.get("carriers"))
    )


@_change.register
def _(event: SmsConnection.RegistrationLevelChanged, row: Row) -> None:
    row["registration_status"] = event.registration_status
    # Only the carriers' names and statuses (the badge), never their texts.
    kept = [
        e for e in row.get("registration_carriers") or [] if not e.startswith(event.level + ":")
    ]
    row["registration_carriers"] = kept + badge_entries(event.level, carriers_of(event.carriers))


@_change.register
def _(event: SmsConnection.Replaced, row: Row) -> None:
    row["replaced_by"] = event.replacement_id


def apply_directory_event(event: Any) -> tuple[AgentKey, AgentInfo | None]:
    """The agent a directory event is about, and its details (None once removed)."""
    key: AgentKey = (event.account_id, event.agent_id)
    if isinstance(event, DirectoryAgent.Removed):
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
