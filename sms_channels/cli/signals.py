"""How a worker process is told to stop: SIGTERM (the orchestrator) or SIGINT (Ctrl-C)."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM or SIGINT sets: the worker finishes what it is doing (the
    current batch, pass or step) and returns. Call it from the main thread."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop
