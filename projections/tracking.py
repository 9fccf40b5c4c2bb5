"""The tracking table: how far each projection has read the event log.

A projection's rows and its tracking row are written in one transaction. The worker
holds a per-projection advisory lock for that transaction, so two runners of one projection
never interleave (the second waits, then continues from the committed position), and a
rebuild can swap tables between two batches.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql

TRACKING_TABLE = "sms_projection_tracking"
REBUILD_SUFFIX = "__rebuild"  # projections.base.REBUILD (not imported: base imports nothing)
PROGRESS_CHANNEL = "sms_projection_progress"

SKIPS_TABLE = "sms_projection_skips"

_TRACKING = sql.Identifier(TRACKING_TABLE)
_SKIPS = sql.Identifier(SKIPS_TABLE)

# Idempotent (``sms-channels migrate`` runs it every time): the columns added after the
# first release are added to an older table.
CREATE_TRACKING = sql.SQL(
    "CREATE TABLE IF NOT EXISTS {tracking} (name text PRIMARY KEY,"
    " position bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now(),"
    " error text, error_position bigint);"
    " ALTER TABLE {tracking} ADD COLUMN IF NOT EXISTS error_event_id uuid,"
    " ADD COLUMN IF NOT EXISTS error_topic text;"
    # The events operators decided a projection goes on without (see domain/operator_decisions).
    " CREATE TABLE IF NOT EXISTS {skips} (name text NOT NULL,"
    " position bigint NOT NULL, decision_id uuid NOT NULL, reason text NOT NULL,"
    " decided_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, position))"
).format(tracking=_TRACKING, skips=_SKIPS)


@dataclass(frozen=True)
class TrackingState:
    """One projection's tracking row."""

    name: str
    position: int
    updated_at: datetime
    error: str | None
    error_position: int | None
    error_event_id: UUID | None = None
    error_topic: str | None = None

    @property
    def is_rebuild(self) -> bool:
        """A rebuild's staging row (``<name>__rebuild``): not a live read model."""
        return self.name.endswith(REBUILD_SUFFIX)


def lock_key(name: str) -> int:
    """The advisory lock key of a projection (stable across processes)."""
    return zlib.crc32(f"sms-projection:{name}".encode())


def try_session_lock(connection: Any, key: int) -> bool:
    """Take the session advisory lock ``key`` on ``connection`` if it is free (held until the
    session ends): whether this session holds it now."""
    row = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    return bool(row and row[0])


def lock_and_read(cursor: Cursor[Any], name: str) -> int:
    """Take the projection's transaction lock; return its committed position."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))
    cursor.execute(
        sql.SQL("INSERT INTO {} (name) VALUES (%s) ON CONFLICT (name) DO NOTHING").format(
            _TRACKING
        ),
        (name,),
    )
    row = cursor.execute(
        sql.SQL("SELECT position FROM {} WHERE name = %s").format(_TRACKING), (name,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def advance(cursor: Cursor[Any], name: str, position: int) -> None:
    """Record ``position`` (in the batch's transaction) and tell listeners at commit."""
    cursor.execute(
        sql.SQL(
            "UPDATE {} SET position = %s, updated_at = now(), error = NULL,"
            " error_position = NULL, error_event_id = NULL, error_topic = NULL WHERE name = %s"
        ).format(_TRACKING),
        (position, name),
    )
    cursor.execute("SELECT pg_notify(%s, %s)", (PROGRESS_CHANNEL, f"{name}:{position}"))


@dataclass(frozen=True)
class StoppedAt:
    """Where a projection stopped: the error's class, and the event's position, id and
    topic (None where the failure could not be tied to one event)."""

    error: str
    position: int | None = None
    event_id: UUID | None = None
    topic: str | None = None


def record_error(cursor: Cursor[Any], name: str, stopped: StoppedAt) -> None:
    """Mark the projection stopped: readiness fails until a batch succeeds again."""
    cursor.execute(
        sql.SQL(
            "INSERT INTO {}"
            " (name, error, error_position, error_event_id, error_topic)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET error = EXCLUDED.error,"
            " error_position = EXCLUDED.error_position, error_event_id = EXCLUDED.error_event_id,"
            " error_topic = EXCLUDED.error_topic"
        ).format(_TRACKING),
        (name, stopped.error, stopped.position, stopped.event_id, stopped.topic),
    )


def skipped_positions(cursor: Cursor[Any], name: str, first: int, last: int) -> set[int]:
    """The positions in [first, last] that operators decided ``name`` goes on without."""
    rows = cursor.execute(
        sql.SQL("SELECT position FROM {} WHERE name = %s AND position BETWEEN %s AND %s").format(
            _SKIPS
        ),
        (name, first, last),
    ).fetchall()
    return {int(position) for (position,) in rows}


def add_skip(cursor: Cursor[Any], name: str, position: int, decision_id: UUID, reason: str) -> None:
    """Let ``name`` (and its rebuilds) go on without the event at ``position``."""
    cursor.execute(
        sql.SQL(
            "INSERT INTO {} (name, position, decision_id, reason)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
        ).format(_SKIPS),
        (name, position, decision_id, reason),
    )


def reset(cursor: Cursor[Any], name: str, position: int = 0) -> None:
    cursor.execute(
        sql.SQL(
            "INSERT INTO {} (name, position) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now(),"
            " error = NULL, error_position = NULL, error_event_id = NULL, error_topic = NULL"
        ).format(_TRACKING),
        (name, position),
    )


def forget(cursor: Cursor[Any], name: str) -> None:
    """Delete ``name``'s tracking row (a retired read model, a finished rebuild)."""
    cursor.execute(sql.SQL("DELETE FROM {} WHERE name = %s").format(_TRACKING), (name,))


def all_states(cursor: Cursor[Any]) -> list[TrackingState]:
    rows = cursor.execute(
        sql.SQL(
            "SELECT name, position, updated_at, error, error_position, error_event_id, error_topic"
            " FROM {} ORDER BY name"
        ).format(_TRACKING)
    ).fetchall()
    return [TrackingState(*row) for row in rows]
