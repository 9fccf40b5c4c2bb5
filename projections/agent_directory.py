"""The agent directory read model: agent → account, workspace, name, knowledge base, as
last reported by the agents topic or the admin endpoint (recorded as DirectoryAgent events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from psycopg import Cursor, sql
from psycopg.rows import dict_row

from projections.agent_copies import AGENT_COLUMNS, AgentCopy
from projections.base import Projection
from projections.facts import Row, agent_keys, apply_directory_event, is_directory_event

DIRECTORY_TABLE = "agent_directory"


class AgentDirectoryProjection(Projection):
    """Directory events → ``agent_directory`` rows (removed agents have none)."""

    name = "agent_directory"
    tables: ClassVar[dict[str, str]] = {DIRECTORY_TABLE: AGENT_COLUMNS}
    indexes = ((DIRECTORY_TABLE, "account_id, workspace_id, agent_id"),)

    def load(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        self.agents = AgentCopy(self.table(DIRECTORY_TABLE))
        self.agents.load(cursor, agent_keys(events))

    def handle(self, event: Any) -> None:
        if is_directory_event(event):
            self.agents.set(*apply_directory_event(event))

    def flush(self, cursor: Cursor[Any]) -> None:
        self.agents.flush(cursor)


def get_agent(cursor: Cursor[Any], account_id: str, agent_id: str) -> Row | None:
    with cursor.connection.cursor(row_factory=dict_row) as rows:
        return rows.execute(
            sql.SQL("SELECT * FROM {} WHERE account_id = %s AND agent_id = %s").format(
                sql.Identifier(DIRECTORY_TABLE)
            ),
            (account_id, agent_id),
        ).fetchone()
