"""B3: the channels table query (each sort, keyset pages of 50) over HTTP with 16
concurrent readers, vs the same SQL through psycopg at the same concurrency.
Target: HTTP p99 ≤ 2x raw p99 + 2 ms.

    .venv/bin/python -m bench.b3_channels_query [--quick] [--rows N]   (the scale curve: N rows)
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Literal

import httpx
import psycopg
from psycopg_pool import ConnectionPool

from bench.common import (
    JWT_SECRET,
    B3Result,
    api_process,
    fresh_database,
    p99_figures,
    write_result,
)
from bench.pinning import pin_clients
from projections.channels_table import ChannelsQuery, list_rows
from sms_channels.tokens import mint_token

ACCOUNT = "acc_b3"
SORTS: tuple[Literal["phoneNumber", "workspace", "knowledgeBase"], ...] = (
    "phoneNumber",
    "workspace",
    "knowledgeBase",
)


def seed(url: str, rows: int) -> None:
    """``rows`` channels-table rows of one account (the query is what is measured)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO sms_channels_rows SELECT gen_random_uuid(), gen_random_uuid(), %s,"
            " 'ws_' || (i %% 20), 'Workspace ' || (i %% 20), 'Workspace ' || (i %% 20),"
            " '+1415' || lpad(i::text, 7, '0'), 'US', '415', 'new', 'connected', true,"
            " 'agent_' || (i %% 50), 'Agent', 'kb_' || (i %% 50), 'KB ' || (i %% 50),"
            " 'KB ' || (i %% 50), 'not_submitted', 3, 8, '{}', false, 4, now(), now()"
            " FROM generate_series(1, %s) AS i",
            (ACCOUNT, rows),
        )
        connection.execute("ANALYZE sms_channels_rows")


def run_clients(clients: int, requests: int, one: Callable[[int], None]) -> list[float]:
    """``clients`` threads, each timing ``requests`` calls of ``one`` after one untimed call
    (its connection made and the server's pool grown: steady state is what is compared)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        one(number * requests)  # connects (untimed), as the raw pool's connections are open
        mine = []
        for index in range(requests):
            started = time.perf_counter()
            one(number * requests + index)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


class Readers:
    """The benchmark's HTTP readers: each thread keeps its own client to the API."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base, self.headers = base, headers
        self._local = threading.local()

    def get(self, path: str, params: dict[str, str | int] | None = None) -> httpx.Response:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(
                base_url=self.base, headers=self.headers, timeout=30
            )
        answer = client.get(path, params=params)
        answer.raise_for_status()
        return answer

    def floor(self, clients: int, requests: int) -> list[float]:
        """The same readers asking for ``/healthz``: what HTTP alone costs here."""

        def healthz(_i: int) -> None:
            self.get("/healthz")

        return run_clients(clients, requests, healthz)


def main() -> None:
    pin_clients()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    rows, requests, clients = (5_000, 30, 16) if args.quick else (100_000, 150, 16)
    rows = args.rows or rows
    with fresh_database() as url:
        seed(url, rows)
        token = mint_token(JWT_SECRET, account_id=ACCOUNT, user_id="b3", ttl_seconds=3600)
        headers = {"Authorization": f"Bearer {token}"}
        # Each request reads one page: the first, or one deep in the scan (via its cursor).
        pool = ConnectionPool(url, min_size=clients, max_size=clients, kwargs={"autocommit": True})
        cursors: dict[str, str | None] = {}
        with pool.connection() as connection:
            for sort in SORTS:
                _, cursors[sort] = list_rows(
                    connection.cursor(), ChannelsQuery(ACCOUNT, sort=sort, limit=rows // 2)
                )

        def raw(i: int) -> None:
            sort = SORTS[i % 3]
            query = ChannelsQuery(
                ACCOUNT,
                sort=sort,
                limit=50,
                cursor=cursors[sort] if i % 2 else None,
            )
            with pool.connection() as connection:
                list_rows(connection.cursor(), query)

        raw(0)
        raw_latencies = run_clients(clients, requests, raw)
        with api_process(url) as (base, _):
            readers = Readers(base, headers)

            def http(i: int) -> None:
                sort = SORTS[i % 3]
                params: dict[str, str | int] = {"sort": sort, "limit": 50}
                if i % 2 and (cursor := cursors[sort]):
                    params["cursor"] = cursor
                readers.get("/channels/sms/connections", params)

            http(0)
            http_latencies = run_clients(clients, requests, http)
            floor_latencies = readers.floor(clients, requests)
        pool.close()
    result: B3Result = {
        "rows": rows,
        "clients": clients,
        **p99_figures(http_latencies, raw_latencies, floor_latencies),
    }
    write_result("B3-channels-query", result)


if __name__ == "__main__":
    main()
