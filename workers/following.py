"""Following the event log: run a step until the log is exhausted, then sleep until the
event store's NOTIFY (sent by the writing transaction, so on commit) or a one-second safety
poll says there may be more. Workers that run passes on an interval (``run_passes``) wait
on the same NOTIFY (``Wakeup``): a commit wakes them at once, the interval stays the safety
net."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import structlog
from psycopg import sql

from workers.outage import Backoff, current_status, is_transient

log = structlog.get_logger("workers.following")

SAFETY_POLL_SECONDS = 1.0
# A worker waiting for a NOTIFY sees its stop within this many seconds.
STOP_CHECK_SECONDS = 1.0
# A database back from an outage is found within this many seconds (the backoff's cap).
MAX_BACKOFF_SECONDS = 5.0


def listen(conninfo: str, channel: str | None) -> psycopg.Connection[Any]:
    """A connection LISTENing on the event store's channel."""
    listener = psycopg.connect(conninfo, autocommit=True)
    if channel:
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
    return listener


def notified(listener: psycopg.Connection[Any], stop: threading.Event, seconds: float) -> bool:
    """Wait on ``listener`` until a NOTIFY (True), ``stop`` or ``seconds`` passed; ``stop``
    is seen within ``STOP_CHECK_SECONDS`` however long the wait."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        timeout = min(left, STOP_CHECK_SECONDS)
        if any(True for _ in listener.notifies(timeout=timeout, stop_after=1)):
            return True
    return False


def follow(
    step: Callable[[], int],
    *,
    batch_size: int,
    conninfo: str,
    channel: str | None,
    stop: threading.Event,
    on_retry: Callable[[BaseException], None] = lambda _: None,
    name: str,
    max_backoff: float = MAX_BACKOFF_SECONDS,
    also_retry: tuple[type[BaseException], ...] = (),
    standby: tuple[type[BaseException], float] | None = None,
    safety_poll: float = SAFETY_POLL_SECONDS,
) -> None:
    """Call ``step`` (which returns how many notifications it handled) until ``stop``.
    A step that handled a full batch runs again at once; otherwise wait for a NOTIFY.
    Transient errors (``workers.outage.is_transient``, and ``also_retry``) are waited out
    with a jittered backoff (0.5 s doubling to ``max_backoff``), the worker ``retrying``
    meanwhile; others propagate (its supervisor restarts it). ``standby``: (the error a
    step raises while another process is the active one, how often to try again): waited
    out quietly at that fixed pace, so that a standby takes over soon after the leader
    goes; it drains its listener meanwhile. ``safety_poll``: the longest wait for a NOTIFY
    before the log is read anyway."""
    backoff = Backoff(cap=max_backoff)
    status = current_status()
    listener: psycopg.Connection[Any] | None = None
    try:
        while not stop.is_set():
            try:
                if listener is None or listener.closed:
                    listener = listen(conninfo, channel)
                if step() < batch_size:
                    notified(listener, stop, safety_poll)
                backoff.reset()
                status.running()
            except Exception as error:
                if standby is not None and isinstance(error, standby[0]):
                    status.running()
                    # A session that LISTENs and never reads keeps PostgreSQL from trimming
                    # its notification queue: a standby reads and drops what came meanwhile
                    # (and keeps its session for when it leads).
                    _drain(listener)
                    stop.wait(standby[1])
                    continue
                if not (is_transient(error) or isinstance(error, also_retry)):
                    raise
                delay = backoff.next()
                log.warning(
                    "log_follower_retry",
                    worker=name,
                    error_type=type(error).__name__,
                    retry_in=round(delay, 2),
                )
                status.retrying(error)
                on_retry(error)
                if listener is not None:
                    with contextlib.suppress(Exception):
                        listener.close()
                listener = None
                stop.wait(delay)
    finally:
        if listener is not None:
            with contextlib.suppress(Exception):
                listener.close()


def _drain(listener: psycopg.Connection[Any] | None) -> None:
    """Read and drop the notifications ``listener`` holds now, without waiting (a broken
    listener is left to the next step to find)."""
    if listener is not None:
        with contextlib.suppress(Exception):
            for _ in listener.notifies(timeout=0):
                pass


def read_topics(
    recorder: Any, after: int | None, topics: Sequence[str], batch_size: int
) -> Iterator[Any]:
    """Every notification of ``topics`` after position ``after``, in log order, read in
    batches of ``batch_size`` (for the polling workers that keep their own position)."""
    start = after
    while True:
        notifications = recorder.select_notifications(
            start=start, limit=batch_size, topics=list(topics), inclusive_of_start=False
        )
        yield from notifications
        if len(notifications) < batch_size:
            return
        start = notifications[-1].id


class Wakeup:
    """The event store's NOTIFY as a wait that ends early: a worker that runs passes on an
    interval waits with ``wait`` instead of sleeping, so a commit wakes it at once. Its
    LISTEN connection opens with ``listen`` (building one opens nothing) and again after
    an error; while the database is away a wait is a plain sleep (the interval's pass, the
    safety net, meets the outage)."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self._listener: psycopg.Connection[Any] | None = None

    def listen(self) -> psycopg.Connection[Any]:
        """LISTEN from now on (a commit after this wakes the next ``wait``)."""
        if self._listener is None or self._listener.closed:
            self._listener = listen(self.conninfo, self.channel)
        return self._listener

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait until a NOTIFY, ``stop``, or ``seconds`` passed: True on a NOTIFY (those
        queued behind it are taken too: one wake-up for a burst of commits)."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            try:
                listener = self.listen()
                if notified(listener, stop, left):
                    for _ in listener.notifies(timeout=0):
                        pass
                    return True
            except psycopg.Error:
                self.close()
                stop.wait(min(left, SAFETY_POLL_SECONDS))
        return False

    def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.close()
        self._listener = None


def run_passes(
    run_once: Callable[[], Any],
    stop: threading.Event,
    interval_seconds: float,
    name: str,
    *,
    standby: Callable[[], bool] = lambda: False,
    standby_seconds: float = 1.0,
    wakeup: Wakeup | None = None,
    on_wake: Callable[[], Any] | None = None,
) -> None:
    """``run_once`` every ``interval_seconds`` until ``stop``. A failing pass is logged by
    type only (messages may hold data); after a transient failure (the database or broker
    away) the next pass comes after a jittered backoff (sooner than the interval while the
    outage is short), after any other failure at the interval. While ``standby()`` says
    the last pass found another process active, passes come every ``standby_seconds``
    (the lock is tried each time), so a standby takes over soon after the leader goes.
    ``wakeup``: between two passes, each commit to the event store runs ``on_wake``
    (default ``run_once``) at once; the interval's pass stays as the safety net."""
    backoff = Backoff(cap=max(interval_seconds, 1.0))
    status = current_status()
    try:
        while not stop.is_set():
            if wakeup is not None and not standby():
                with contextlib.suppress(psycopg.Error):
                    wakeup.listen()  # before the pass: a commit during it wakes the wait
            try:
                run_once()
            except Exception as error:
                log.error(f"{name}_pass_failed", error_type=type(error).__name__)
                status.retrying(error)
                stop.wait(backoff.next() if is_transient(error) else interval_seconds)
                continue
            backoff.reset()
            status.running()
            if standby():
                if wakeup is not None:
                    wakeup.close()  # a listener never read would hold the NOTIFY queue back
                stop.wait(min(interval_seconds, standby_seconds))
            elif wakeup is None:
                stop.wait(interval_seconds)
            else:
                _woken_passes(on_wake or run_once, wakeup, stop, interval_seconds, name)
    finally:
        if wakeup is not None:
            wakeup.close()


def _woken_passes(
    on_wake: Callable[[], Any],
    wakeup: Wakeup,
    stop: threading.Event,
    seconds: float,
    name: str,
) -> None:
    """Run ``on_wake`` at each wake-up for ``seconds`` (until the next full pass is due);
    a failing one ends the wait (the full pass comes next, with its backoff)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and wakeup.wait(stop, left):
        try:
            on_wake()
        except Exception as error:
            log.error(f"{name}_pass_failed", error_type=type(error).__name__)
            current_status().retrying(error)
            return
