"""Degraded state: why a connection cannot serve, and since when.

Reasons: ``no_agent``, ``agent_not_found`` (the agent is not in the directory for the
connection's workspace), ``kb_unresolved`` (the agent has no knowledge base),
``number_reclaimed``, ``provisioning_failed``. They change with connection events *and*
with directory events (an agent deleted, its knowledge base removed), so the projection
keeps its own copy of the agents it needs. ``since`` is the time of the event that made
the connection degraded (kept while it stays degraded), so a rebuild gives the same value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from psycopg import Cursor, sql

from domain.agent_directory import AgentInfo
from projections.agent_copies import AGENT_COLUMNS, AgentCopy
from projections.base import Projection
from projections.facts import (
    Row,
    agent_keys,
    agents_needed,
    apply_connection_event,
    apply_directory_event,
    connection_ids,
    is_connection_event,
    is_directory_event,
)
from projections.rows import delete_rows, load_rows, upsert_rows

STATE_TABLE = "sms_degraded_state"
AGENTS_TABLE = "sms_degraded_agents"
COLUMNS = (
    "connection_id",
    "account_id",
    "workspace_id",
    "agent_id",
    "status",
    "reasons",
    "since",
    "updated_at",
)


def degraded_reasons(row: Row, agent: AgentInfo | None) -> list[str]:
    """Why the connection described by ``row`` cannot serve, given its agent's entry."""
    reasons: list[str] = []
    if row["status"] == "reclaimed":
        reasons.append("number_reclaimed")
    if row["status"] == "failed":
        reasons.append("provisioning_failed")
    if not row["agent_id"]:
        reasons.append("no_agent")
    elif agent is None or agent.workspace_id != row["workspace_id"]:
        reasons.append("agent_not_found")
    elif not agent.knowledge_base_id:
        reasons.append("kb_unresolved")
    return reasons


class DegradedStateProjection(Projection):
    """Connection and directory events → ``sms_degraded_state`` rows (one per live
    connection; deleted connections have none)."""

    name = "degraded_state"
    tables: ClassVar[dict[str, str]] = {
        STATE_TABLE: "connection_id uuid PRIMARY KEY, account_id text NOT NULL,"
        " workspace_id text NOT NULL, agent_id text NOT NULL, status text NOT NULL,"
        " reasons text[] NOT NULL, since timestamptz, updated_at timestamptz NOT NULL",
        AGENTS_TABLE: AGENT_COLUMNS,
    }
    indexes = ((STATE_TABLE, "account_id, agent_id"),)

    def load(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        changed_agents = agent_keys(events)
        self.rows = load_rows(
            cursor, self.table(STATE_TABLE), "connection_id", connection_ids(events), changed_agents
        )
        self.agents = AgentCopy(self.table(AGENTS_TABLE))
        self.agents.load(cursor, agents_needed(events, self.rows))
        self.dirty: set[UUID] = set()
        self.deleted: set[UUID] = set()

    def handle(self, event: Any) -> None:
        if is_connection_event(event):
            row = apply_connection_event(self.rows.get(event.originator_id), event)
            if row is None:
                self.rows.pop(event.originator_id, None)
                self.deleted.add(event.originator_id)
                return
            self.rows[event.originator_id] = row
            self._recompute(row, event.timestamp)
        elif is_directory_event(event):
            key, info = apply_directory_event(event)
            self.agents.set(key, info)
            for row in self.rows.values():
                if (row["account_id"], row["agent_id"]) == key:
                    self._recompute(row, event.timestamp)

    def _recompute(self, row: Row, at: datetime) -> None:
        reasons = degraded_reasons(row, self.agents.get((row["account_id"], row["agent_id"])))
        if not reasons:
            row["since"] = None
        elif not row.get("reasons"):
            row["since"] = at
        row["reasons"] = reasons
        self.dirty.add(row["connection_id"])
        self.deleted.discard(row["connection_id"])

    def flush(self, cursor: Cursor[Any]) -> None:
        delete_rows(cursor, self.table(STATE_TABLE), "connection_id", list(self.deleted))
        upsert_rows(
            cursor,
            self.table(STATE_TABLE),
            "connection_id",
            COLUMNS,
            [self.rows[i] for i in self.dirty if i in self.rows],
        )
        self.agents.flush(cursor)


def degraded_since(cursor: Cursor[Any], account_id: str, connection_id: UUID) -> Row | None:
    """The degraded state of one connection: ``{"reasons": [...], "since": ...}``."""
    found = cursor.execute(
        sql.SQL(
            "SELECT reasons, since FROM {} WHERE account_id = %s AND connection_id = %s"
        ).format(sql.Identifier(STATE_TABLE)),
        (account_id, connection_id),
    ).fetchone()
    return None if found is None else {"reasons": found[0], "since": found[1]}
