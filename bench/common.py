"""Shared pieces of the benchmarks: a fresh database, a real API process, percentiles,
and the result file. Every benchmark prints the service's figure, the baseline's figure
measured in the same run on the same database, and their ratio.

A result's shape is declared here once (``B1Result`` … ``B8Result``): the benchmark writes
it, ``run_all`` reads it back from its JSON file and checks it against the same shape
(``read_result``), so a renamed or missing figure fails there, by name, instead of
printing a wrong table."""

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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from eventsourcing.cipher import AESCipher
from pydantic import TypeAdapter

# pydantic validates a TypedDict of ``typing`` only from Python 3.12 on.
from typing_extensions import TypedDict

from bench.pinning import pinned, service_command
from tests.support.common import fresh_database as migrated_database

ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
JWT_SECRET = "bench-secret-" + "x" * 40
RESULTS = Path("bench/results")

T = TypeVar("T")


class Summary(TypedDict):
    """Latencies in milliseconds (``summary_ms``)."""

    p50_ms: float
    p99_ms: float
    mean_ms: float


class Rss(TypedDict):
    """A process's resident set size (KiB) before and after the load."""

    before: int
    after: int


class RssByPid(TypedDict):
    """The same for several processes, by process id."""

    before: dict[int, int]
    after: dict[int, int]


class PageFigures(TypedDict):
    """A page benchmark's figures (``p99_figures``)."""

    requests: int
    service_http: Summary
    baseline_sql: Summary
    ratio_p99: float
    target_p99_ms: float
    target_met: bool
    http_floor: Summary
    ratio_floor_p99: float
    http_floor_fits_target: bool


class B1Clients(TypedDict):
    """Commands at N clients: the service over HTTP, raw SQL inserts, and the service
    with group commit off."""

    service_commands_per_s: float
    service_latency: Summary
    raw_commands_per_s: float
    raw_latency: Summary
    ratio: float
    group_commit_off_commands_per_s: float
    group_commit_off_ratio: float
    pgbench_commands_per_s: float | None


# Functional syntax: the keys hold "=".
B1Result = TypedDict(
    "B1Result",
    {
        "N=1": B1Clients,
        "N=4": B1Clients,
        "N=16": B1Clients,
        "N=64": B1Clients,
        "target_met_at_N=4": bool,
        "B6_api_rss_kib": Rss,
    },
)


class B2Result(TypedDict):
    events: int
    connections: int
    service_events_per_s_by_projection: dict[str, int]
    service_rebuild_all_seconds: float
    raw_sql_events_per_s: int
    naive_events_per_s: int
    ratio_channels_table_vs_raw: float
    ratio_channels_table_vs_naive: float
    target_met: bool
    B6_process_rss_kib: Rss


class B3Result(PageFigures):
    rows: int
    clients: int


class B4Measured(TypedDict):
    """What the load measures; ``B4Result`` adds the baseline, measured afterwards."""

    commands: int
    rate_per_s: int
    command_to_row: Summary
    command_to_kafka: Summary
    command_to_routing_value: Summary
    projection_target_met: bool
    kafka_target_met: bool
    routing_target_met: bool
    B6_worker_rss_kib: RssByPid


class B4Result(B4Measured):
    baseline_commit: Summary


class B5Result(TypedDict):
    versions: int
    calls: int
    baseline_sql: Summary
    service_full_history: Summary
    service_point_in_time: Summary
    ratio_full_p50: float
    ratio_point_p50: float
    target_met: bool
    fetch_decrypt_parse_floor: Summary
    ratio_floor_p50: float
    service_verify: Summary
    ratio_verify_to_history_p50: float
    verify_target_met: bool


class B7Result(PageFigures):
    entries: int
    clients: int


class B8Result(TypedDict):
    rows: int
    first_load_js_bytes: int
    first_load_js_gzip_kb: float
    navigation_to_interactive_table: Summary
    sort_one_page: Summary
    last_load_breakdown_ms: dict[str, Any] | None
    target_met: bool


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
        service_command([sys.executable, "-m", "sms_channels.cli", "serve"]),
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


def summary_ms(values: list[float]) -> Summary:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else float("nan"),
    }


def p99_figures(service: list[float], baseline: list[float], floor: list[float]) -> PageFigures:
    """A page benchmark's figures: both summaries, the p99 ratio, and the target (service
    p99 within 2x the baseline's + 2 ms) with whether it is met. ``floor``: the same
    readers asking the same server for ``/healthz`` (no query, no page: what HTTP alone
    costs on this machine), with whether that alone already fits the target."""
    service_ms, baseline_ms, floor_ms = summary_ms(service), summary_ms(baseline), summary_ms(floor)
    target = 2 * baseline_ms["p99_ms"] + 2
    return {
        "requests": len(service),
        "service_http": service_ms,
        "baseline_sql": baseline_ms,
        "ratio_p99": round(service_ms["p99_ms"] / baseline_ms["p99_ms"], 2),
        "target_p99_ms": round(target, 2),
        "target_met": service_ms["p99_ms"] <= target,
        "http_floor": floor_ms,
        "ratio_floor_p99": round(floor_ms["p99_ms"] / baseline_ms["p99_ms"], 2),
        "http_floor_fits_target": floor_ms["p99_ms"] <= target,
    }


def rss_kib(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine() -> dict[str, Any]:
    """The machine as the run saw it: its cores, the load average when the result was
    written (what else ran beside the benchmark), and whether the run was pinned."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "pinned": pinned(),
    }


def write_result(name: str, result: Mapping[str, object]) -> None:
    """Print the result and write it to bench/results/NAME_TIME.json (NAME-pinned in the
    pinned pass, so the two passes of one run sit side by side)."""
    name = f"{name}-pinned" if pinned() else name
    document = {"benchmark": name, "machine": machine(), **result}
    print(json.dumps(document, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}_{int(time.time())}.json").write_text(json.dumps(document))


def read_result(name: str, shape: type[T], since: float) -> T:
    """The newest result ``name`` written since ``since`` (a ``time.time()``), checked
    against ``shape`` (extra figures are dropped). Raises when there is none, or when a
    figure the shape names is missing or of another type."""
    files = sorted(RESULTS.glob(f"{name}_*.json"))
    fresh = [f for f in files if f.stat().st_mtime >= since]
    if not fresh:
        raise FileNotFoundError(f"no {name} result under {RESULTS} since the run began")
    return TypeAdapter(shape).validate_json(fresh[-1].read_bytes())


def load_of(name: str, since: float) -> float | None:
    """The one-minute load average the newest result ``name`` since ``since`` was written
    at (what else the machine ran), or None without one."""
    files = [f for f in sorted(RESULTS.glob(f"{name}_*.json")) if f.stat().st_mtime >= since]
    if not files:
        return None
    load = json.loads(files[-1].read_bytes()).get("machine", {}).get("load_average")
    return float(load[0]) if load else None
