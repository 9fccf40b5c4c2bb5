"""Runs every benchmark (B1 to B8; B8, the console, when ui/dist, node and /usr/bin/chromium
are there) twice, unpinned and then pinned (``bench.pinning``: the clients on one core, the
service and PostgreSQL on the other), and prints one table: the service's figure, the
baseline's figure from the same run, their ratio, whether the target is met, the same three
figures of the pinned pass, and the machine's load average as each result was written. Each
benchmark also writes its JSON under bench/results/ (``NAME-pinned_…`` for the second pass).

    .venv/bin/python -m bench.run_all [--quick] [--unpinned-only]     (make bench / bench-quick)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    B1Result,
    B2Result,
    B3Result,
    B4Result,
    B5Result,
    B7Result,
    B8Result,
    load_of,
    read_result,
)
from bench.pinning import pinned_database

BENCHMARKS = ("b1_commands", "b2_projection_catchup", "b3_channels_query", "b4_latency",
              "b5_audit_replay", "b7_audit_trail")  # fmt: skip


Row = tuple[str, object, object, object, str, bool | None]


def run_benchmarks(quick: bool, pin: bool) -> None:
    env = {**os.environ, "BENCH_PIN": "1" if pin else "0"}
    for name in BENCHMARKS:
        print(f"--- {name}{' (pinned)' if pin else ''}", flush=True)
        command = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if quick else [])]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)


def table(started: float, suffix: str) -> tuple[list[Row], list[float | None]]:
    """The table's rows from the results written since ``started`` (``suffix`` "-pinned":
    the pinned pass's), and beside each row the load average its result was written at."""
    b1 = read_result("B1-commands" + suffix, B1Result, started)
    b2 = read_result("B2-projection-catch-up" + suffix, B2Result, started)
    b3 = read_result("B3-channels-query" + suffix, B3Result, started)
    b4 = read_result("B4-latency" + suffix, B4Result, started)
    b5 = read_result("B5-audit-replay" + suffix, B5Result, started)
    b7 = read_result("B7-audit-trail" + suffix, B7Result, started)
    b1_at: list[Row] = [
        (f"  B1 commands/s, N={n} (HTTP vs raw SQL; pgbench {at['pgbench_commands_per_s']})",
         at["service_commands_per_s"], at["raw_commands_per_s"], at["ratio"], "(curve)", None)
        for n, at in ((1, b1["N=1"]), (16, b1["N=16"]), (64, b1["N=64"]))
    ]  # fmt: skip
    rows: list[Row] = [
        ("B1 commands/s, N=4 (HTTP vs raw SQL)", b1["N=4"]["service_commands_per_s"],
         b1["N=4"]["raw_commands_per_s"], b1["N=4"]["ratio"], "≥ 0.5", b1["target_met_at_N=4"]),
        ("  B1 the same, group commit off (same run)",
         b1["N=4"]["group_commit_off_commands_per_s"], b1["N=4"]["raw_commands_per_s"],
         b1["N=4"]["group_commit_off_ratio"], "(comparison)", None),
        ("  B1 N=4 vs pgbench (same three transactions)", b1["N=4"]["service_commands_per_s"],
         b1["N=4"]["pgbench_commands_per_s"], None, "(comparison)", None),
        *b1_at,
        ("B2 catch-up events/s (channels table vs raw SQL)",
         b2["service_events_per_s_by_projection"]["channels_table"],
         b2["raw_sql_events_per_s"], b2["ratio_channels_table_vs_raw"], "≥ 0.5",
         b2["ratio_channels_table_vs_raw"] >= 0.5),
        ("B2 catch-up vs naive per-event runner",
         b2["service_events_per_s_by_projection"]["channels_table"],
         b2["naive_events_per_s"], b2["ratio_channels_table_vs_naive"], "≥ 10",
         b2["ratio_channels_table_vs_naive"] >= 10),
        ("B3 list p99 ms (HTTP vs SQL)", b3["service_http"]["p99_ms"],
         b3["baseline_sql"]["p99_ms"], b3["ratio_p99"], "≤ 2x + 2 ms", b3["target_met"]),
        ("  B3 HTTP floor p99 ms (/healthz, same readers)", b3["http_floor"]["p99_ms"],
         b3["baseline_sql"]["p99_ms"], b3["ratio_floor_p99"], "(floor)", None),
        ("B4 command → row p99 ms (vs one commit)", b4["command_to_row"]["p99_ms"],
         b4["baseline_commit"]["p99_ms"], None, "≤ 20 ms", b4["projection_target_met"]),
        ("B4 command → Kafka p99 ms", b4["command_to_kafka"]["p99_ms"],
         b4["baseline_commit"]["p99_ms"], None, "≤ 100 ms", b4["kafka_target_met"]),
        ("B4 command → routing value p99 ms", b4["command_to_routing_value"]["p99_ms"],
         b4["baseline_commit"]["p99_ms"], None, "≤ 100 ms", b4["routing_target_met"]),
        ("B5 audit history p50 ms (vs raw SQL)", b5["service_full_history"]["p50_ms"],
         b5["baseline_sql"]["p50_ms"], b5["ratio_full_p50"], "≤ 3x", b5["target_met"]),
        ("  B5 fetch + decrypt + parse p50 ms (floor)", b5["fetch_decrypt_parse_floor"]["p50_ms"],
         b5["baseline_sql"]["p50_ms"], b5["ratio_floor_p50"], "(floor)", None),
        ("B5 verify p50 ms (vs reading the history)", b5["service_verify"]["p50_ms"],
         b5["service_full_history"]["p50_ms"], b5["ratio_verify_to_history_p50"], "≤ 2x",
         b5["verify_target_met"]),
        ("B7 trail first page p99 ms (HTTP vs SQL)", b7["service_http"]["p99_ms"],
         b7["baseline_sql"]["p99_ms"], b7["ratio_p99"], "≤ 2x + 2 ms", b7["target_met"]),
        ("  B7 HTTP floor p99 ms (/healthz, same readers)", b7["http_floor"]["p99_ms"],
         b7["baseline_sql"]["p99_ms"], b7["ratio_floor_p99"], "(floor)", None),
    ]  # fmt: skip
    names = ["B1-commands"] * (3 + len(b1_at)) + ["B2-projection-catch-up"] * 2
    names += ["B3-channels-query"] * 2 + ["B4-latency"] * 3 + ["B5-audit-replay"] * 3
    names += ["B7-audit-trail"] * 2
    loads = [load_of(name + suffix, started) for name in names]
    if suffix == "":
        print("B6 RSS KiB: API", b1["B6_api_rss_kib"], "| workers", b4["B6_worker_rss_kib"],
              "| catch-up process", b2["B6_process_rss_kib"])  # fmt: skip
    return rows, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--unpinned-only", action="store_true", help="skip the pinned pass")
    args = parser.parse_args()
    started = time.time()
    run_benchmarks(args.quick, pin=False)
    console = Path("ui/dist/index.html").exists() and shutil.which("node") is not None
    console = console and Path("/usr/bin/chromium").exists()
    if console:
        print("--- b8_console", flush=True)
        command = [sys.executable, "-m", "bench.b8_console", *(["--quick"] if args.quick else [])]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with_pins = not args.unpinned_only and (os.cpu_count() or 1) >= 2
    if with_pins:
        with pinned_database() as moved:
            if not moved:
                print(
                    "PostgreSQL could not be pinned (taskset, rights): the pinned pass is skipped"
                )
                with_pins = False
            else:
                run_benchmarks(args.quick, pin=True)
    rows, loads = table(started, "")
    pinned_rows = table(started, "-pinned")[0] if with_pins else [None] * len(rows)
    print(f"{'benchmark':62} {'service':>9} {'baseline':>9} {'ratio':>6}  {'target':<24}"
          f" {'pinned: service':>15} {'baseline':>9} {'ratio':>6}  load")  # fmt: skip
    for (label, service, baseline, ratio, target, met), pin, load in zip(
        rows, pinned_rows, loads, strict=True
    ):
        mark = "" if met is None else (" met" if met else " not met")
        pins = ("", "", "") if pin is None else (pin[1], pin[2], pin[3])
        print(f"{label:62} {service!s:>9} {baseline!s:>9} {ratio!s:>6}  {target + mark:<24}"
              f" {pins[0]!s:>15} {pins[1]!s:>9} {pins[2]!s:>6}  {load}")  # fmt: skip
    b8 = read_result("B8-console", B8Result, started) if console else None
    if b8 is not None:
        print("B8 console: first-load JS", b8["first_load_js_gzip_kb"], "KB gzipped (≤ 200)",
              "| navigation → 50 rows p50/p99 ms", b8["navigation_to_interactive_table"],
              "(≤ 1000) | sort of 10 000 rows p50/p99 ms", b8["sort_one_page"], "(≤ 300)",
              "met" if b8["target_met"] else "not met")  # fmt: skip
    else:
        print("B8 console: skipped (needs ui/dist, node and /usr/bin/chromium)")


if __name__ == "__main__":
    main()
