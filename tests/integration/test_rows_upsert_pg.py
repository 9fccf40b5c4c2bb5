"""A projection's rows are written the same way whatever the batch's size: a small batch by
a statement per row, a large one by COPY into a staging table (``projections.rows``). For
random batches around the threshold, with keys that exist already and keys that do not,
both leave exactly the rows a plain dict of the last write per key says, value for value
(uuid, text, NULLs, arrays, timestamps, booleans), and two flushes in one transaction too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from projections.rows import COPY_FROM_ROWS, upsert_rows

COLUMNS = ("id", "name", "tags", "version", "at", "flag")
TABLE = sql.Identifier("rows_upsert_check")
KEYS = [uuid.UUID(int=n) for n in range(3 * COPY_FROM_ROWS)]

rows = st.fixed_dictionaries(
    {
        "id": st.sampled_from(KEYS),
        "name": st.none() | st.text(max_size=8).filter(lambda t: "\x00" not in t),
        "tags": st.lists(st.text(min_size=1, max_size=5).filter(lambda t: "\x00" not in t)),
        "version": st.integers(0, 2**31 - 1),
        "at": st.integers(0, 10**9).map(
            lambda s: datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
        ),
        "flag": st.none() | st.booleans(),
    }
)
batch_sizes = st.sampled_from([1, COPY_FROM_ROWS - 1, COPY_FROM_ROWS, 2 * COPY_FROM_ROWS])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(batch_sizes, st.lists(rows, min_size=1, max_size=1)), min_size=1, max_size=3
    ),
    st.randoms(),
)
def test_small_and_large_batches_leave_the_same_rows(
    database_url: str, batches: list[tuple[int, list[dict[str, Any]]]], random: Any
) -> None:
    expected: dict[uuid.UUID, dict[str, Any]] = {}
    with psycopg.connect(database_url) as connection:
        cursor = connection.cursor()
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(TABLE))
        cursor.execute(
            sql.SQL(
                "CREATE TABLE {} (id uuid PRIMARY KEY, name text, tags text[] NOT NULL,"
                " version int NOT NULL, at timestamptz NOT NULL, flag boolean)"
            ).format(TABLE)
        )
        connection.commit()
        for size, (template,) in batches:
            batch: dict[uuid.UUID, dict[str, Any]] = {}
            for key in random.sample(KEYS, size):
                batch[key] = {**template, "id": key, "version": random.randrange(1000)}
            with connection.transaction():
                first = list(batch.values())
                again = [{**row, "version": row["version"] + 1} for row in first]
                upsert_rows(cursor, TABLE, "id", COLUMNS, first)
                upsert_rows(cursor, TABLE, "id", COLUMNS, again)  # a second flush, same size
            expected.update({row["id"]: row for row in again})
        stored = cursor.execute(
            sql.SQL("SELECT id, name, tags, version, at, flag FROM {}").format(TABLE)
        ).fetchall()
        cursor.execute(sql.SQL("DROP TABLE {}").format(TABLE))
        connection.commit()
    assert {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in stored} == expected


def test_a_column_added_while_the_session_stays_open_is_written_by_the_next_large_flush(
    database_url: str,
) -> None:
    table = sql.Identifier("rows_upsert_migrated")
    keys = KEYS[:COPY_FROM_ROWS]
    with psycopg.connect(database_url) as connection:
        cursor = connection.cursor()
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        cursor.execute(sql.SQL("CREATE TABLE {} (id uuid PRIMARY KEY, name text)").format(table))
        connection.commit()
        with connection.transaction():
            upsert_rows(cursor, table, "id", ("id", "name"), [{"id": k, "name": "a"} for k in keys])
        cursor.execute(sql.SQL("ALTER TABLE {} ADD COLUMN note text").format(table))
        connection.commit()
        with connection.transaction():
            upsert_rows(
                cursor,
                table,
                "id",
                ("id", "name", "note"),
                [{"id": k, "name": "b", "note": "new"} for k in keys],
            )
        stored = cursor.execute(
            sql.SQL("SELECT DISTINCT name, note FROM {}").format(table)
        ).fetchall()
        cursor.execute(sql.SQL("DROP TABLE {}").format(table))
        connection.commit()
    assert stored == [("b", "new")]
