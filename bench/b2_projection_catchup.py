"""B2 (projection catch-up): rebuild every read model from an event log of ≥ 500 000
events with the batched runner, vs a raw SQL scan of the same events plus batched
``INSERT … ON CONFLICT`` of the final rows, and vs the naive one-transaction-per-event
runner, all on the same database in the same run. Also B6 for this process (RSS before and
after). Targets: ≥ 0.5 of raw, ≥ 10x naive.

    .venv/bin/python -m bench.b2_projection_catchup [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import os
import time

import psycopg
from psycopg import sql

from bench.common import B2Result, fresh_database, rss_kib, write_result
from bench.pinning import pin_clients
from domain.application import SmsChannels
from projections.registry import PROJECTIONS
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_us_number
from tests.support.events import write_connection_history
from workers.projector import ProjectorWorker


def _truncate(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for projection in PROJECTIONS.values():
            for table in projection.tables:
                connection.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
        connection.execute("TRUNCATE sms_projection_tracking")


def _catch_up(
    application: SmsChannels, url: str, name: str, batch_size: int, limit_events: int | None = None
) -> tuple[int, float]:
    """(events applied, seconds) for projection ``name`` from position 0 into empty tables."""
    _truncate(url)
    worker = ProjectorWorker(application, PROJECTIONS[name](), url, batch_size=batch_size)
    applied = 0
    started = time.perf_counter()
    while (limit_events is None or applied < limit_events) and (step := worker.run_batch()):
        applied += step
    elapsed = time.perf_counter() - started
    worker.close()
    return applied, elapsed


def _raw(url: str, batch_size: int = 1000) -> tuple[int, float]:
    """The baseline: scan the same events in notification order (no decoding) and upsert the
    final row of each connection in batches, in plain SQL."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_rows (id uuid PRIMARY KEY,"
            " version int NOT NULL, topic text NOT NULL, size int NOT NULL)"
        )
        connection.execute("TRUNCATE bench_raw_rows")
        started, position, scanned = time.perf_counter(), 0, 0
        while True:
            with connection.transaction():
                rows = connection.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state"
                    " FROM smschannels_events WHERE notification_id > %s"
                    " ORDER BY notification_id LIMIT %s",
                    (position, batch_size),
                ).fetchall()
                if not rows:
                    break
                final = {r[1]: (r[1], r[2], r[3], len(r[4])) for r in rows}
                connection.cursor().executemany(
                    "INSERT INTO bench_raw_rows VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO UPDATE"
                    " SET version = EXCLUDED.version, topic = EXCLUDED.topic, size = EXCLUDED.size",
                    list(final.values()),
                )
            position, scanned = rows[-1][0], scanned + len(rows)
        return scanned, time.perf_counter() - started


def main() -> None:
    pin_clients()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about 5 000 events")
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    events_wanted = args.events or (5_000 if args.quick else 500_000)
    rss_before = rss_kib(os.getpid())
    with fresh_database() as url:
        application = build_application(Settings(database_url=url), SandboxProvider())
        # Five events per connection: 500 000 events are 100 000 connections.
        numbers = [unique_us_number() for _ in range(events_wanted // 5 + 1)]
        events = write_connection_history(application, "acc_bench", numbers)
        raw_events, raw_seconds = _raw(url)
        service = {name: _catch_up(application, url, name, 1000) for name in PROJECTIONS}
        # The naive runner (one transaction per event) is timed on a prefix: it is slow,
        # and its rate is what is compared.
        naive_events, naive_seconds = _catch_up(
            application, url, "channels_table", 1, 3_000 if args.quick else 10_000
        )
        application.close()
    rss_after = rss_kib(os.getpid())
    channels_events, channels_seconds = service["channels_table"]
    rate = channels_events / channels_seconds
    raw_rate = raw_events / raw_seconds
    naive_rate = naive_events / naive_seconds
    result: B2Result = {
        "events": events,
        "connections": len(numbers),
        "service_events_per_s_by_projection": {
            name: round(applied / seconds) for name, (applied, seconds) in service.items()
        },
        "service_rebuild_all_seconds": round(sum(s for _, s in service.values()), 1),
        "raw_sql_events_per_s": round(raw_rate),
        "naive_events_per_s": round(naive_rate),
        "ratio_channels_table_vs_raw": round(rate / raw_rate, 3),
        "ratio_channels_table_vs_naive": round(rate / naive_rate, 1),
        "target_met": rate >= 0.5 * raw_rate and rate >= 10 * naive_rate,
        "B6_process_rss_kib": {"before": rss_before, "after": rss_after},
    }
    write_result("B2-projection-catch-up", result)


if __name__ == "__main__":
    main()
