"""Degraded state: why a connection cannot serve, and since when.

Reasons: ``no_agent``, ``agent_not_found`` (the agent is not in the directory for the
connection's workspace), ``kb_unresolved`` (the agent has no knowledge base),
``number_reclaimed``, ``provisioning_failed``. They change with connection events *and*
with directory events (an agent deleted, its knowledge base removed), so the projection
keeps its own copy of the agents it needs. ``since`` is the time of the event that made
the connection degraded (kept while it stays degraded), so a rebuild gives the same value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from psycopg import Cursor, sql

from domain.agent_directory import AgentInfo
from projections.agent_copies import AGENT_COLUMNS
from projections.connection_rows import ConnectionRowsProjection
from projections.facts import (
    Row,
)

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


class DegradedStateProjection(ConnectionRowsProjection):
    """Connection and directory events → ``sms_degraded_state`` rows (one per live
    connection; deleted connections have none)."""

    name = "degraded_state"
    rows_table = STATE_TABLE
    agents_table = AGENTS_TABLE
    columns = COLUMNS
    tables: ClassVar[dict[str, str]] = {
        STATE_TABLE: "connection_id uuid PRIMARY KEY, account_id text NOT NULL,"
        " workspace_id text NOT NULL, agent_id text NOT NULL, status text NOT NULL,"
        " reasons text[] NOT NULL, since timestamptz, updated_at timestamptz NOT NULL",
        AGENTS_TABLE: AGENT_COLUMNS,
    }
    indexes = ((STATE_TABLE, "account_id, agent_id"),)

    def changed(self, row: Row, at: datetime) -> None:
        reasons = degraded_reasons(row, self.agent_of(row))
        if not reasons:
            row["since"] = None
        elif not row.get("reasons"):
            row["since"] = at
        row["reasons"] = reasons


def degraded_since(cursor: Cursor[Any], account_id: str, connection_id: UUID) -> Row | None:
    """The degraded state of one connection: ``{"reasons": [...], "since": ...}``."""
    found = cursor.execute(
        sql.SQL(
            "SELECT reasons, since FROM {} WHERE account_id = %s AND connection_id = %s"
        ).format(sql.Identifier(STATE_TABLE)),
        (account_id, connection_id),
    ).fetchone()
    return None if found is None else {"reasons": found[0], "since": found[1]}
