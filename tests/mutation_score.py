"""The score of the last `make mutate` run, per module, and its surviving mutants.

Reads mutmut's result files (``mutants/**/*.py.meta``) and tests/MUTANTS.md, whose table
rows name surviving mutants (exact names or ``fnmatch`` patterns) with the reason each one
is left alive. Prints every module's score and every survivor, marking those MUTANTS.md
does not explain; exits 1 when a survivor is unexplained or ``domain/`` scores below
``TARGET``.

Usage: python -m tests.mutation_score  (after `mutmut run`; `make mutate` runs both)
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS_DIR = ROOT / "mutants"
EXPLANATIONS = ROOT / "tests" / "MUTANTS.md"
TARGET = 0.90  # of domain/'s mutants killed

KILLED = {1, 3, 36, -24, 24, 152, 255}  # a failing test, or the mutant hung (timeout)
SURVIVED = {0}
NO_TESTS = {5, 33}


def results() -> dict[str, str]:
    """Mutant name → killed / survived / no tests / other."""
    outcome: dict[str, str] = {}
    for meta in sorted(MUTANTS_DIR.rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            outcome[name] = _status(code)
    return outcome


def _status(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    return "not run" if code is None else "other"


def explained_patterns() -> list[str]:
    """The first backticked name of each table row of MUTANTS.md."""
    rows = EXPLANATIONS.read_text().splitlines() if EXPLANATIONS.exists() else []
    return [m.group(1) for row in rows if (m := re.match(r"\|\s*`([^`]+)`", row))]


def module_of(mutant: str) -> str:
    return mutant.split(".x", maxsplit=1)[0]


def tally(outcome: dict[str, str], prefix: str = "") -> tuple[int, int]:
    """(killed, judged) over the mutants whose name starts with ``prefix``."""
    statuses = [status for name, status in outcome.items() if name.startswith(prefix)]
    killed = statuses.count("killed")
    return killed, killed + statuses.count("survived") + statuses.count("no tests")


def score_line(label: str, killed: int, judged: int) -> str:
    return f"{label:40} {killed:7} {judged - killed:6} {killed / max(judged, 1):7.1%}"


def report(outcome: dict[str, str], patterns: list[str]) -> int:
    """Print the scores and survivors; the exit status (1: below target or unexplained)."""
    print(f"{'module':40} {'killed':>7} {'alive':>6} {'score':>7}")
    for module in sorted({module_of(name) for name in outcome}):
        print(score_line(module, *tally(outcome, module + ".x")))
    print()
    print(score_line("all", *tally(outcome)))
    killed, judged = tally(outcome, "domain.")
    print(score_line("domain/", killed, judged))
    failed = killed < TARGET * judged
    print("\nsurvivors (! = not explained in tests/MUTANTS.md):")
    for name, status in sorted(outcome.items()):
        if status not in ("survived", "no tests"):
            continue
        explained = any(fnmatch.fnmatchcase(name, p) for p in patterns)
        failed |= not explained
        print(f"  {' ' if explained else '!'} {name}  [{status}]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(report(results(), explained_patterns()))
