"""Shared pieces of the benchmarks: a fresh database, a real API process, percentiles,
and the result file. Every benchmark prints the service's figure, the baseline's figure
measured in the same run on the same database, and their ratio."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from eventsourcing.cipher import AESCipher

from tests.support import fresh_database as migrated_database

ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
JWT_SECRET = "bench-secret-" + "x" * 40
RESULTS = Path("bench/results")


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new migrated database on BENCH_DATABASE_ADMIN_URL, dropped afterwards."""
    with migrated_database(ADMIN_URL) as url:
        yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def api_process(url: str, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``sms-channels serve`` as a real uvicorn process on ``url``; yields (base URL, process)."""
    port = free_port()
    process_env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": JWT_SECRET,
        "CIPHER_KEY": AESCipher.create_key(32),
        "REGISTRATION_ID_KEY": "bench-registration-id-key-0123456789abcdef",
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        # The per-account rate limits protect the provider's bill; a load test turns them off.
        "RATE_LIMIT_CONNECT_PER_MINUTE": "0",
        "RATE_LIMIT_SEARCH_PER_MINUTE": "0",
        "RATE_LIMIT_SETTINGS_PER_MINUTE": "0",
        "RATE_LIMIT_COMPLIANCE_PER_MINUTE": "0",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sms_channels.cli", "serve"],
        env=process_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    profiler = _sampling_profiler(process.pid)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the API did not start")
        time.sleep(0.1)
    try:
        yield base, process
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its samples and exits
            profiler.wait(timeout=60)
        process.terminate()
        process.wait(timeout=30)


def _sampling_profiler(pid: int) -> subprocess.Popen[bytes] | None:
    """With BENCH_PROFILE_OUT set (``python -m bench.profile_hotspots``), py-spy samples
    the API process for as long as it serves, into that file (raw collapsed stacks)."""
    out = os.environ.get("BENCH_PROFILE_OUT")
    if not out:
        return None
    command = ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--output", out]
    return subprocess.Popen(
        [str(Path(sys.executable).parent / command[0]), *command[1:]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else float("nan"),
    }


def p99_figures(
    service: list[float], baseline: list[float], floor: list[float] | None = None
) -> dict[str, Any]:
    """A page benchmark's figures: both summaries, the p99 ratio, and the target (service
    p99 within 2x the baseline's + 2 ms) with whether it is met. ``floor``: the same
    readers asking the same server for ``/healthz`` (no query, no page: what HTTP alone
    costs on this machine), with whether that alone already fits the target."""
    service_ms, baseline_ms = summary_ms(service), summary_ms(baseline)
    target = 2 * baseline_ms["p99_ms"] + 2
    figures: dict[str, Any] = {
        "requests": len(service),
        "service_http": service_ms,
        "baseline_sql": baseline_ms,
        "ratio_p99": round(service_ms["p99_ms"] / baseline_ms["p99_ms"], 2),
        "target_p99_ms": round(target, 2),
        "target_met": service_ms["p99_ms"] <= target,
    }
    if floor is not None:
        floor_ms = summary_ms(floor)
        figures["http_floor"] = floor_ms
        figures["ratio_floor_p99"] = round(floor_ms["p99_ms"] / baseline_ms["p99_ms"], 2)
        figures["http_floor_fits_target"] = floor_ms["p99_ms"] <= target
    return figures


def rss_kib(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_result(name: str, result: dict[str, Any]) -> None:
    result = {"benchmark": name, "machine": machine(), **result}
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}_{int(time.time())}.json").write_text(json.dumps(result))
