"""Runs every benchmark (B1 to B8; B8, the console, when ui/dist, node and /usr/bin/chromium
are there) and prints one table: the service's figure, the baseline's
figure from the same run, their ratio, and whether the target is met. Each benchmark also
writes its JSON under bench/results/.

    .venv/bin/python -m bench.run_all [--quick]     (make bench / make bench-quick)
"""

from __future__ import annotations

import argparse
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
    read_result,
)

BENCHMARKS = ("b1_commands", "b2_projection_catchup", "b3_channels_query", "b4_latency",
              "b5_audit_replay", "b7_audit_trail")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    started = time.time()
    for name in BENCHMARKS:
        print(f"--- {name}", flush=True)
        command = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    console = Path("ui/dist/index.html").exists() and shutil.which("node") is not None
    console = console and Path("/usr/bin/chromium").exists()
    if console:
        print("--- b8_console", flush=True)
        command = [sys.executable, "-m", "bench.b8_console", *(["--quick"] if args.quick else [])]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    b1 = read_result("B1-commands", B1Result, started)
    b2 = read_result("B2-projection-catch-up", B2Result, started)
    b3 = read_result("B3-channels-query", B3Result, started)
    b4 = read_result("B4-latency", B4Result, started)
    b5 = read_result("B5-audit-replay", B5Result, started)
    b7 = read_result("B7-audit-trail", B7Result, started)
    rows = [
        ("B1 commands/s, N=4 (HTTP vs raw SQL)", b1["N=4"]["service_commands_per_s"],
         b1["N=4"]["raw_commands_per_s"], b1["N=4"]["ratio"], "≥ 0.5", b1["target_met_at_N=4"]),
        ("  B1 the same, group commit off (same run)",
         b1["N=4"]["group_commit_off_commands_per_s"], b1["N=4"]["raw_commands_per_s"],
         b1["N=4"]["group_commit_off_ratio"], "(comparison)", None),
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
    print(f"{'benchmark':52} {'service':>10} {'baseline':>10} {'ratio':>7}  target")
    for label, service, baseline, ratio, target, met in rows:
        mark = "" if met is None else (" met" if met else " not met")
        print(f"{label:52} {service!s:>10} {baseline!s:>10} {ratio!s:>7}  {target}{mark}")
    print("B6 RSS KiB: API", b1["B6_api_rss_kib"], "| workers", b4["B6_worker_rss_kib"],
          "| catch-up process", b2["B6_process_rss_kib"])  # fmt: skip
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
