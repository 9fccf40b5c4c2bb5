"""Where the time goes, before changing anything: py-spy samples the process a benchmark
measures (the API server for B1, B3, B5 and B7; the catch-up process for B2) while the
benchmark runs, then this prints the functions holding the most samples, on their own
(``self``) and with what they call (``total``).

    .venv/bin/python -m bench.profile_hotspots b3 [--full] [--top 25]
    .venv/bin/python -m bench.profile_hotspots --summarise FILE

The benchmark runs in its quick mode unless ``--full``. The raw samples stay in
bench/results/profile_<name>.txt; the summaries go into bench/README.md beside each miss.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

MODULES = {
    "b1": "bench.b1_commands",
    "b2": "bench.b2_projection_catchup",
    "b3": "bench.b3_channels_query",
    "b5": "bench.b5_audit_replay",
    "b7": "bench.b7_audit_trail",
}
IN_PROCESS = {"b2"}  # the benchmark's own process does the work
# Samples that are not work: threads parked on a lock or a selector, and module imports
# (start-up, not the measured requests).
IDLE_LEAVES = ("threading.py:Condition.wait", "selectors.py:EpollSelector.select")
IMPORTING = "_find_and_load"


PROJECT = Path(__file__).resolve().parent.parent
OWN_PACKAGES = ("api", "domain", "projections", "workers", "providers", "sms_channels")


def _frame(frame: str) -> str:
    """``function (path/to/package/module.py:12)`` → ``package/module.py:function``, with
    a ``*`` in front for this service's own code."""
    name, _, where = frame.partition(" (")
    path = Path(where.rstrip(")").rsplit(":", 1)[0])
    own = "site-packages" not in path.parts and bool(set(path.parts) & set(OWN_PACKAGES))
    return f"{'*' if own else ''}{path.parent.name}/{path.name}:{name}"


def summarise(raw: Path, top: int) -> str:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = skipped = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        kept = (f for f in stack.split(";") if not f.startswith(("process ", "thread (")))
        frames = [_frame(f) for f in kept]
        idle = not frames or frames[-1].endswith(IDLE_LEAVES)
        if idle or any(f.endswith(IMPORTING) for f in frames):
            skipped += count
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [
        f"{samples} samples of work ({raw.name}; {skipped} idle or importing left out)",
        "",
        "self %  function",
    ]
    lines += [f"{100 * n / samples:6.1f}  {name}" for name, n in own.most_common(top)]
    lines += ["", "total %  function of this service (with what it calls)"]
    mine = [(name, n) for name, n in total.most_common() if name.startswith("*")][:top]
    lines += [f"{100 * n / samples:7.1f}  {name}" for name, n in mine]
    return "\n".join(lines)


def record(name: str, full: bool) -> Path:
    out = Path("bench/results") / f"profile_{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", MODULES[name], *([] if full else ["--quick"])]
    if name in IN_PROCESS:
        spy = Path(sys.executable).parent / "py-spy"
        command = [str(spy), "record", "--format", "raw", "--output", str(out), "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    else:
        env = {**os.environ, "BENCH_PROFILE_OUT": str(out)}
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("benchmark", nargs="?", choices=sorted(MODULES))
    parser.add_argument("--full", action="store_true", help="the benchmark's full mode")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--summarise", type=Path, help="only summarise this raw file")
    args = parser.parse_args()
    if args.summarise is not None:
        print(summarise(args.summarise, args.top))
        return
    if args.benchmark is None:
        parser.error("name a benchmark, or --summarise FILE")
    print(summarise(record(args.benchmark, args.full), args.top))


if __name__ == "__main__":
    main()
