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

from psycopg import Cursor

TRACKING_TABLE = "sms_projection_tracking"
PROGRESS_CHANNEL = "sms_projection_progress"

CREATE_TRACKING = (
    "CREATE TABLE IF NOT EXISTS sms_projection_tracking (name text PRIMARY KEY,"
    " position bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now(),"
    " error text, error_position bigint)"
)


@dataclass(frozen=True)
class TrackingState:
    """One projection's tracking row."""

    name: str
    position: int
    updated_at: datetime
    error: str | None
    error_position: int | None


def lock_key(name: str) -> int:
    """The advisory lock key of a projection (stable across processes)."""
    return zlib.crc32(f"sms-projection:{name}".encode())


def lock_and_read(cursor: Cursor[Any], name: str) -> int:
    """Take the projection's transaction lock; return its committed position."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))
    cursor.execute(
        "INSERT INTO sms_projection_tracking (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
        (name,),
    )
    row = cursor.execute(
        "SELECT position FROM sms_projection_tracking WHERE name = %s", (name,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def advance(cursor: Cursor[Any], name: str, position: int) -> None:
    """Record ``position`` (in the batch's transaction) and tell listeners at commit."""
    cursor.execute(
        "UPDATE sms_projection_tracking SET position = %s, updated_at = now(), error = NULL,"
        " error_position = NULL WHERE name = %s",
        (position, name),
    )
    cursor.execute("SELECT pg_notify(%s, %s)", (PROGRESS_CHANNEL, f"{name}:{position}"))


def record_error(cursor: Cursor[Any], name: str, error: str, position: int | None) -> None:
    """Mark the projection stopped: readiness fails until a batch succeeds again."""
    cursor.execute(
        "INSERT INTO sms_projection_tracking (name, error, error_position) VALUES (%s, %s, %s)"
        " ON CONFLICT (name) DO UPDATE SET error = EXCLUDED.error,"
        " error_position = EXCLUDED.error_position",
        (name, error, position),
    )


def reset(cursor: Cursor[Any], name: str, position: int = 0) -> None:
    cursor.execute(
        "INSERT INTO sms_projection_tracking (name, position) VALUES (%s, %s)"
        " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now(),"
        " error = NULL, error_position = NULL",
        (name, position),
    )


def all_states(cursor: Cursor[Any]) -> list[TrackingState]:
    rows = cursor.execute(
        "SELECT name, position, updated_at, error, error_position FROM sms_projection_tracking"
        " ORDER BY name"
    ).fetchall()
    return [TrackingState(*row) for row in rows]
