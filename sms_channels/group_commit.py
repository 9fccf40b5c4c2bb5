"""Group commit: concurrent saves of one process written to the event store in one transaction.

Every write to the events table takes the table's ``EXCLUSIVE`` lock and holds it through its
commit (so that notification ids are committed in order; the library's design), and a commit
waits for the WAL to reach the disk. Concurrent commands therefore queue for the lock, each
paying a disk flush. Here the saves that arrive while a write is in progress wait, and the
next write takes all of them at once: one lock, one ``INSERT`` of every event, one flush. No
timer: a save with nobody writing is written at once, so a lone command waits for nothing,
and groups form only under the contention that makes them pay.

Guarantees kept: a save is answered only after its events are committed; each save gets its
own notification ids; a save whose version is stale (or that otherwise cannot be written)
fails alone. When the group's ``INSERT`` is refused (a unique violation, or bad data), the
group is rolled back whole and every save of it is written again in its own transaction, as
without grouping, so only the saves that fail on their own fail. A lost database: the
group's write is tried as the fail-fast recorder tries any write, then every save of the
group fails with that error (a 503). A save that queued behind that group makes its own
attempt next, so while the database is away a save can take up to twice the usual time to
fail (a command reads before it saves, and usually fails on that read first). Only plain
saves are grouped; a call with a tracking record is written on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

from sms_channels.fail_fast_recorder import FailFastRecorder

MAX_GROUP = 64  # saves per transaction at most (bounds one transaction's size)


class _Save:
    """One caller's events, and what writing them came to."""

    __slots__ = ("done", "error", "events", "ids")

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.done = False

    def outcome(self) -> Sequence[int] | None:
        if self.error is not None:
            raise self.error
        return self.ids


class GroupCommitRecorder(FailFastRecorder):
    """``FailFastRecorder`` whose concurrent ``insert_events`` calls commit together."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue: list[_Save] = []
        self._writing = False
        self._turn = threading.Condition()
        self.groups_written = 0  # transactions that wrote more than one save (for tests)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events or any(value is not None for value in kwargs.values()):
            alone: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return alone  # nothing to write, or with a tracking record
        save = _Save(stored_events)
        with self._turn:
            self._queue.append(save)
            while self._writing and not save.done:
                self._turn.wait()
            if save.done:  # another thread wrote it in its group
                return save.outcome()
            self._writing = True
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
        try:
            self._write(group)
        finally:
            with self._turn:
                for member in group:
                    member.done = True
                self._writing = False
                self._turn.notify_all()
        return save.outcome()

    def _write(self, group: list[_Save]) -> None:
        """Write ``group``: together when it can, else each save on its own."""
        if len(group) == 1:
            self._write_alone(group[0])
            return
        events = [event for save in group for event in save.events]
        try:
            ids = super().insert_events(events)
        except (InterfaceError, OperationalError) as error:
            for save in group:
                save.error = error
            return
        except PersistenceError:  # one save's stale version or bad data: find out whose
            for save in group:
                self._write_alone(save)
            return
        except BaseException as error:
            for save in group:
                save.error = error
            raise
        self.groups_written += 1
        start = 0
        for save in group:
            end = start + len(save.events)
            save.ids = None if ids is None else list(ids[start:end])
            start = end

    def _write_alone(self, save: _Save) -> None:
        try:
            save.ids = super().insert_events(save.events)
        except Exception as error:  # the caller raises it
            save.error = error
