"""Projection runner: keeps each read model up to date with the event log.

Guarantees: exactly once (a batch's rows and its tracking position commit in one
transaction); in log order; batched catch-up (up to ``batch_size`` events per transaction,
one tracking write each); low lag when live (woken by the event store's NOTIFY, with a
one-second poll as a safety net for writes that send none).

Errors are classified (``workers.outage.is_transient``). Transient ones (the database
away, a lock or statement timeout, a serialisation failure) are retried with backoff.
Permanent ones (the data, a limit such as an over-long index key, a decoding failure, a
bug) would fail the same way on every retry: the worker narrows the batch down to the one
failing event (replaying it event by event), stops there, and records the event's
position, id and topic in the tracking table, so readiness and metrics name it. It is
never skipped silently: a running worker waits (other projections go on) until an operator
decides with ``sms-channels projections skip NAME --position N --reason …`` (an audited
fact in the log); then it resumes past that event.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.persistence import RecordConflictError
from psycopg import Cursor, sql

from domain.application import SmsChannels
from domain.operator_decisions import ProjectionSkip
from projections.base import LIVE, REBUILD, Projection, ProjectionError
from projections.registry import PROJECTIONS
from projections.tracking import (
    CREATE_TRACKING,
    StoppedAt,
    add_skip,
    advance,
    all_states,
    forget,
    lock_and_read,
    record_error,
    reset,
    skipped_positions,
)
from workers.following import follow
from workers.outage import WorkerHealth, is_transient, supervise

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
        forget(cursor, name)


def apply_next_batch(
    cursor: Cursor[Any],
    application: SmsChannels,
    projection: Projection,
    tracking_name: str,
    batch_size: int,
) -> int:
    """In the caller's transaction: apply the events after the projection's position (at
    most ``batch_size``, leaving out those operators decided to skip) and advance the
    position. Returns how many notifications it moved past."""
    position = lock_and_read(cursor, tracking_name)
    notifications = application.recorder.select_notifications(
        start=position, limit=batch_size, inclusive_of_start=False
    )
    if not notifications:
        return 0
    skipped = skipped_positions(cursor, projection.name, notifications[0].id, notifications[-1].id)
    events = []
    for notification in notifications:
        if notification.id in skipped:
            continue
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
        # Where this worker stopped on a permanent error, until an operator's skip.
        self.stopped: StoppedAt | None = None

    def _cursor(self) -> Cursor[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.conninfo, autocommit=True)
        return self._connection.cursor()

    def run_batch(self) -> int:
        """One transaction: the next batch and its tracking position. Transient errors
        propagate (the caller retries); a permanent one stops the worker at the failing
        event (recorded) and raises ProjectionError."""
        try:
            return self._apply(self.batch_size)
        except Exception as error:
            if is_transient(error):
                raise
            failure, applied = self._narrow_down()
            if failure is None:
                return applied  # only the batch as a whole failed: applied event by event
            raise self._stop(failure) from error

    def catch_up(self) -> int:
        """Apply batches until the log is exhausted; returns the events applied."""
        total = 0
        while applied := self.run_batch():
            total += applied
        return total

    def run(self, stop: threading.Event) -> None:
        """Follow the log until ``stop`` is set (the current batch always finishes). Stopped
        on a permanent error, it waits for an operator's skip decision, then goes on."""
        follow(
            self._follow_step,
            batch_size=self.batch_size,
            conninfo=self.conninfo,
            channel=getattr(self.application.recorder, "channel_name", None),
            stop=stop,
            on_retry=lambda _: self.close(),
            name=self.tracking_name,
        )

    def _follow_step(self) -> int:
        if self.stopped is not None:
            if not self._skip_decided(self.stopped):
                return 0  # parked: polled again every second (or on a NOTIFY)
            self.stopped = None
        try:
            return self.run_batch()
        except ProjectionError:
            return 0  # stopped and recorded: wait for the operator

    def _skip_decided(self, stopped: StoppedAt) -> bool:
        if stopped.position is None:
            return False
        position = stopped.position
        return bool(skipped_positions(self._cursor(), self.projection.name, position, position))

    def _apply(self, batch_size: int) -> int:
        cursor = self._cursor()
        with cursor.connection.transaction():
            return apply_next_batch(
                cursor, self.application, self.projection, self.tracking_name, batch_size
            )

    def _narrow_down(self) -> tuple[Exception | None, int]:
        """Apply the events one at a time (each exactly once) until one fails permanently:
        that failure (None if every event applied) and how many were applied."""
        applied = 0
        try:
            while step := self._apply(1):
                applied += step
        except Exception as single:
            if is_transient(single):
                raise
            return single, applied
        return None, applied

    def _stop(self, failure: Exception) -> ProjectionError:
        """Record where the projection stopped (the event after its position) and return
        the error to raise; the worker waits there for an operator's decision."""
        stopped = self._describe(failure)
        self.stopped = stopped
        log.error(
            "projection_stopped",
            projection=self.tracking_name,
            position=stopped.position,
            event_id=str(stopped.event_id) if stopped.event_id else None,
            topic=stopped.topic,
            error_type=stopped.error,
        )
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as connection:
                record_error(connection.cursor(), self.tracking_name, stopped)
        except psycopg.Error:
            log.error("projection_error_not_recorded", projection=self.tracking_name)
        return ProjectionError(stopped.position or 0, stopped.topic or stopped.error)

    def _describe(self, failure: Exception) -> StoppedAt:
        """The failing event: the one after the committed position (the batch of one that
        failed), with its id and topic read from the log."""
        cause = failure.__cause__ if isinstance(failure, ProjectionError) else failure
        error_name = type(cause or failure).__name__
        try:
            with self._cursor().connection.transaction():
                position = lock_and_read(self._cursor(), self.tracking_name)
            found = self.application.recorder.select_notifications(
                start=position, limit=1, inclusive_of_start=False
            )
        except Exception:  # the failure is what matters; where it was is best effort
            log.exception("projection_stop_position_unknown", projection=self.tracking_name)
            return StoppedAt(error_name)
        if not found:
            return StoppedAt(error_name)
        (notification,) = found
        return StoppedAt(
            error_name, notification.id, UUID(str(notification.originator_id)), notification.topic
        )

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
            forget(cursor, staging)
    log.info("projection_rebuilt", projection=name, position=position)
    return position


class ProjectionThreads:
    """One supervised thread per projection (``workers.outage.supervise``), stopped
    together by ``stop``: a projection that crashes is restarted after a backoff and shown
    ``restarting`` in ``health``; the others go on. ``errors`` keeps every crash."""

    def __init__(
        self,
        application: SmsChannels,
        conninfo: str,
        names: Sequence[str],
        stop: threading.Event,
        batch_size: int = DEFAULT_BATCH_SIZE,
        health: WorkerHealth | None = None,
    ) -> None:
        self.stop = stop
        self.health = health or WorkerHealth()
        self.errors: list[BaseException] = []
        self.workers = [
            ProjectorWorker(application, PROJECTIONS[n](), conninfo, batch_size=batch_size)
            for n in names
        ]
        self.threads: list[threading.Thread] = []

    def start(self) -> ProjectionThreads:
        for worker in self.workers:
            self.threads.append(
                supervise(
                    f"projection:{worker.tracking_name}",
                    self._recording(worker),
                    self.stop,
                    self.health,
                    on_crash=worker.close,
                )
            )
        return self

    def _recording(self, worker: ProjectorWorker) -> Callable[[threading.Event], None]:
        def run(stop: threading.Event) -> None:
            try:
                worker.run(stop)
            except Exception as error:
                self.errors.append(error)
                raise

        return run

    def join(self, timeout: float = 30) -> None:
        """Wait for every thread to finish its current batch (after ``stop`` is set), then
        close the workers' connections."""
        for thread in self.threads:
            thread.join(timeout=timeout)
        for worker in self.workers:
            worker.close()


def skip_event(
    application: SmsChannels,
    conninfo: str,
    name: str,
    *,
    position: int,
    reason: str,
    decided_by: str,
) -> UUID:
    """The operator's decision that read model ``name`` goes on without the event at
    ``position``, where it stopped: recorded as a ``ProjectionSkip`` fact in the log (who,
    when, why, which event), then handed to the projection (its stopped worker resumes;
    a rebuild leaves the event out too). Idempotent: the same decision again changes
    nothing. ValueError if ``name`` is not stopped at ``position``."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        state = next((s for s in all_states(connection.cursor()) if s.name == name), None)
        if state is None or state.error is None or state.error_position != position:
            where = (
                "not stopped"
                if state is None or state.error is None
                else (f"stopped at position {state.error_position}")
            )
            msg = f"{name} is {where}: only the event it stopped at can be skipped"
            raise ValueError(msg)
        decision = ProjectionSkip.decide(
            projection=name,
            position=position,
            event_id=state.error_event_id,
            topic=state.error_topic,
            reason=reason,
            decided_by=decided_by,
        )
        # Decided before (a retried command): the store refuses a second one; hand it over.
        with contextlib.suppress(RecordConflictError):
            application.save(decision)
        with connection.transaction():
            add_skip(connection.cursor(), name, position, decision.id, reason)
    log.warning("projection_event_skipped", projection=name, position=position, by=decided_by)
    return decision.id
