"""File exports (the audit trail's ``format=ndjson|csv``) that no reader can use to starve the
service: a bounded number at once, per account and overall (429 problem+json with
``Retry-After`` beyond), each cut off when its client stops reading for
``send_timeout_seconds`` or when it runs past ``max_seconds``.

The rows are read in keyset chunks, each on a connection of the exports' own small pool
held only for that chunk's statement (``ReadModels.export_cursor``): a stalled download holds
no database connection and no transaction, only its slot here.

The per-account bound holds across API replicas: with a database, each running export also
holds a lease row in PostgreSQL (``ExportLeases``, on the control pool), renewed while it
streams and deleted when it ends; a replica killed mid-export leaves its leases to expire
after ``LEASE_SECONDS``. The overall bound (``AUDIT_EXPORTS_MAX``) protects one process's
threads and exports pool, so it stays per process."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import anyio
import psycopg
import structlog
from psycopg import sql
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from api.problems import ProblemError
from sms_channels.shared_tables import create_shared_table

if TYPE_CHECKING:
    from api.query_pool import ReadModels

log = structlog.get_logger("api.exports")

# An export refused for lack of a slot is worth retrying after this long.
EXPORT_RETRY_AFTER_SECONDS = 30
# A running export's lease lasts this long unless renewed (every third of it while the
# export streams): how long a killed replica's exports keep their account's slots.
LEASE_SECONDS = 60.0
LEASE_TABLE = "http_export_leases"
_CREATE_LEASES = (
    "CREATE TABLE IF NOT EXISTS {} (holder uuid PRIMARY KEY, account_id text NOT NULL,"
    " lease_until timestamptz NOT NULL)"
)


class ExportLeases:
    """Per-account export slots shared by every API process: a lease row per running export.
    Taking one serialises on the account (a transaction advisory lock), so two replicas
    cannot both take an account's last slot."""

    def __init__(self, read_models: ReadModels, lease_seconds: float = LEASE_SECONDS) -> None:
        self.read_models = read_models
        self.lease_seconds = lease_seconds
        self._created = False

    def take(self, account_id: str, per_account: int) -> UUID | None:
        """A lease for ``account_id`` (its holder id) if it holds fewer than ``per_account``
        live ones; None otherwise."""
        holder = uuid4()
        with self.read_models.control_cursor() as cursor:
            table = self._table(cursor)  # its own transaction (sms_channels.shared_tables)
            with cursor.connection.transaction():
                taken = self._take_locked(cursor, table, account_id, per_account, holder)
        return holder if taken else None

    def _take_locked(
        self, cursor: Any, table: sql.Identifier, account_id: str, per_account: int, holder: UUID
    ) -> bool:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("export:" + account_id,))
        cursor.execute(
            sql.SQL("DELETE FROM {} WHERE account_id = %s AND lease_until < now()").format(table),
            (account_id,),
        )
        row = cursor.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE account_id = %s").format(table), (account_id,)
        ).fetchone()
        if row is None or int(row[0]) >= per_account:
            return False
        cursor.execute(
            sql.SQL(
                "INSERT INTO {} (holder, account_id, lease_until)"
                " VALUES (%s, %s, now() + make_interval(secs => %s))"
            ).format(table),
            (holder, account_id, self.lease_seconds),
        )
        return True

    def renew(self, holder: UUID) -> None:
        with self.read_models.control_cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "UPDATE {} SET lease_until = now() + make_interval(secs => %s)"
                    " WHERE holder = %s"
                ).format(self._table(cursor)),
                (self.lease_seconds, holder),
            )

    def release(self, holder: UUID) -> None:
        with self.read_models.control_cursor() as cursor:
            cursor.execute(
                sql.SQL("DELETE FROM {} WHERE holder = %s").format(self._table(cursor)), (holder,)
            )

    def _table(self, cursor: Any) -> sql.Identifier:
        if not self._created:
            create_shared_table(cursor, sql.SQL(_CREATE_LEASES).format(sql.Identifier(LEASE_TABLE)))
            self._created = True
        return sql.Identifier(LEASE_TABLE)


class ExportSlots:
    """How many exports run at once: at most ``per_account`` of one account and ``total``
    in this process (``per_account`` across every process when ``leases`` are given).
    Thread-safe; ``take`` answers 429 when either bound is reached."""

    def __init__(self, per_account: int, total: int, leases: ExportLeases | None = None) -> None:
        self.per_account = per_account
        self.total = total
        self.leases = leases
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def running(self) -> int:
        with self._lock:
            return sum(self._running.values())

    def take(self, account_id: str) -> UUID | None:
        """Hold one slot for ``account_id`` (give it back with ``release``): the shared
        lease's holder id (None without leases); ProblemError 429 ``too_many_exports`` with
        ``Retry-After`` when none is free."""
        with self._lock:
            mine = self._running[account_id]
            free = mine < self.per_account and sum(self._running.values()) < self.total
            if free:
                self._running[account_id] = mine + 1
        if free and self.leases is None:
            return None
        if free and self.leases is not None:
            try:
                holder = self.leases.take(account_id, self.per_account)
            except BaseException:
                self._give_back(account_id)
                raise
            if holder is not None:
                return holder
            self._give_back(account_id)
            mine = self.per_account  # the account's slots are taken on other replicas
        raise self._refusal("this account" if mine >= self.per_account else "the service")

    @staticmethod
    def _refusal(whose: str) -> ProblemError:
        return ProblemError(
            429,
            "too_many_exports",
            "Too many exports",
            f"Too many exports are running for {whose}; retry after "
            f"{EXPORT_RETRY_AFTER_SECONDS} s, or page through the JSON answer.",
            headers={"Retry-After": str(EXPORT_RETRY_AFTER_SECONDS)},
        )

    def renew(self, holder: UUID | None) -> None:
        """Keep a running export's shared lease (nothing without leases)."""
        if self.leases is not None and holder is not None:
            self.leases.renew(holder)

    def release(self, account_id: str, holder: UUID | None = None) -> None:
        self._give_back(account_id)
        if self.leases is not None and holder is not None:
            try:
                self.leases.release(holder)
            except (psycopg.Error, OSError):  # the lease expires on its own
                log.warning("export_lease_not_released", account_id=account_id)

    def _give_back(self, account_id: str) -> None:
        with self._lock:
            self._running[account_id] -= 1
            if self._running[account_id] <= 0:
                del self._running[account_id]


class ExportResponse(StreamingResponse):
    """A streamed file holding one of ``slots``' slots for ``account_id`` until it ends:
    completed, abandoned by its client, stalled for ``send_timeout_seconds`` (a client that
    stops reading fills the socket: each send waits, bounded) or past ``max_seconds``.
    A cut-off download ends without its last chunk, so the client sees it truncated
    (connection closed before the end of the chunked body), never a complete-looking file."""

    def __init__(
        self,
        content: Iterable[str | bytes] | AsyncIterable[str | bytes],
        *,
        slots: ExportSlots,
        account_id: str,
        holder: UUID | None = None,
        send_timeout_seconds: float,
        max_seconds: float,
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self.slots = slots
        self.account_id = account_id
        self.holder = holder
        self.send_timeout_seconds = send_timeout_seconds
        self.max_seconds = max_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def bounded_send(message: Message) -> None:
            with anyio.move_on_after(self.send_timeout_seconds) as waited:
                await send(message)
            if waited.cancelled_caught:
                raise ExportStalledError

        try:
            async with anyio.create_task_group() as renewing:
                if self.holder is not None:
                    renewing.start_soon(self._keep_lease)
                try:
                    with anyio.move_on_after(self.max_seconds) as whole:
                        await super().__call__(scope, receive, bounded_send)
                finally:
                    renewing.cancel_scope.cancel()
            if whole.cancelled_caught:
                log.warning("export_cut_off", account_id=self.account_id, reason="deadline")
        except ExportStalledError:
            log.warning("export_cut_off", account_id=self.account_id, reason="stalled")
        finally:
            await anyio.to_thread.run_sync(self.slots.release, self.account_id, self.holder)

    async def _keep_lease(self) -> None:
        """Renew the shared lease every third of its length while the export runs."""
        assert self.slots.leases is not None
        while True:
            await anyio.sleep(self.slots.leases.lease_seconds / 3)
            try:
                await anyio.to_thread.run_sync(self.slots.renew, self.holder)
            except (psycopg.Error, OSError):
                log.warning("export_lease_not_renewed", account_id=self.account_id)


class ExportStalledError(Exception):
    """Raised when an export's client has read nothing for the send timeout."""
