"""The agent directory read model: agent → account, workspace, name, knowledge base, as
last reported by the agents topic or the admin endpoint (recorded as DirectoryAgent events).
It serves ``GET /directory/agents`` (the wizard's Agent selector and knowledge-base preview),
keyset-paginated on (name, agent id): an agent present during the whole scan is listed once.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any, ClassVar

import orjson
from psycopg import Cursor, sql
from psycopg.rows import dict_row

from domain.agent_directory import DirectoryAgent
from projections.agent_copies import AGENT_COLUMNS, AgentCopy
from projections.base import Projection
from projections.reducers import Row, agent_keys, apply_directory_event

DIRECTORY_TABLE = "agent_directory"


class AgentDirectoryProjection(Projection):
    """Directory events → ``agent_directory`` rows (removed agents have none)."""

    name = "agent_directory"
    tables: ClassVar[dict[str, str]] = {DIRECTORY_TABLE: AGENT_COLUMNS}
    indexes = ((DIRECTORY_TABLE, "account_id, workspace_id, agent_id"),)

    def load(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        self.agents = AgentCopy(self.table(DIRECTORY_TABLE))
        self.agents.load(cursor, agent_keys(events))

    @singledispatchmethod
    def handle(self, event: object) -> None:
        """Other events change no agent."""

    @handle.register
    def _directory(self, event: DirectoryAgent.Event) -> None:
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


def list_agents(
    cursor: Cursor[Any],
    account_id: str,
    workspace_id: str | None,
    limit: int,
    after: str | None,
) -> tuple[list[Row], str | None]:
    """One page of the account's agents (of one workspace if given), by name then id, and
    the cursor of the next page (None on the last). ValueError for a malformed cursor."""
    conditions = [sql.SQL("account_id = %(account)s")]
    params: dict[str, Any] = {"account": account_id, "limit": limit + 1}
    if workspace_id is not None:
        conditions.append(sql.SQL("workspace_id = %(workspace)s"))
        params["workspace"] = workspace_id
    if after is not None:
        name, agent_id = _decode(after)
        conditions.append(sql.SQL("(name, agent_id) > (%(name)s, %(agent)s)"))
        params.update(name=name, agent=agent_id)
    statement = sql.SQL("SELECT * FROM {} WHERE {} ORDER BY name, agent_id LIMIT %(limit)s").format(
        sql.Identifier(DIRECTORY_TABLE), sql.SQL(" AND ").join(conditions)
    )
    with cursor.connection.cursor(row_factory=dict_row) as rows:
        found = rows.execute(statement, params).fetchall()
    page = found[:limit]
    more = len(found) > limit
    return page, _encode(page[-1]) if more else None


def _encode(row: Row) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([row["name"], row["agent_id"]])).decode()


def _decode(value: str) -> tuple[str, str]:
    name, agent_id = orjson.loads(base64.urlsafe_b64decode(value))
    if not isinstance(name, str) or not isinstance(agent_id, str) or "\x00" in name + agent_id:
        raise ValueError(value)  # (PostgreSQL text holds no NUL: refused here, not as a 500)
    return name, agent_id
