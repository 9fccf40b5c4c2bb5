"""Following the event log (``workers.following.follow``), on fake listeners: a standby
reads and drops the notifications its listener holds each time it waits (a session that
listens and never reads keeps PostgreSQL from trimming its notification queue under
sustained writes) and keeps its one session; a transient error drops the listener and the
next step listens again; every listener opened is closed when the worker stops."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from workers import following


class FakeListener:
    """A listener holding ``PENDING`` notifications when opened."""

    PENDING = 3

    def __init__(self) -> None:
        self.closed = False
        self.pending = self.PENDING

    def close(self) -> None:
        self.closed = True

    def notifies(self, *, timeout: float | None = None, stop_after: int | None = None) -> Any:
        while self.pending and stop_after != 0:
            self.pending -= 1
            stop_after = None if stop_after is None else stop_after - 1
            yield object()


class NotTheLeader(Exception):
    pass


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[FakeListener]:
    listeners: list[FakeListener] = []

    def listen(conninfo: str, channel: str | None) -> FakeListener:
        listeners.append(FakeListener())
        return listeners[-1]

    monkeypatch.setattr(following, "listen", listen)
    return listeners


def run(
    step_errors: list[BaseException | None], opened: list[FakeListener]
) -> list[list[tuple[bool, int]]]:
    """``follow`` over steps raising ``step_errors`` in turn (None: a step that handled
    nothing), stopping after the last; each listener's (closed, notifications it still
    holds) as each step began."""
    stop = threading.Event()
    seen: list[list[tuple[bool, int]]] = []
    errors = iter(step_errors)

    def step() -> int:
        seen.append([(listener.closed, listener.pending) for listener in opened])
        error = next(errors, None)
        if len(seen) == len(step_errors):
            stop.set()
        if error is not None:
            raise error
        return 0

    following.follow(
        step, batch_size=10, conninfo="", channel="events", stop=stop, name="test",
        standby=(NotTheLeader, 0.0), max_backoff=0.0, safety_poll=0.0,
    )  # fmt: skip
    return seen


def test_a_standby_drains_its_listener_while_it_waits_and_keeps_its_session(
    opened: list[FakeListener],
) -> None:
    held = FakeListener.PENDING
    seen = run([NotTheLeader(), NotTheLeader(), None], opened)
    assert seen == [[(False, held)], [(False, 0)], [(False, 0)]]
    assert all(listener.closed for listener in opened)


def test_a_transient_error_drops_the_listener_and_the_next_step_listens_again(
    opened: list[FakeListener],
) -> None:
    held = FakeListener.PENDING
    seen = run([psycopg.OperationalError("the database went away"), None], opened)
    assert seen == [[(False, held)], [(True, held), (False, held)]]
    assert all(listener.closed for listener in opened)
