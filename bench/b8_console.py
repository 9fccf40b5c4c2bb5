"""B8: the console (ui/). First-load JavaScript gzipped; navigation → an interactive table
of 50 rows; a sort of a 10 000-row table (one server-side keyset page). Targets: ≤ 200 KB,
≤ 1 s, ≤ 300 ms per sort. Needs the built bundle (ui/dist), Node and /usr/bin/chromium.

    .venv/bin/python -m bench.b8_console [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from bench.b3_channels_query import ACCOUNT, seed
from bench.common import JWT_SECRET, B8Result, api_process, fresh_database, summary_ms, write_result
from sms_channels.tokens import mint_token

DIST = Path("ui/dist")
ROWS = 10_000
NODE = shutil.which("node") or "/usr/bin/node"


def first_load_js_gzip_bytes() -> tuple[int, int]:
    """The scripts index.html loads (and their static imports), raw and gzipped as the
    service sends them (level 6)."""
    html = (DIST / "index.html").read_text()
    scripts = re.findall(r'src="/app/(assets/[^"]+\.js)"', html)
    scripts += re.findall(r'href="/app/(assets/[^"]+\.js)"', html)  # modulepreload
    raw = b"".join((DIST / s).read_bytes() for s in dict.fromkeys(scripts))
    return len(raw), len(gzip.compress(raw, compresslevel=6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if not (DIST / "index.html").exists():
        raise SystemExit("ui/dist is missing: make install (npm) builds it")
    raw, gzipped = first_load_js_gzip_bytes()
    with fresh_database() as url:
        seed(url, ROWS)
        with api_process(url) as (base, _):
            token = mint_token(JWT_SECRET, account_id=ACCOUNT, user_id="b8", ttl_seconds=3600)
            env = {
                **os.environ,
                "B8_URL": base,
                "B8_TOKEN": token,
                "B8_LOADS": "3" if args.quick else "9",
                "B8_SORTS": "6" if args.quick else "15",
            }
            out = subprocess.run(
                [NODE, "bench/b8.mjs"],
                cwd="ui",
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            ).stdout
    measured = json.loads(out.strip().splitlines()[-1])
    navigation = summary_ms([ms / 1000 for ms in measured["navigation_ms"]])
    sort = summary_ms([ms / 1000 for ms in measured["sort_ms"]])
    result: B8Result = {
        "rows": ROWS,
        "first_load_js_bytes": raw,
        "first_load_js_gzip_kb": round(gzipped / 1024, 1),
        "navigation_to_interactive_table": navigation,
        "sort_one_page": sort,
        "last_load_breakdown_ms": measured.get("breakdown"),
        "target_met": gzipped <= 200 * 1024
        and navigation["p99_ms"] <= 1000
        and sort["p99_ms"] <= 300,
    }
    write_result("B8-console", result)


if __name__ == "__main__":
    main()
