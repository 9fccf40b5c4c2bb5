"""A projection's own copy of the agent directory (one small table per projection that
needs agents), so each read model rebuilds from the event log alone, independent of the
others."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple
from typing import Any

from psycopg import Cursor, sql

from domain.agent_directory import AgentInfo
from projections.reducers import AgentKey

AGENT_COLUMNS = (
    "account_id text NOT NULL, agent_id text NOT NULL, workspace_id text NOT NULL,"
    " workspace_name text NOT NULL, name text NOT NULL, kb_id text, kb_name text,"
    " PRIMARY KEY (account_id, agent_id)"
)


class AgentCopy:
    """The agents a batch needs, read in one query and written back in one batch."""

    def __init__(self, table: sql.Identifier) -> None:
        self.table = table
        self.known: dict[AgentKey, AgentInfo | None] = {}
        self.changed: set[AgentKey] = set()

    def load(self, cursor: Cursor[Any], keys: Iterable[AgentKey]) -> None:
        wanted = [k for k in dict.fromkeys(keys) if k not in self.known]
        if not wanted:
            return
        query = sql.SQL(
            "SELECT a.account_id, a.agent_id, workspace_id, workspace_name, name, kb_id,"
            " kb_name FROM {} a JOIN unnest(%s::text[], %s::text[]) AS k(account_id, agent_id)"
            " ON a.account_id = k.account_id AND a.agent_id = k.agent_id"
        ).format(self.table)
        self.known.update(dict.fromkeys(wanted))
        for account, agent, *info in cursor.execute(
            query, ([k[0] for k in wanted], [k[1] for k in wanted])
        ):
            self.known[(account, agent)] = AgentInfo(*info)

    def get(self, key: AgentKey) -> AgentInfo | None:
        return self.known.get(key)

    def set(self, key: AgentKey, info: AgentInfo | None) -> None:
        self.known[key] = info
        self.changed.add(key)

    def flush(self, cursor: Cursor[Any]) -> None:
        removed = [k for k in self.changed if self.known[k] is None]
        kept = [(k, self.known[k]) for k in self.changed if self.known[k] is not None]
        if removed:
            cursor.execute(
                sql.SQL(
                    "DELETE FROM {} a USING unnest(%s::text[], %s::text[]) AS k(account_id,"
                    " agent_id) WHERE a.account_id = k.account_id AND a.agent_id = k.agent_id"
                ).format(self.table),
                ([k[0] for k in removed], [k[1] for k in removed]),
            )
        if kept:
            cursor.executemany(
                sql.SQL(
                    "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (account_id, agent_id) DO UPDATE SET"
                    " workspace_id = EXCLUDED.workspace_id,"
                    " workspace_name = EXCLUDED.workspace_name, name = EXCLUDED.name,"
                    " kb_id = EXCLUDED.kb_id, kb_name = EXCLUDED.kb_name"
                ).format(self.table),
                [(*key, *astuple(info)) for key, info in kept if info is not None],
            )
        self.changed.clear()
