"""The tables an API process creates on first use survive several processes' first use at
once (``sms_channels.shared_tables``), on a real PostgreSQL: ``CREATE TABLE IF NOT EXISTS``
alone fails in all but one of eight sessions racing (CI once answered 500 on an export
this way, with ``DuplicateObject``)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql

from api.exports import LEASE_TABLE, ExportLeases
from api.idempotency import IN_FLIGHT_TABLE, TABLE, PostgresResponseStore
from api.rate_limits import TABLE as BUCKETS_TABLE
from api.rate_limits import create_bucket_table
from sms_channels.shared_tables import create_shared_table

SESSIONS = 8


def _race(database_url: str, create: Callable[[Any], None]) -> list[BaseException]:
    """``create`` run by ``SESSIONS`` sessions released together; what each raised."""
    barrier = threading.Barrier(SESSIONS)
    errors: list[BaseException] = []

    def one() -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            cursor = connection.cursor()
            barrier.wait()
            try:
                create(cursor)
            except psycopg.Error as error:
                errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _exists(database_url: str, table: str) -> bool:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def test_sessions_creating_one_table_at_once_all_succeed(database_url: str) -> None:
    for _ in range(20):
        table = f"race_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (holder uuid PRIMARY KEY, account_id text NOT NULL)"
        ).format(sql.Identifier(table))
        assert _race(database_url, lambda cursor, s=statement: create_shared_table(cursor, s)) == []
        assert _exists(database_url, table)


@pytest.mark.parametrize(
    ("create", "tables"),
    [
        pytest.param(
            lambda cursor: PostgresResponseStore(None)._tables(cursor),  # type: ignore[arg-type]
            [TABLE, IN_FLIGHT_TABLE],
            id="idempotency",
        ),
        pytest.param(create_bucket_table, [BUCKETS_TABLE], id="rate-limit buckets"),
        pytest.param(
            lambda cursor: ExportLeases(None)._table(cursor),  # type: ignore[arg-type]
            [LEASE_TABLE],
            id="export leases",
        ),
    ],
)
def test_each_first_use_table_is_created_by_racing_processes_without_an_error(
    isolated_database_url: str, create: Callable[[Any], None], tables: list[str]
) -> None:
    # A new store per session, as each API process has its own.
    assert _race(isolated_database_url, create) == []
    assert all(_exists(isolated_database_url, table) for table in tables)
