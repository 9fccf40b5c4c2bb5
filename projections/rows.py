"""Loading and writing a projection's rows in batches (one query each way per batch).

Writing a large batch (a rebuild, a catch-up) is a ``COPY`` into a temporary table shaped
like the target (emptied at each commit), then one ``INSERT … SELECT … ON CONFLICT DO
UPDATE``: the rows cross in one stream instead of one statement each, which is what a
rebuild spends its time on (B2). A small batch (a live worker following the log) keeps the
pipelined statement per row: fewer round trips, which is what its latency is made of (B4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row

from projections.reducers import AgentKey, Row

# From this many rows a batch is written by COPY.
COPY_FROM_ROWS = 64


def load_rows(
    cursor: Cursor[Any],
    table: sql.Identifier,
    key: str,
    ids: Sequence[UUID],
    agents: Sequence[AgentKey] = (),
) -> dict[UUID, Row]:
    """Rows whose ``key`` is in ``ids`` or whose (account_id, agent_id) is in ``agents``."""
    if not ids and not agents:
        return {}
    query = sql.SQL("SELECT * FROM {table} WHERE {key} = ANY(%s)").format(
        table=table, key=sql.Identifier(key)
    )
    params: tuple[Any, ...] = (list(ids),)
    if agents:
        query += sql.SQL(
            " OR (account_id, agent_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        )
        params += ([a[0] for a in agents], [a[1] for a in agents])
    with cursor.connection.cursor(row_factory=dict_row) as rows:
        rows.execute(query, params)
        return {row[key]: row for row in rows}


def upsert_rows(
    cursor: Cursor[Any], table: sql.Identifier, key: str, columns: Sequence[str], rows: list[Row]
) -> None:
    """Insert or replace ``rows`` (only ``columns`` are written; one row per ``key``)."""
    if not rows:
        return
    if len(rows) < COPY_FROM_ROWS:
        _upsert_each(cursor, table, key, columns, rows)
        return
    staging = sql.Identifier("staging_" + table.as_string(cursor).strip('"'))
    # Made in each transaction (and dropped by its commit), so it always has the target's
    # columns as they are now: a migration that adds one while the worker runs is seen.
    cursor.execute(
        sql.SQL(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DROP"
        ).format(staging=staging, table=table)
    )
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    with cursor.copy(
        sql.SQL("COPY {staging} ({columns}) FROM STDIN").format(staging=staging, columns=names)
    ) as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in columns))
    cursor.execute(
        sql.SQL(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} {on_conflict}"
        ).format(
            table=table, columns=names, staging=staging, on_conflict=_on_conflict(key, columns)
        )
    )
    # Emptied now (a caller may flush twice in one transaction); the commit drops it.
    cursor.execute(sql.SQL("DELETE FROM {}").format(staging))


def _upsert_each(
    cursor: Cursor[Any], table: sql.Identifier, key: str, columns: Sequence[str], rows: list[Row]
) -> None:
    statement = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values}) {on_conflict}").format(
        table=table,
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        on_conflict=_on_conflict(key, columns),
    )
    cursor.executemany(statement, [tuple(row[c] for c in columns) for row in rows])


def _on_conflict(key: str, columns: Sequence[str]) -> sql.Composed:
    """``ON CONFLICT (key) DO UPDATE`` of every column but the key."""
    return sql.SQL("ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
        key=sql.Identifier(key),
        updates=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns if c != key
        ),
    )


def delete_rows(cursor: Cursor[Any], table: sql.Identifier, key: str, ids: Sequence[UUID]) -> None:
    if ids:
        cursor.execute(
            sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(table, sql.Identifier(key)),
            (list(ids),),
        )
