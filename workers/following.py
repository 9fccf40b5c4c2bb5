"""Following the event log: run a step until the log is exhausted, then sleep until the
event store's NOTIFY (or a one-second safety poll) says there may be more."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import structlog
from psycopg import sql

from workers.outage import Backoff, current_status, is_transient

log = structlog.get_logger("workers.following")

SAFETY_POLL_SECONDS = 1.0
# A database back from an outage is found within this many seconds (the backoff's cap).
MAX_BACKOFF_SECONDS = 5.0


def listen(conninfo: str, channel: str | None) -> psycopg.Connection[Any]:
    """A connection LISTENing on the event store's channel."""
    listener = psycopg.connect(conninfo, autocommit=True)
    if channel:
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
    return listener


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
) -> None:
    """Call ``step`` (which returns how many notifications it handled) until ``stop``.
    A step that handled a full batch runs again at once; otherwise wait for a NOTIFY.
    Transient errors (``workers.outage.is_transient``, and ``also_retry``) are waited out
    with a jittered backoff (0.5 s doubling to ``max_backoff``), the worker ``retrying``
    meanwhile; others propagate (its supervisor restarts it). ``standby``: (the error a
    step raises while another process is the active one, how often to try again): waited
    out quietly at that fixed pace, so that a standby takes over soon after the leader
    goes."""
    backoff = Backoff(cap=max_backoff)
    status = current_status()
    listener: psycopg.Connection[Any] | None = None
    try:
        while not stop.is_set():
            try:
                if listener is None or listener.closed:
                    listener = listen(conninfo, channel)
                if step() < batch_size:
                    for _ in listener.notifies(timeout=SAFETY_POLL_SECONDS, stop_after=1):
                        pass
                backoff.reset()
                status.running()
            except Exception as error:
                if standby is not None and isinstance(error, standby[0]):
                    status.running()
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


def run_passes(
    run_once: Callable[[], Any],
    stop: threading.Event,
    interval_seconds: float,
    name: str,
    *,
    standby: Callable[[], bool] = lambda: False,
    standby_seconds: float = 1.0,
) -> None:
    """``run_once`` every ``interval_seconds`` until ``stop``. A failing pass is logged by
    type only (messages may hold data); after a transient failure (the database or broker
    away) the next pass comes after a jittered backoff (sooner than the interval while the
    outage is short), after any other failure at the interval. While ``standby()`` says
    the last pass found another process active, passes come every ``standby_seconds``
    (the lock is tried each time), so a standby takes over soon after the leader goes."""
    backoff = Backoff(cap=max(interval_seconds, 1.0))
    status = current_status()
    while not stop.is_set():
        try:
            run_once()
        except Exception as error:
            log.error(f"{name}_pass_failed", error_type=type(error).__name__)
            status.retrying(error)
            stop.wait(backoff.next() if is_transient(error) else interval_seconds)
            continue
        backoff.reset()
        status.running()
        stop.wait(min(interval_seconds, standby_seconds) if standby() else interval_seconds)
