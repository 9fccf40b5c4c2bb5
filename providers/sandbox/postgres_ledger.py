"""The sandbox ledger in two PostgreSQL tables: shared by every process on the database
(API, reconcile worker, ``sms-channels sandbox`` CLI) and kept across restarts."""

from __future__ import annotations

import threading
from typing import LiteralString

from psycopg import sql
from psycopg_pool import ConnectionPool

from domain.providers import (
    HeldNumber,
)
from providers.sandbox.ledger import OrderState, SandboxOrder
from providers.sandbox.registrations import SCHEMA as REGISTRATION_SCHEMA

_SCHEMA: tuple[LiteralString, ...] = (
    """
    CREATE TABLE IF NOT EXISTS sandbox_numbers (
        phone_number text PRIMARY KEY,
        ref text NOT NULL UNIQUE,
        reference text,
        country text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
    )""",
    # Where the number's inbound messages go (INBOUND_SMS_WEBHOOK_URL when it was acquired).
    "ALTER TABLE sandbox_numbers ADD COLUMN IF NOT EXISTS inbound_url text",
    """
    CREATE TABLE IF NOT EXISTS sandbox_hosting_orders (
        ref text PRIMARY KEY,
        phone_number text NOT NULL,
        country text NOT NULL,
        reference text,
        state text NOT NULL,
        number_ref text,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    # At most one open order per number: what makes start_hosting idempotent across
    # processes.
    """
    CREATE UNIQUE INDEX IF NOT EXISTS sandbox_hosting_orders_open
        ON sandbox_hosting_orders (phone_number) WHERE state = 'pending'""",
    # Armed faults (``sms-channels sandbox fail-next``): calls of an operation left to fail.
    """
    CREATE TABLE IF NOT EXISTS sandbox_faults (
        operation text PRIMARY KEY,
        remaining integer NOT NULL
    )""",
)


LEDGER_POOL_TIMEOUT_SECONDS = 5.0


class PostgresLedger:
    """The ledger in two PostgreSQL tables: shared by every process on the database and
    kept across restarts. Uniqueness (one holder per number, one open order per number) is
    enforced by the tables' keys, so concurrent buyers in different processes cannot both
    win either."""

    def __init__(self, conninfo: str, *, max_size: int = 4) -> None:
        self._conninfo = conninfo
        self._max_size = max_size
        self._lock = threading.Lock()
        self._opened: ConnectionPool | None = None
        self._closed = False

    @property
    def _pool(self) -> ConnectionPool:
        """The pool, opened on first use: most processes that build the application (the
        projection workers, the relay) never call the provider, and should not hold
        connections or threads for it."""
        with self._lock:
            if self._closed:
                msg = "the sandbox ledger is closed"
                raise RuntimeError(msg)
            if self._opened is None:
                # Fail fast while the database is down (PoolTimeout → 503 after a few
                # seconds, not a 30 s hang) and never hand out a connection that a server
                # restart broke (checked on checkout).
                self._opened = ConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self._max_size,
                    open=True,
                    name="sandbox-ledger",
                    timeout=LEDGER_POOL_TIMEOUT_SECONDS,
                    check=ConnectionPool.check_connection,
                )
            return self._opened

    @staticmethod
    def create_tables(conninfo: str) -> None:
        """Create the tables (``sms-channels migrate``; not at every start-up, see the
        design notes on concurrent CREATE TABLE)."""
        import psycopg  # noqa: PLC0415 (only the migrate path)

        with psycopg.connect(conninfo, autocommit=True) as connection:
            for statement in (*_SCHEMA, *REGISTRATION_SCHEMA):
                connection.execute(statement)

    def pool(self) -> ConnectionPool:
        """The ledger's pool (the sandbox's registrations table shares it)."""
        return self._pool

    def acquire(self, number: HeldNumber, country: str) -> bool:
        with self._pool.connection() as connection:
            row = connection.execute(
                "INSERT INTO sandbox_numbers (phone_number, ref, reference, country, inbound_url)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (phone_number) DO NOTHING"
                " RETURNING 1",
                (number.phone_number, number.ref, number.reference, country, number.inbound_url),
            ).fetchone()
        return row is not None

    def drop(self, phone_number: str) -> HeldNumber | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                "DELETE FROM sandbox_numbers WHERE phone_number = %s"
                " RETURNING phone_number, ref, reference, inbound_url",
                (phone_number,),
            ).fetchone()
        return HeldNumber(*row) if row else None

    def drop_ref(self, ref: str) -> None:
        with self._pool.connection() as connection:
            connection.execute("DELETE FROM sandbox_numbers WHERE ref = %s", (ref,))

    def holding(self, phone_number: str) -> HeldNumber | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                "SELECT phone_number, ref, reference, inbound_url FROM sandbox_numbers"
                " WHERE phone_number = %s",
                (phone_number,),
            ).fetchone()
        return HeldNumber(*row) if row else None

    def held_among(self, phone_numbers: list[str]) -> set[str]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT phone_number FROM sandbox_numbers WHERE phone_number = ANY(%s)",
                (phone_numbers,),
            ).fetchall()
        return {row[0] for row in rows}

    def held(self) -> list[HeldNumber]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT phone_number, ref, reference, inbound_url FROM sandbox_numbers"
                " ORDER BY phone_number"
            ).fetchall()
        return [HeldNumber(*r) for r in rows]

    def open_order(self, order: SandboxOrder) -> SandboxOrder:
        with self._pool.connection() as connection:
            connection.execute(
                "INSERT INTO sandbox_hosting_orders"
                " (ref, phone_number, country, reference, state)"
                " VALUES (%s, %s, %s, %s, 'pending')"
                " ON CONFLICT (phone_number) WHERE state = 'pending' DO NOTHING",
                (order.ref, order.phone_number, order.country, order.reference),
            )
        pending = self.pending_order(order.phone_number)
        return pending or order

    def order(self, ref: str) -> SandboxOrder | None:
        return self._one_order("ref = %s", ref)

    def pending_order(self, phone_number: str) -> SandboxOrder | None:
        return self._one_order("phone_number = %s AND state = 'pending'", phone_number)

    def _one_order(self, condition: LiteralString, value: str) -> SandboxOrder | None:
        query = sql.SQL(
            "SELECT ref, phone_number, country, reference, state, number_ref, reason"
            " FROM sandbox_hosting_orders WHERE {}"
        ).format(sql.SQL(condition))
        with self._pool.connection() as connection:
            row = connection.execute(query, (value,)).fetchone()
        return SandboxOrder(*row) if row else None

    def finish_order(self, ref: str, state: OrderState, number: HeldNumber | None) -> bool:
        with self._pool.connection() as connection, connection.transaction():
            order = connection.execute(
                "SELECT country FROM sandbox_hosting_orders"
                " WHERE ref = %s AND state = 'pending' FOR UPDATE",
                (ref,),
            ).fetchone()
            if order is None:
                return False
            if number is not None:
                inserted = connection.execute(
                    "INSERT INTO sandbox_numbers"
                    " (phone_number, ref, reference, country, inbound_url)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (phone_number) DO NOTHING"
                    " RETURNING 1",
                    (
                        number.phone_number,
                        number.ref,
                        number.reference,
                        order[0],
                        number.inbound_url,
                    ),
                ).fetchone()
                if inserted is None:
                    return False
            connection.execute(
                "UPDATE sandbox_hosting_orders SET state = %s, number_ref = %s WHERE ref = %s",
                (state, number.ref if number else None, ref),
            )
        return True

    def fail_order(self, ref: str, reason: str) -> bool:
        with self._pool.connection() as connection:
            row = connection.execute(
                "UPDATE sandbox_hosting_orders SET state = 'failed', reason = %s"
                " WHERE ref = %s AND state = 'pending' RETURNING 1",
                (reason, ref),
            ).fetchone()
        return row is not None

    def arm_fault(self, operation: str, times: int) -> None:
        with self._pool.connection() as connection:
            connection.execute(
                "INSERT INTO sandbox_faults (operation, remaining) VALUES (%s, %s)"
                " ON CONFLICT (operation) DO UPDATE SET remaining = excluded.remaining",
                (operation, times),
            )

    def take_fault(self, operation: str) -> bool:
        with self._pool.connection() as connection:
            row = connection.execute(
                "UPDATE sandbox_faults SET remaining = remaining - 1"
                " WHERE operation = %s AND remaining > 0 RETURNING 1",
                (operation,),
            ).fetchone()
        return row is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._opened = self._opened, None
        if pool is not None:
            pool.close()
