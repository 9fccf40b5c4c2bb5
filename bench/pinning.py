"""Pinned runs (``BENCH_PIN=1``, set by ``make bench`` for its second pass): the benchmark's
own process (its clients, and what it runs in threads, such as the embedded broker) on one
core, the service (the API and worker processes it starts, and PostgreSQL) on the other, so
the two halves stop taking each other's core. Unpinned (the default) nothing moves.

PostgreSQL is pinned by moving the postmaster and its running backends (``taskset -a -p``):
backends forked later inherit the postmaster's mask. ``pinned_database`` gives every core
back afterwards. Needs ``taskset`` (util-linux) and the right to change those processes'
affinity (root, or the postgres user); without them the run says so and stays unpinned."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLIENT_CPU = 0
SERVICE_CPU = 1


def pinned() -> bool:
    """True in the pinned pass (``BENCH_PIN=1``) on a machine with two cores or more."""
    return os.environ.get("BENCH_PIN") == "1" and (os.cpu_count() or 1) >= 2


def pin_clients() -> None:
    """Move this process (and the threads it starts afterwards) to the clients' core."""
    if pinned():
        os.sched_setaffinity(0, {CLIENT_CPU})


def service_command(argv: list[str]) -> list[str]:
    """``argv`` started on the service's core in the pinned pass, as it is otherwise."""
    taskset = shutil.which("taskset")
    if pinned() and taskset:
        return [taskset, "-c", str(SERVICE_CPU), *argv]
    return argv


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in {"postgres", "postmaster"}:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _set_affinity(pids: list[int], cpus: str) -> bool:
    taskset = shutil.which("taskset") or "/usr/bin/taskset"
    moved = False
    for pid in pids:
        result = subprocess.run(
            [taskset, "-a", "-cp", cpus, str(pid)], capture_output=True, check=False
        )
        moved = moved or result.returncode == 0
    return moved


@contextmanager
def pinned_database() -> Iterator[bool]:
    """PostgreSQL's processes on the service's core while the block runs; yields whether
    they could be moved. Every core is given back at the end."""
    if not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        yield False
        return
    every_core = f"0-{(os.cpu_count() or 1) - 1}"
    moved = _set_affinity(_postgres_pids(), str(SERVICE_CPU))
    try:
        yield moved
    finally:
        _set_affinity(_postgres_pids(), every_core)
