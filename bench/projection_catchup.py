"""B2 (projection catch-up): batched runner vs the naive one-transaction-per-event runner,
on the same event log, in the same run. Prints events/s of each and their ratio; writes
the figures to bench/results/.

    .venv/bin/python -m bench.projection_catchup [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from projections.registry import PROJECTIONS
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support import unique_us_number
from tests.support_events import write_connection_history
from workers.projector import ProjectorWorker, create_schema

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _fresh_database() -> str:
    name = f"sms_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _drop(url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


def _catch_up(application: object, url: str, batch_size: int, limit_events: int | None) -> float:
    """Seconds to project the log into fresh tables (all read models) with ``batch_size``."""
    with psycopg.connect(url, autocommit=True) as connection:
        for projection in PROJECTIONS.values():
            for table in projection.tables:
                connection.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
        connection.execute("TRUNCATE sms_projection_tracking")
    started = time.perf_counter()
    for projection in PROJECTIONS.values():
        worker = ProjectorWorker(application, projection(), url, batch_size=batch_size)  # type: ignore[arg-type]
        applied = 0
        while (step := worker.run_batch()) and (limit_events is None or applied < limit_events):
            applied += step
        worker.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about 5 000 events")
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    events_wanted = args.events or (5_000 if args.quick else 100_000)
    url = _fresh_database()
    try:
        build_application(Settings(database_url=url, create_tables=True)).close()
        create_schema(url)
        application = build_application(Settings(database_url=url), SandboxProvider())
        numbers = [unique_us_number() for _ in range(events_wanted * 10 // 52)]
        events = write_connection_history(application, "acc_bench", numbers)
        batched = _catch_up(application, url, 1000, None)
        # The naive runner is timed on a prefix (it is slow); its rate is what is compared.
        naive_events = min(events, 3_000 if args.quick else 10_000)
        naive = _catch_up(application, url, 1, naive_events)
        application.close()
    finally:
        _drop(url)
    projections = len(PROJECTIONS)
    result = {
        "benchmark": "B2-projection-catch-up",
        "events": events,
        "projections": projections,
        "batched_events_per_s": round(events * projections / batched),
        "naive_events_per_s": round(naive_events * projections / naive),
    }
    result["ratio_batched_vs_naive"] = round(
        result["batched_events_per_s"] / result["naive_events_per_s"], 1
    )
    print(json.dumps(result, indent=2))
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"projection_catchup_{int(time.time())}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
