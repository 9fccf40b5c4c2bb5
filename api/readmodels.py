"""The API's side of the read models: a connection pool for queries, and read-your-writes
(``?waitFor=<position>``): a listener that learns each projection's position from the
projector's NOTIFY, so a query waits exactly as long as its projection needs (bounded)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import structlog
from psycopg import Cursor, sql
from psycopg_pool import ConnectionPool

from projections.tracking import PROGRESS_CHANNEL, TrackingState, all_states

log = structlog.get_logger("api.readmodels")


class ReadModels:
    """Query access to the projection tables, shared by the API's routes."""

    def __init__(
        self, conninfo: str, *, events_table: str, pool_size: int, wait_seconds: float
    ) -> None:
        self.conninfo = conninfo
        self.events_table = events_table
        self.wait_seconds = wait_seconds
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
        self._positions: dict[str, int] = {}
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._listener = threading.Thread(
            target=self._listen, name="readmodels-listener", daemon=True
        )
        self._listener.start()

    @contextmanager
    def cursor(self) -> Iterator[Cursor[Any]]:
        with self.pool.connection() as connection:
            yield connection.cursor()

    def wait_for(self, projection: str, position: int | None) -> int:
        """Wait (at most ``wait_seconds``) until ``projection`` has applied ``position``.
        Returns how many notifications it is still behind (0 when caught up)."""
        if position is None:
            return 0
        if self._positions.get(projection, 0) < position:
            self._refresh()  # in case a NOTIFY was missed; done without holding the lock
        with self._changed:
            self._changed.wait_for(
                lambda: self._positions.get(projection, 0) >= position or self._closing.is_set(),
                timeout=self.wait_seconds,
            )
            return max(0, position - self._positions.get(projection, 0))

    def tracking_states(self) -> tuple[int, list[TrackingState]]:
        """The event log's head and every projection's tracking row (one round trip)."""
        with self.cursor() as cursor:
            head = cursor.execute(
                sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                    sql.Identifier(self.events_table)
                )
            ).fetchone()
            return (int(head[0]) if head else 0), all_states(cursor)

    def _refresh(self) -> None:
        """Read every projection's position, then merge them under the lock (the query runs
        without it, so one slow read does not hold up the listener or other waiters)."""
        try:
            with self.cursor() as cursor:
                rows = cursor.execute(
                    "SELECT name, position FROM sms_projection_tracking"
                ).fetchall()
        except psycopg.Error:
            log.warning("tracking_unreadable")
            return
        with self._changed:
            for name, position in rows:
                self._positions[name] = max(self._positions.get(name, 0), position)
            self._changed.notify_all()

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
                            with self._changed:
                                current = self._positions.get(name, 0)
                                self._positions[name] = max(current, int(position))
                                self._changed.notify_all()
            except psycopg.Error:
                self._closing.wait(1.0)

    def close(self) -> None:
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        self._listener.join(timeout=5)
        self.pool.close()
