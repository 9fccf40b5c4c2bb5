"""One active worker of a kind across processes: a PostgreSQL session advisory lock, held
on a connection of its own for as long as that connection lives.

Workers whose steps are not atomic at the provider (the registration worker looks an object
up, then creates it) must not run twice at once: two could both find nothing and both
create. A worker without the lock is a standby; it takes over on a later pass when the
holder's connection ends (process exit, crash, network loss).

How soon: a killed process's socket is closed by its kernel, so PostgreSQL ends the session
(and frees the lock) at once and a standby takes over on its next try, every
``STANDBY_POLL_SECONDS`` (measured: tests/e2e/test_replicas.py, docs/scaling.md). A host
that vanishes closes nothing: the session's TCP keepalives (``keep_alive``, set on every
leader's session) end it within about ``LEADER_KEEPALIVE_SECONDS``.
"""

from __future__ import annotations

import zlib
from typing import Any

import psycopg
import structlog

from projections.tracking import try_session_lock

log = structlog.get_logger("workers.leadership")

# How often a standby tries to take the lock.
STANDBY_POLL_SECONDS = 1.0
# The server drops a leader's session whose peer stopped answering after about this long
# (idle 5 s, then 3 probes 2 s apart), and the lock with it.
LEADER_KEEPALIVE_SECONDS = 11


def keep_alive(connection: psycopg.Connection[Any]) -> None:
    """Have the server probe this session's peer (its TCP keepalives, per session; the
    server default waits two hours), so that a leader whose host vanished loses its lock
    within ``LEADER_KEEPALIVE_SECONDS``."""
    for setting, value in (
        ("tcp_keepalives_idle", 5),
        ("tcp_keepalives_interval", 2),
        ("tcp_keepalives_count", 3),
    ):
        connection.execute("SELECT set_config(%s, %s, false)", (setting, str(value)))


def leader_key(name: str) -> int:
    """The advisory lock key of a worker kind (stable across processes)."""
    return zlib.crc32(f"sms-worker:{name}".encode())


class SessionLock:
    """``held()`` answers whether this process holds the lock, taking it if it is free.
    A standby keeps its session between tries (no new connection each second)."""

    def __init__(self, database_url: str, name: str) -> None:
        self._url = database_url
        self._name = name
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._leading = False

    def held(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._leading = False
                self._connection = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
                keep_alive(self._connection)
            if self._leading:
                self._connection.execute("SELECT 1")  # the session, and the lock, still there
                return True
            if try_session_lock(self._connection, leader_key(self._name)):
                self._leading = True
                log.info("worker_leader", worker=self._name)
            return self._leading
        except psycopg.Error:
            self.close()  # the session ended, and the lock with it
            return False

    def close(self) -> None:
        self._leading = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
