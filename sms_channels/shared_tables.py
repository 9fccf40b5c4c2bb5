"""Tables an API process creates on first use (idempotency answers, rate-limit buckets,
export leases), when several processes may first use them at the same moment.

``CREATE TABLE IF NOT EXISTS`` alone is not safe against itself in PostgreSQL: two sessions
that both find the table absent both create it, and the one that commits second fails on the
catalog's unique indexes, as ``UniqueViolation``, ``DuplicateTable`` or ``DuplicateObject``
(all three seen when eight sessions race; the last was a 500 in CI). Under one transaction
advisory lock the second session waits for the first's commit and then finds the table, so
no error class has to be guessed. Callers: ``api.idempotency``, ``api.rate_limits``,
``api.exports``; ``tests/integration/test_shared_tables_pg.py`` races them."""

from __future__ import annotations

import zlib
from typing import Any

from psycopg import sql

# One lock for every such table: creating them is rare (once per process and table).
DDL_LOCK = zlib.crc32(b"sms-channels:create-shared-table")


def create_shared_table(cursor: Any, statement: sql.Composable) -> None:
    """Run ``statement`` (an idempotent ``CREATE ... IF NOT EXISTS``) so that any number of
    processes may run it at once: in its own transaction, after the shared DDL lock."""
    with cursor.connection.transaction():
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        cursor.execute(statement)
