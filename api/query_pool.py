"""The API's side of the read models: a connection pool for queries, and read-your-writes
(``?waitFor=<position>``): a listener that learns each projection's position from the
projector's NOTIFY, and the log's head from the event store's, so a query waits exactly as
long as its projection needs (bounded).

Waiting holds no thread: a waiter is a future on the event loop, completed by the listener
thread. Fairness comes first: each account holds at most ``max_waits_per_account`` waits
at once, checked before anything else (more answer at once, with their lag), so one
account's flood costs the others nothing. The head is cached (pushed by the event store's
NOTIFY); a position past the cached head is checked by one shared lookup, on a thread and
connection of its own, that every request arriving meanwhile joins. A position past the
log's head is not waited for (it cannot be a position this service answered), and the lag
reported never exceeds head - projection position, so a huge ``waitFor`` reveals nothing
about the log. A waiter is registered and the projection's position re-checked under one
lock, so a projection that passes the target meanwhile can never leave it asleep.

Read replicas (``DATABASE_READ_URL``): the queries and exports pools connect to the replica;
the control pool (readiness, idempotency, rate limits: writes), the head and the NOTIFY
listener stay on the primary (a hot standby delivers no notifications). A projector's
NOTIFY then says only that the primary moved: the positions a wait compares with are read
from the replica's own copy of the tracking table (at each notification, and every
``REPLICA_POLL_SECONDS`` while requests wait), so ``waitFor`` returns once the replica has
applied the write and read-your-writes holds on the replica too.

The async read path (``async_connection``): the pages that only read (the channels table,
the account trail, the compliance history) run as ``async def`` routes on psycopg's
``AsyncConnectionPool``, so a page neither holds nor hops to a worker thread. Its pools
keep the sync pools' guarantees: the same routes (queries to the replica, the event log on
the primary; one pool when both are the primary), the same bound (``pool_size``
connections each, per process), the same fail-fast wait (5 s, then 503) and the same
liveness check. A pool belongs to one event loop: it is opened on the loop that first asks
for it (the server's), and a new loop (a test client's next session) gets pools of its own
(the old loop's are closed on it while it runs; a closed loop's connections go with it).
The server's shutdown closes its loop's pools (``aclose``)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import psycopg
import structlog
from psycopg import AsyncConnection, Cursor, sql
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from projections.tracking import PROGRESS_CHANNEL, TRACKING_TABLE, TrackingState, all_states

log = structlog.get_logger("api.query_pool")

CONTROL_POOL_SIZE = 3
EXPORT_POOL_SIZE = 2
# While requests wait on a read replica, its tracking positions are re-read this often.
REPLICA_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Routes:
    """Which database each of the read models' connections talks to: the queries and the
    exports to the read URL (a replica, or the primary without one), the rest to the
    primary: the control pool writes (idempotency, rate limits), the head and the NOTIFY
    listener must see the primary's log, and a hot standby delivers no notifications. The
    projections' positions are read where the queries read (the replica's tracking table).
    The event log's own reads (the compliance history) go to the primary, as the
    application's do."""

    queries: str
    exports: str
    control: str
    head: str
    listener: str
    positions: str
    log: str

    @classmethod
    def of(cls, primary: str, read: str | None = None) -> Routes:
        replica = read or primary
        return cls(
            queries=replica,
            exports=replica,
            control=primary,
            head=primary,
            listener=primary,
            positions=replica,
            log=primary,
        )

    @property
    def replica(self) -> bool:
        return self.positions != self.listener


def _fail_fast_pool(conninfo: str, size: int, *, timeout: float) -> ConnectionPool:
    """A pool that fails fast (503) and drops broken connections while the database is
    away: ``timeout`` seconds at most for a connection, 2 s for a new one."""
    return ConnectionPool(
        conninfo,
        min_size=1,
        max_size=size,
        open=True,
        timeout=timeout,
        check=ConnectionPool.check_connection,
        kwargs={"autocommit": True, "connect_timeout": 2},
    )


def _fail_fast_async_pool(conninfo: str, size: int, *, timeout: float) -> AsyncConnectionPool:
    """``_fail_fast_pool``'s twin on psycopg's async pool (opened by ``_AsyncPools``, on the
    loop that uses it)."""
    return AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=size,
        open=False,
        timeout=timeout,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True, "connect_timeout": 2},
    )


class _AsyncPools:
    """The async pools of one event loop: the queries' (the read URL) and the event log's
    (the primary: the compliance history reads what the commands wrote, never a lagging
    replica); one pool when both are the primary."""

    def __init__(self, loop: asyncio.AbstractEventLoop, routes: Routes, size: int) -> None:
        self.loop = loop
        self.queries = _fail_fast_async_pool(routes.queries, size, timeout=5.0)
        self.log = (
            self.queries
            if routes.queries == routes.log
            else _fail_fast_async_pool(routes.log, size, timeout=5.0)
        )
        self._opened: set[int] = set()
        self._closing: asyncio.Task[None] | None = None

    async def pool(self, log: bool) -> AsyncConnectionPool:
        pool = self.log if log else self.queries
        if id(pool) not in self._opened:
            await pool.open()  # safe when another request opened it meanwhile
            self._opened.add(id(pool))
        return pool

    async def close(self) -> None:
        for pool in {id(p): p for p in (self.queries, self.log)}.values():
            await pool.close()

    def close_from_elsewhere(self, timeout: float = 5.0) -> None:
        """Close the pools from outside their loop: on it while it runs, else nothing is
        left to close (a closed loop's connections went with it)."""
        if self.loop.is_closed() or not self.loop.is_running():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:  # on the loop itself: it cannot be waited for here
            self._closing = running.create_task(self.close())
            return
        try:
            asyncio.run_coroutine_threadsafe(self.close(), self.loop).result(timeout)
        except Exception:  # the loop stopped meanwhile: its connections went with it
            log.warning("async_pools_not_closed")


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
        read_conninfo: str | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.routes = routes = Routes.of(conninfo, read_conninfo)
        # Where queries go: a read replica, or the primary itself.
        self.read_conninfo = routes.queries
        self.replica = routes.replica
        self._replica_connection: psycopg.Connection[Any] | None = None
        self.events_table = events_table
        self.wait_seconds = wait_seconds
        self.max_waits_per_account = max_waits_per_account
        self._waiters: list[_Waiter] = []
        self._waits_by_account: Counter[str] = Counter()
        # The log's head as last learnt (the event store's NOTIFY, or a look-up); look-ups
        # run one at a time, on a thread and a connection of their own.
        self._head = 0
        self._channel = events_table.replace(".", "_")  # the event store's NOTIFY channel
        self._lookup: asyncio.Task[None] | None = None
        self._lookups_started = 0
        self._lookup_thread = anyio.CapacityLimiter(1)
        self._lookup_connection: psycopg.Connection[Any] | None = None
        # For tests: runs between a wait's first position check and its registration.
        self.before_waiter_registered: Callable[[], None] = lambda: None
        self.pool = _fail_fast_pool(routes.queries, pool_size, timeout=5.0)
        # The async read path's pools (``async_connection``), made on the loop that asks.
        self._async_size = pool_size
        self._async: _AsyncPools | None = None
        # The control pool: a few connections for what must answer while queries are slow
        # or the main pool is taken (readiness, the idempotency store, the rate buckets): tiny
        # statements only, so a connection not had within 2 s means the database is away: a
        # write answers 503 within seconds, not after the queries' 5 s.
        self.control = _fail_fast_pool(routes.control, CONTROL_POOL_SIZE, timeout=2.0)
        # The exports' pool (api.exports): file downloads read their chunks here, never
        # taking the connections the pages and single reads need.
        self.exports = _fail_fast_pool(routes.exports, EXPORT_POOL_SIZE, timeout=5.0)
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

    @asynccontextmanager
    async def async_connection(self, *, log: bool = False) -> AsyncIterator[AsyncConnection[Any]]:
        """A connection of the async read path (no worker thread): the queries' pool, or
        with ``log`` the event log's (the primary)."""
        pool = await self._async_pools().pool(log)
        async with pool.connection() as connection:
            yield connection

    def _async_pools(self) -> _AsyncPools:
        """The running loop's pools; a loop other than the last one's gets new ones (the
        old ones are closed on their loop, if it still runs)."""
        loop = asyncio.get_running_loop()
        pools = self._async
        if pools is None or pools.loop is not loop:
            if pools is not None:
                self._abandon(pools)
            pools = self._async = _AsyncPools(loop, self.routes, self._async_size)
        return pools

    @staticmethod
    def _abandon(pools: _AsyncPools) -> None:
        if not pools.loop.is_closed() and pools.loop.is_running():
            asyncio.run_coroutine_threadsafe(pools.close(), pools.loop)

    async def aclose(self) -> None:
        """``close``, and first the async pools of the running loop (the server's
        shutdown)."""
        pools, self._async = self._async, None
        if pools is not None:
            if pools.loop is asyncio.get_running_loop():
                await pools.close()
            else:
                self._abandon(pools)
        self.close()

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
        # The account's cap before any look-up: beyond it, answer at once with the lag.
        if not self._take_wait(account_id):
            return self._lag(projection, position)
        try:
            head = await self._head_reaching(position)
            # Past the head: no position this service answered, so nothing to wait for.
            if position <= head:
                await self._wait(projection, position)
            return self._lag(projection, position)
        finally:
            self._release_wait(account_id)

    def _lag(self, projection: str, position: int) -> int:
        """How far ``projection`` is behind ``position``, counted up to the known head."""
        with self._lock:
            target = min(position, self._head)
            return max(0, target - self._positions.get(projection, 0))

    def _head_of(self, cursor: Cursor[Any]) -> int:
        """The newest notification id of the event log (0 when empty)."""
        row = cursor.execute(
            sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                sql.Identifier(self.events_table)
            )
        ).fetchone()
        return int(row[0]) if row else 0

    def _learn_head(self, head: int) -> None:
        with self._lock:
            self._head = max(self._head, head)

    async def _head_reaching(self, position: int) -> int:
        """The head, fresh enough to judge ``position``: the cached one when it reaches
        ``position``; otherwise the result of a look-up that started after this call (shared
        with every request arriving meanwhile: at most one runs at a time)."""
        wanted = self._lookups_started + 1
        while self._head < position:
            loop = asyncio.get_running_loop()
            lookup = self._lookup
            if lookup is None or lookup.done() or lookup.get_loop() is not loop:
                self._lookups_started += 1
                lookup = self._lookup = loop.create_task(self._look_up_head())
            generation = self._lookups_started
            try:
                await asyncio.shield(lookup)
            except Exception:
                log.warning("head_unreadable")
                break
            if generation >= wanted:
                break
        return self._head

    async def _look_up_head(self) -> None:
        self._learn_head(
            await anyio.to_thread.run_sync(self._read_head, limiter=self._lookup_thread)
        )

    def _read_head(self) -> int:
        """The head, read on the look-up's own connection (never the query pool's)."""
        connection = self._lookup_connection
        if connection is None or connection.closed:
            connection = psycopg.connect(self.routes.head, autocommit=True, connect_timeout=2)
            self._lookup_connection = connection
        try:
            return self._head_of(connection.cursor())
        except psycopg.Error:
            connection.close()
            raise

    async def _wait(self, projection: str, position: int) -> None:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(projection, position, loop, loop.create_future())
        self.before_waiter_registered()
        with self._lock:
            # Under the lock the listener advances positions with: either the projection
            # passed ``position`` already (no wake-up will come: return), or the waiter is
            # registered before it does.
            if self._positions.get(projection, 0) >= position:
                return
            self._waiters.append(waiter)
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
            head = self._head_of(cursor)
            self._learn_head(head)
            return head, all_states(cursor)

    def _refresh(self, cursor: Cursor[Any]) -> None:
        """Read the head and every projection's position (the replica's, with one), then
        merge them under the lock (the queries run without it, so one slow read holds up
        no waiter)."""
        head = self._head_of(cursor)
        rows = self._tracked_positions(cursor)
        with self._lock:
            self._head = max(self._head, head)
            for name, position in rows:
                self._advance(name, position)

    def _tracked_positions(self, primary: Cursor[Any]) -> list[tuple[str, int]]:
        """Every projection's position where the queries read: the replica's tracking
        table (on a connection of the listener's own), else the primary's."""
        cursor = primary
        if self.replica:
            connection = self._replica_connection
            if connection is None or connection.closed:
                connection = psycopg.connect(
                    self.routes.positions, autocommit=True, connect_timeout=2
                )
                self._replica_connection = connection
            cursor = connection.cursor()
        statement = sql.SQL("SELECT name, position FROM {}").format(sql.Identifier(TRACKING_TABLE))
        try:
            return [(str(name), int(position)) for name, position in cursor.execute(statement)]
        except psycopg.Error:
            if cursor is not primary:
                cursor.connection.close()
            raise

    def _listen(self) -> None:
        """The listener thread: positions from the projectors' NOTIFY, the head re-read on
        the event store's; everything re-read on (re)connecting and every second while
        requests wait (a safety net for a notification lost in a reconnect)."""
        while not self._closing.is_set():
            try:
                with psycopg.connect(self.routes.listener, autocommit=True) as connection:
                    for channel in (PROGRESS_CHANNEL, self._channel):
                        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self._refresh(connection.cursor())
                    while not self._closing.is_set():
                        self._drain(connection)
            except psycopg.Error:
                self._closing.wait(1.0)

    def _drain(self, connection: psycopg.Connection[Any]) -> None:
        """Apply the notifications of up to half a second (a replica's waiters: up to
        ``REPLICA_POLL_SECONDS``); re-read what they call for."""
        logged = progressed = False
        timeout = REPLICA_POLL_SECONDS if self.replica and self._waiters else 0.5
        for note in connection.notifies(timeout=timeout):
            if note.channel != PROGRESS_CHANNEL:
                logged = True
            elif self.replica:
                progressed = True  # the primary's position: the replica's is read below
            else:
                name, _, position = note.payload.rpartition(":")
                with self._lock:
                    self._advance(name, int(position))
        if self._waiters or progressed:
            self._refresh(connection.cursor())  # the head too
        elif logged:
            self._learn_head(self._head_of(connection.cursor()))

    def close(self) -> None:
        pools, self._async = self._async, None
        if pools is not None:
            pools.close_from_elsewhere()
        self._closing.set()
        self._listener.join(timeout=5)
        self.pool.close()
        for connection in (self._lookup_connection, self._replica_connection):
            if connection is not None:
                connection.close()
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
