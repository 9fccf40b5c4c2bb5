"""The skeleton of a read model with one row per live connection that also depends on the
agent directory (the channels table, the degraded state): load the batch's rows and agents
in one query each, apply connection and directory events in memory, write the changed rows
back in one batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

from psycopg import Cursor

from domain.agent_directory import DirectoryAgent
from domain.operator_decisions import ProjectionSkip
from domain.sms_connections import SmsConnection
from projections.agent_copies import AgentCopy
from projections.base import Projection
from projections.reducers import (
    AgentKey,
    Row,
    agent_keys,
    agents_needed,
    apply_connection_event,
    apply_directory_event,
    connection_ids,
)
from projections.rows import delete_rows, load_rows, upsert_rows


class ConnectionRowsProjection(Projection):
    """Subclasses name their tables and columns and say what a change means for a row."""

    rows_table: ClassVar[str]
    agents_table: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]

    def load(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        self.rows = load_rows(cursor, self.table(self.rows_table), "connection_id",
                              connection_ids(events), agent_keys(events))  # fmt: skip
        self.agents = AgentCopy(self.table(self.agents_table))
        self.agents.load(cursor, agents_needed(events, self.rows))
        self.dirty: set[UUID] = set()
        self.deleted: set[UUID] = set()

    @singledispatchmethod
    def handle(self, event: object) -> None:
        """Other events (claims, registrations, deliveries) change no row."""

    @handle.register
    def _connection(self, event: SmsConnection.Event) -> None:
        row = apply_connection_event(self.rows.get(event.originator_id), event)
        if row is None:
            self.rows.pop(event.originator_id, None)
            self.deleted.add(event.originator_id)
            self.dirty.discard(event.originator_id)
            return
        self.rows[event.originator_id] = row
        self._changed(row, event.timestamp)

    @handle.register
    def _directory(self, event: DirectoryAgent.Event) -> None:
        key, info = apply_directory_event(event)
        self.agents.set(key, info)
        for row in self.rows.values():
            if (row["account_id"], row["agent_id"]) == key:
                self._changed(row, event.timestamp)

    @handle.register
    def _skip(self, event: ProjectionSkip.Decided) -> None:
        if event.projection != self.name or event.event_id is None:
            return
        # An event of this connection was skipped here: its row may be incomplete.
        row = self.rows.get(event.event_id)
        if row is not None:
            row["attention"] = True
            self.dirty.add(row["connection_id"])

    def _changed(self, row: Row, at: datetime) -> None:
        self.changed(row, at)
        self.dirty.add(row["connection_id"])
        self.deleted.discard(row["connection_id"])

    def changed(self, row: Row, at: datetime) -> None:
        """Hook: ``row`` changed at ``at`` (a connection or its agent's event)."""

    def prepared(self, row: Row) -> Row:
        """Hook: the row as it is written (derived columns filled in)."""
        return row

    def agent_of(self, row: Row) -> Any:
        key: AgentKey = (row["account_id"], row["agent_id"])
        return self.agents.get(key)

    def flush(self, cursor: Cursor[Any]) -> None:
        table = self.table(self.rows_table)
        delete_rows(cursor, table, "connection_id", list(self.deleted))
        rows = [self.prepared(self.rows[i]) for i in self.dirty if i in self.rows]
        upsert_rows(cursor, table, "connection_id", self.columns, rows)
        self.agents.flush(cursor)
