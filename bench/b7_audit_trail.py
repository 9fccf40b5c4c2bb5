"""B7: the account trail's first page (``GET /audit/events``, newest first, 50 entries) with
1 000 000 entries in the table (one account of 200 000 among five), over HTTP with 8
concurrent reviewers, vs the same SQL through psycopg at the same concurrency. Half the
requests filter by actor. Target: HTTP p99 ≤ 2x raw p99 + 2 ms.

    .venv/bin/python -m bench.b7_audit_trail [--quick]
"""

from __future__ import annotations

import argparse

import psycopg
from psycopg_pool import ConnectionPool

from bench.b3_channels_query import Readers, run_clients
from bench.common import (
    JWT_SECRET,
    B7Result,
    api_process,
    fresh_database,
    p99_figures,
    write_result,
)
from bench.pinning import pin_clients
from projections.audit_trail import TrailQuery, list_entries
from sms_channels.tokens import mint_token

ACCOUNTS = 5
ACCOUNT = "acc_b7_0"


def seed(url: str, entries: int) -> None:
    """``entries`` trail entries over ``ACCOUNTS`` accounts, ten facts per connection, a
    minute apart, by seven actors."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO sms_audit_trail SELECT"
            " md5('c' || (i / 10))::uuid, (i %% 10) + 1, 'acc_b7_' || ((i / 10) %% %s),"
            " 'ws_' || ((i / 10) %% 20), now() - make_interval(mins => i), 'user_' || (i %% 7),"
            " 'compliance.updated', ARRAY['brand.displayName']"
            " FROM generate_series(0, %s - 1) AS i",
            (ACCOUNTS, entries),
        )
        connection.execute("ANALYZE sms_audit_trail")


def main() -> None:
    pin_clients()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    entries, requests, clients = (50_000, 30, 8) if args.quick else (1_000_000, 150, 8)
    with fresh_database() as url:
        seed(url, entries)
        token = mint_token(
            JWT_SECRET,
            account_id=ACCOUNT,
            user_id="b7",
            permissions=("compliance.audit",),
            ttl_seconds=3600,
        )
        headers = {"Authorization": f"Bearer {token}"}
        pool = ConnectionPool(url, min_size=clients, max_size=clients, kwargs={"autocommit": True})

        def raw(i: int) -> None:
            query = TrailQuery(ACCOUNT, actor=f"user_{i % 7}" if i % 2 else None)
            with pool.connection() as connection:
                list_entries(connection.cursor(), query)

        raw(0)
        raw_latencies = run_clients(clients, requests, raw)
        with api_process(url) as (base, _):
            readers = Readers(base, headers)

            def http(i: int) -> None:
                params: dict[str, str | int] = {"actor": f"user_{i % 7}"} if i % 2 else {}
                assert len(readers.get("/audit/events", params).json()["items"]) == 50

            http(0)
            http_latencies = run_clients(clients, requests, http)
            floor_latencies = readers.floor(clients, requests)
        pool.close()
    result: B7Result = {
        "entries": entries,
        "clients": clients,
        **p99_figures(http_latencies, raw_latencies, floor_latencies),
    }
    write_result("B7-audit-trail", result)


if __name__ == "__main__":
    main()
