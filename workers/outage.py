"""Outages, in one room: which errors a worker waits out, how long it waits, and what each
worker tells ``/readyz`` while it does.

``is_transient(error)`` is the rule every worker uses: the database or the broker away
(psycopg's errors of the connection class or with a try-again SQLSTATE, the eventsourcing
library's own ``OperationalError``/``InterfaceError`` it raises around them, a pool
timeout, any Kafka error, a socket error) is transient; a limit such as an over-long index
key, bad data, a decoding failure or a bug is not. ``Backoff`` is the wait between tries:
doubling from ``first`` to ``cap`` seconds, with jitter (a cluster of workers back from one
outage does not retry in step), reset by a success.

``supervise`` runs one worker in its own thread and restarts it, after a backoff, whenever
it ends by an error of any kind: one worker's failure never stops the others, nor the
process. Each supervised worker has a ``WorkerStatus`` in the deployment's ``WorkerHealth``
(``running``, ``retrying`` while it waits out a transient error, ``restarting`` after it
crashed, ``stopped``), with the time it entered that state and the last error's class name
only (an error's text can hold data). The loops report through ``current_status()``, the
status of the worker their thread runs (a detached one outside a supervisor).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import structlog
from eventsourcing import persistence as es
from kafka.errors import KafkaError
from psycopg_pool import PoolTimeout

log = structlog.get_logger("workers.outage")

# SQLSTATE classes that say "try again": 08 the connection, 40 a serialisation failure or
# deadlock, 53 the server out of resources (connections, memory, disk), 57 an operator's
# intervention (shutting down, starting up, a statement timeout); and 55P03 a lock timeout.
_TRY_AGAIN_CLASSES = ("08", "40", "53", "57")
_LOCK_NOT_AVAILABLE = "55P03"
# The pool, the broker or the network away.
_AWAY = (PoolTimeout, KafkaError, ConnectionError, TimeoutError)
# Errors without a SQLSTATE that mean the connection itself failed.
_CONNECTION_LOST = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    es.OperationalError,
    es.InterfaceError,
)


def is_transient(error: BaseException) -> bool:
    """Whether retrying ``error`` later can succeed: the database or broker away, not the
    data, a limit or a bug. The eventsourcing library raises its own classes with
    psycopg's error as the cause; the cause decides when there is one."""
    cause = error.__cause__
    if isinstance(error, es.PersistenceError) and isinstance(cause, psycopg.Error):
        return is_transient(cause)
    if isinstance(error, _AWAY):
        return True
    if isinstance(error, psycopg.Error) and error.sqlstate is not None:
        # The server said why: its class decides (an index key too large, 54000, is an
        # OperationalError to psycopg, and permanent).
        state = error.sqlstate
        return state[:2] in _TRY_AGAIN_CLASSES or state == _LOCK_NOT_AVAILABLE
    return isinstance(error, _CONNECTION_LOST)


class Backoff:
    """Waits between tries: ``first`` seconds doubling to ``cap``, each drawn between half
    and all of that (jitter); ``reset()`` after a success."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        """The next wait (seconds), and double the one after."""
        ceiling = self._next
        self._next = min(self._next * 2, self.cap)
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)

    def reset(self) -> None:
        self._next = self.first


RUNNING = "running"
RETRYING = "retrying"
RESTARTING = "restarting"
STOPPED = "stopped"


@dataclass(frozen=True)
class WorkerState:
    """What ``/readyz`` shows of one worker."""

    name: str
    state: str
    since: datetime
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "since": self.since.isoformat().replace("+00:00", "Z"),
            "lastError": self.last_error,
        }


class WorkerStatus:
    """One worker's state, written by its thread, read by ``/readyz`` (thread-safe)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._state = WorkerState(name, RUNNING, datetime.now(UTC), None)

    def running(self) -> None:
        self._enter(RUNNING, None)

    def retrying(self, error: BaseException) -> None:
        self._enter(RETRYING, error)

    def restarting(self, error: BaseException | None) -> None:
        """Crashed (``error``) or ended without being stopped (None): run again soon."""
        self._enter(RESTARTING, error)

    def stopped(self) -> None:
        self._enter(STOPPED, None)

    def _enter(self, state: str, error: BaseException | None) -> None:
        with self._lock:
            current = self._state
            last_error = type(error).__name__ if error is not None else current.last_error
            if current.state == state and current.last_error == last_error:
                return  # the same state goes on: ``since`` keeps its start
            since = current.since if current.state == state else datetime.now(UTC)
            self._state = WorkerState(self.name, state, since, last_error)

    @property
    def state(self) -> WorkerState:
        with self._lock:
            return self._state


class WorkerHealth:
    """The statuses of one deployment's workers (``sms-channels run`` shows them in
    ``/readyz``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: dict[str, WorkerStatus] = {}

    def status(self, name: str) -> WorkerStatus:
        with self._lock:
            return self._statuses.setdefault(name, WorkerStatus(name))

    def states(self) -> list[WorkerState]:
        with self._lock:
            statuses = list(self._statuses.values())
        return sorted((s.state for s in statuses), key=lambda s: s.name)


_current = threading.local()


def current_status() -> WorkerStatus:
    """The status of the worker this thread runs (set by ``supervise``; a detached one
    for a worker run outside a supervisor, e.g. by a test)."""
    status = getattr(_current, "status", None)
    if status is None:
        status = WorkerStatus(threading.current_thread().name)
        _current.status = status
    return status


# A crashed worker is restarted after this backoff (the first restart within a second).
RESTART_BACKOFF = (1.0, 30.0)


def supervise(
    name: str,
    run: Callable[[threading.Event], None],
    stop: threading.Event,
    health: WorkerHealth,
    *,
    on_crash: Callable[[], None] = lambda: None,
    backoff: tuple[float, float] = RESTART_BACKOFF,
) -> threading.Thread:
    """Start ``run(stop)`` in a daemon thread named ``name`` and keep it running until
    ``stop``: when it raises, log the error's class, mark it ``restarting``, call
    ``on_crash`` (e.g. drop its connections), wait a backoff (``backoff``: the first and
    the longest wait) and run it again."""
    status = health.status(name)

    def supervised() -> None:
        _current.status = status
        restarts = Backoff(*backoff)
        while not stop.is_set():
            started = time.monotonic()
            try:
                run(stop)
            except Exception as error:
                if time.monotonic() - started > restarts.cap:
                    restarts.reset()  # it ran well for a while: a new trouble, a short wait
                delay = restarts.next()
                log.exception(
                    "worker_crashed", worker=name, error_type=type(error).__name__, retry_in=delay
                )
                status.restarting(error)
                try:
                    on_crash()
                except Exception as cleanup:
                    log.warning(
                        "worker_cleanup_failed", worker=name, error_type=type(cleanup).__name__
                    )
                stop.wait(delay)
                continue
            if not stop.is_set():  # a worker's loop ends only on stop: run it again
                status.restarting(None)
                stop.wait(restarts.next())
        status.stopped()

    thread = threading.Thread(target=supervised, name=name, daemon=True)
    thread.start()
    return thread
