"""One active worker of a kind across processes: a PostgreSQL session advisory lock, held
on a connection of its own for as long as that connection lives.

Workers whose steps are not atomic at the provider (the registration worker looks an object
up, then creates it) must not run twice at once: two could both find nothing and both
create. A worker without the lock is a standby; it takes over on a later pass when the
holder's connection ends (process exit, crash, network loss).
"""

from __future__ import annotations

import zlib

import psycopg
import structlog

from projections.tracking import try_session_lock

log = structlog.get_logger("workers.leadership")


def leader_key(name: str) -> int:
    """The advisory lock key of a worker kind (stable across processes)."""
    return zlib.crc32(f"sms-worker:{name}".encode())


class SessionLock:
    """``held()`` answers whether this process holds the lock, taking it if it is free."""

    def __init__(self, database_url: str, name: str) -> None:
        self._url = database_url
        self._name = name
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def held(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute("SELECT 1")
                return True
            except psycopg.Error:
                self.close()  # the session ended, and the lock with it
        try:
            connection = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
        except psycopg.Error:
            return False
        if try_session_lock(connection, leader_key(self._name)):
            self._connection = connection
            log.info("worker_leader", worker=self._name)
            return True
        connection.close()
        return False

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
