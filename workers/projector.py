"""Projection runner: keeps each read model up to date with the event log.

Guarantees: exactly once (a batch's rows and its tracking position commit in one
transaction); in log order; batched catch-up (up to ``batch_size`` events per transaction,
one tracking write each); low lag when live (woken by the event store's NOTIFY, with a
one-second poll as a safety net for writes that send none); a failing event stops the
projection loudly (logged with its position, recorded in the tracking table so readiness
fails, re-raised so the process exits non-zero) and is never skipped. Lost connections are
retried with backoff: they are not projection errors.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import psycopg
import structlog
from psycopg import Cursor, sql

from domain.application import SmsChannels
from projections.base import LIVE, REBUILD, Projection, ProjectionError
from projections.registry import PROJECTIONS
from projections.tracking import CREATE_TRACKING, advance, lock_and_read, record_error, reset
from workers.following import follow

log = structlog.get_logger("workers.projector")

DEFAULT_BATCH_SIZE = 1000


def create_schema(conninfo: str, names: Sequence[str] = ()) -> None:
    """Create the tracking table and the live tables of the named (default: all) read
    models. Part of ``sms-channels migrate``."""
    with psycopg.connect(conninfo, autocommit=True) as connection, connection.transaction():
        cursor = connection.cursor()
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (0x5_3C_4A,))  # one migrator at a time
        cursor.execute(CREATE_TRACKING)
        for name in names or PROJECTIONS:
            PROJECTIONS[name]().create_tables(cursor)
        if not names:
            drop_retired(cursor)


# Read models that nothing reads any more (their facts live in the channels table now).
RETIRED_PROJECTIONS = {"degraded_state": ("sms_degraded_state", "sms_degraded_agents")}


def drop_retired(cursor: Cursor[Any]) -> None:
    """Drop the tables and tracking rows of retired read models (idempotent)."""
    for name, tables in RETIRED_PROJECTIONS.items():
        for table in tables:
            for suffix in (LIVE, REBUILD):
                cursor.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table + suffix))
                )
        cursor.execute("DELETE FROM sms_projection_tracking WHERE name = %s", (name,))


def apply_next_batch(
    cursor: Cursor[Any],
    application: SmsChannels,
    projection: Projection,
    tracking_name: str,
    batch_size: int,
) -> int:
    """In the caller's transaction: apply the events after the projection's position (at
    most ``batch_size``) and advance the position. Returns how many were applied."""
    position = lock_and_read(cursor, tracking_name)
    notifications = application.recorder.select_notifications(
        start=position, limit=batch_size, inclusive_of_start=False
    )
    if not notifications:
        return 0
    events = []
    for notification in notifications:
        try:
            events.append((notification.id, application.mapper.to_domain_event(notification)))
        except Exception as error:
            raise ProjectionError(notification.id, notification.topic) from error
    projection.apply(cursor, events)
    advance(cursor, tracking_name, notifications[-1].id)
    return len(notifications)


class ProjectorWorker:
    """Runs one projection against the event log of ``application``."""

    def __init__(
        self,
        application: SmsChannels,
        projection: Projection,
        conninfo: str,
        *,
        tracking_name: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.application = application
        self.projection = projection
        self.conninfo = conninfo
        self.tracking_name = tracking_name or projection.name + projection.suffix
        self.batch_size = batch_size
        self._connection: psycopg.Connection[Any] | None = None

    def _cursor(self) -> Cursor[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.conninfo, autocommit=True)
        return self._connection.cursor()

    def run_batch(self) -> int:
        """One transaction: the next batch and its tracking position."""
        cursor = self._cursor()
        try:
            with cursor.connection.transaction():
                return apply_next_batch(
                    cursor,
                    self.application,
                    self.projection,
                    self.tracking_name,
                    self.batch_size,
                )
        except psycopg.OperationalError:
            raise  # the database went away: retried by run(), not a projection error
        except ProjectionError as error:
            self._stop_loudly(error.event_type, error.notification_id, error)
            raise
        except Exception as error:
            self._stop_loudly(type(error).__name__, None, error)
            raise

    def catch_up(self) -> int:
        """Apply batches until the log is exhausted; returns the events applied."""
        total = 0
        while applied := self.run_batch():
            total += applied
        return total

    def run(self, stop: threading.Event) -> None:
        """Follow the log until ``stop`` is set (the current batch always finishes)."""
        follow(
            self.run_batch,
            batch_size=self.batch_size,
            conninfo=self.conninfo,
            channel=getattr(self.application.recorder, "channel_name", None),
            stop=stop,
            retryable=(psycopg.OperationalError,),
            on_retry=lambda _: self.close(),
            name=self.tracking_name,
        )

    def _stop_loudly(self, what: str, position: int | None, error: BaseException) -> None:
        cause = error.__cause__ or error
        log.error(
            "projection_stopped",
            projection=self.tracking_name,
            position=position,
            event_type=what,
            error_type=type(cause).__name__,
        )
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as connection:
                record_error(connection.cursor(), self.tracking_name, what, position)
        except psycopg.Error:
            log.error("projection_error_not_recorded", projection=self.tracking_name)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def rebuild(
    application: SmsChannels, name: str, conninfo: str, batch_size: int = DEFAULT_BATCH_SIZE
) -> int:
    """Rebuild read model ``name`` from the whole log while the live one keeps serving:
    build new tables beside the live ones, catch them up, then — holding the live
    projection's lock, so its runner pauses between two batches — apply the last events,
    swap the tables by renaming, and hand the position over. Returns the new position."""
    projection_class = PROJECTIONS[name]
    new = projection_class(suffix=REBUILD)
    staging = name + REBUILD
    with psycopg.connect(conninfo, autocommit=True) as connection:
        cursor = connection.cursor()
        with connection.transaction():
            for base in new.tables:
                cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(new.table(base)))
            new.create_tables(cursor)
            reset(cursor, staging)
        worker = ProjectorWorker(
            application, new, conninfo, tracking_name=staging, batch_size=batch_size
        )
        worker.catch_up()
        worker.close()
        with connection.transaction():
            lock_and_read(cursor, name)  # the live runner waits from here to the commit
            while apply_next_batch(cursor, application, new, staging, batch_size):
                pass
            position = lock_and_read(cursor, staging)
            live = projection_class()
            for base in new.tables:
                old = sql.Identifier(base + "__old")
                cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(old))
                cursor.execute(
                    sql.SQL("ALTER TABLE IF EXISTS {} RENAME TO {}").format(live.table(base), old)
                )
                cursor.execute(
                    sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                        new.table(base), sql.Identifier(base)
                    )
                )
                cursor.execute(sql.SQL("DROP TABLE {}").format(old))
            reset(cursor, name, position)
            cursor.execute("DELETE FROM sms_projection_tracking WHERE name = %s", (staging,))
    log.info("projection_rebuilt", projection=name, position=position)
    return position


class ProjectionThreads:
    """One thread per projection, stopped together. A projection that fails sets ``stop``
    (so the process exits non-zero instead of serving stale data) and keeps its error."""

    def __init__(
        self,
        application: SmsChannels,
        conninfo: str,
        names: Sequence[str],
        stop: threading.Event,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.stop = stop
        self.errors: list[BaseException] = []
        self.workers = [
            ProjectorWorker(application, PROJECTIONS[n](), conninfo, batch_size=batch_size)
            for n in names
        ]
        self.threads = [
            threading.Thread(
                target=self._run, args=(w,), name=f"projection-{w.tracking_name}", daemon=True
            )
            for w in self.workers
        ]

    def _run(self, worker: ProjectorWorker) -> None:
        try:
            worker.run(self.stop)
        except BaseException as error:
            self.errors.append(error)
            self.stop.set()
        finally:
            worker.close()

    def start(self) -> ProjectionThreads:
        for thread in self.threads:
            thread.start()
        return self

    def join(self, timeout: float = 30) -> None:
        """Wait for every thread to finish its current batch (after ``stop`` is set)."""
        for thread in self.threads:
            thread.join(timeout=timeout)
