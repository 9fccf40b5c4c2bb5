"""The API's side of the read models: a connection pool for queries, and read-your-writes
(``?waitFor=<position>``): a listener that learns each projection's position from the
projector's NOTIFY, so a query waits exactly as long as its projection needs (bounded).

Waiting holds no thread: a waiter is a future on the event loop, completed by the listener
thread. A position past the log's head is not waited for (it cannot be a position this
service answered), each account holds at most ``max_waits_per_account`` waits at once (more
answer at once), and the lag reported never exceeds head - projection position, so a huge
``waitFor`` reveals nothing about the log."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import psycopg
import structlog
from psycopg import Cursor, sql
from psycopg_pool import ConnectionPool

from projections.tracking import PROGRESS_CHANNEL, TRACKING_TABLE, TrackingState, all_states

log = structlog.get_logger("api.query_pool")

CONTROL_POOL_SIZE = 3
EXPORT_POOL_SIZE = 2


class ReadModels:
    """Query access to the projection tables, shared by the API's routes."""

    def __init__(
        self,
        conninfo: str,
        *,
        events_table: str,
        pool_size: int,
        wait_seconds: float,
        max_waits_per_account: int = 20,
    ) -> None:
        self.conninfo = conninfo
        self.events_table = events_table
        self.wait_seconds = wait_seconds
        self.max_waits_per_account = max_waits_per_account
        self._waiters: list[_Waiter] = []
        self._waits_by_account: Counter[str] = Counter()
        # Head look-ups of waiting requests use their own small thread budget, so they never
        # queue behind (or hold up) the request handlers' thread pool.
        self._head_threads = anyio.CapacityLimiter(2)
        # Fail fast (503) and drop broken connections while the database is away.
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            open=True,
            timeout=5.0,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": 2},
        )
        # The control pool: a few connections for what must answer while queries are slow
        # or the main pool is taken (readiness, the idempotency store): tiny statements only.
        self.control = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=CONTROL_POOL_SIZE,
            open=True,
            timeout=5.0,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": 2},
        )
        # The exports' pool (api.exports): file downloads read their chunks here, never
        # taking the connections the pages and single reads need.
        self.exports = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=EXPORT_POOL_SIZE,
            open=True,
            timeout=5.0,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": 2},
        )
        self._positions: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._listener = threading.Thread(
            target=self._listen, name="readmodels-listener", daemon=True
        )
        self._listener.start()

    @contextmanager
    def cursor(self) -> Iterator[Cursor[Any]]:
        with self.pool.connection() as connection:
            yield connection.cursor()

    @contextmanager
    def export_cursor(self) -> Iterator[Cursor[Any]]:
        """A cursor on the exports' pool, for one chunk of a file export."""
        with self.exports.connection() as connection:
            yield connection.cursor()

    @contextmanager
    def control_cursor(self) -> Iterator[Cursor[Any]]:
        """A cursor on the control pool (short statements that must not queue behind
        queries: readiness, idempotency markers and answers)."""
        with self.control.connection() as connection:
            yield connection.cursor()

    async def wait_for(self, projection: str, position: int | None, account_id: str) -> int:
        """Wait (at most ``wait_seconds``, on the event loop) until ``projection`` has applied
        ``position``. Returns how many notifications it is still behind (0 when caught up),
        counted up to the log's head at most."""
        if position is None or self._position(projection) >= position:
            return 0
        head = await anyio.to_thread.run_sync(self.head, limiter=self._head_threads)
        target = min(position, head)
        # Past the head: no position this service answered, so nothing to wait for.
        if position <= head and self._take_wait(account_id):
            try:
                await self._wait(projection, target)
            finally:
                self._release_wait(account_id)
        return max(0, target - self._position(projection))

    def head(self) -> int:
        """The newest notification id of the event log (0 when empty)."""
        with self.cursor() as cursor:
            return self._head(cursor)

    def _head(self, cursor: Cursor[Any]) -> int:
        row = cursor.execute(
            sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                sql.Identifier(self.events_table)
            )
        ).fetchone()
        return int(row[0]) if row else 0

    async def _wait(self, projection: str, position: int) -> None:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(projection, position, loop, loop.create_future())
        with self._lock:
            self._waiters.append(waiter)
        if self._position(projection) < position:
            await anyio.to_thread.run_sync(self._refresh, limiter=self._head_threads)
        try:
            with anyio.move_on_after(self.wait_seconds):
                await waiter.done
        finally:
            with self._lock:
                self._waiters.remove(waiter)

    def _take_wait(self, account_id: str) -> bool:
        with self._lock:
            if self._waits_by_account[account_id] >= self.max_waits_per_account:
                return False
            self._waits_by_account[account_id] += 1
            return True

    def _release_wait(self, account_id: str) -> None:
        with self._lock:
            self._waits_by_account[account_id] -= 1
            if not self._waits_by_account[account_id]:
                del self._waits_by_account[account_id]

    def _position(self, projection: str) -> int:
        with self._lock:
            return self._positions.get(projection, 0)

    def _advance(self, name: str, position: int) -> None:
        """Record a projection's position (holding ``_lock``) and complete the waiters
        it satisfies, on their own event loops."""
        self._positions[name] = max(self._positions.get(name, 0), position)
        for waiter in self._waiters:
            if waiter.projection == name and waiter.position <= self._positions[name]:
                waiter.loop.call_soon_threadsafe(_complete, waiter.done)

    def tracking_states(self) -> tuple[int, list[TrackingState]]:
        """The event log's head and every projection's tracking row (one round trip), on
        the control pool: readiness answers however busy the query pool is."""
        with self.control_cursor() as cursor:
            return self._head(cursor), all_states(cursor)

    def _refresh(self) -> None:
        """Read every projection's position, then merge them under the lock (the query runs
        without it, so one slow read does not hold up the listener or other waiters)."""
        try:
            with self.cursor() as cursor:
                rows = cursor.execute(
                    sql.SQL("SELECT name, position FROM {}").format(sql.Identifier(TRACKING_TABLE))
                ).fetchall()
        except psycopg.Error:
            log.warning("tracking_unreadable")
            return
        with self._lock:
            for name, position in rows:
                self._advance(name, position)

    def _listen(self) -> None:
        while not self._closing.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(PROGRESS_CHANNEL))
                    )
                    self._refresh()
                    while not self._closing.is_set():
                        for note in connection.notifies(timeout=0.5):
                            name, _, position = note.payload.rpartition(":")
                            with self._lock:
                                self._advance(name, int(position))
            except psycopg.Error:
                self._closing.wait(1.0)

    def close(self) -> None:
        self._closing.set()
        self._listener.join(timeout=5)
        self.pool.close()
        self.control.close()
        self.exports.close()


@dataclass(frozen=True)
class _Waiter:
    """One request waiting for ``projection`` to reach ``position``."""

    projection: str
    position: int
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None]


def _complete(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
