"""B1: connect + compliance commands over HTTP (a real uvicorn process) with N = 1, 4, 16
concurrent clients, vs raw SQL writing the same event rows (same count, same size, one
transaction per command) at the same concurrency. Also B6's API side: the API's RSS before
and after. Target: ≥ 0.5 of the raw rate at N = 4.

    .venv/bin/python -m bench.b1_commands [--quick]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import psycopg

from bench.common import (
    JWT_SECRET,
    B1Clients,
    B1Result,
    Summary,
    api_process,
    fresh_database,
    rss_kib,
    summary_ms,
    write_result,
)
from sms_channels.tokens import mint_token
from tests.support import unique_us_number

COMPLIANCE = {
    "brand": {
        "displayName": "Acme Dental",
        "entity": "PRIVATE_PROFIT",
        "city": "San Francisco",
        "zipCode": "94107",
    },
    "campaign": {
        "messageSamples": ["Acme Dental: your visit is tomorrow at 9am."],
        "optOutMessage": "Acme Dental: you are unsubscribed. Reply START.",
    },
}


def in_threads(clients: int, work: Callable[[int], list[float]]) -> tuple[float, list[float]]:
    """Run ``work(client)`` in ``clients`` threads; (elapsed seconds, all latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()

    errors: list[BaseException] = []

    def client(number: int) -> None:
        try:
            mine = work(number)
        except BaseException as error:  # reported below: a failed run has no figure
            errors.append(error)
            return
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started, latencies


def http_commands(base: str, iterations: int) -> Callable[[int], list[float]]:
    def work(client: int) -> list[float]:
        token = mint_token(JWT_SECRET, account_id=f"acc_b1_{client}", user_id="u")
        latencies = []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            for _ in range(iterations):
                started = time.perf_counter()
                created = http.post(
                    "/channels/sms/connect",
                    json={
                        "mode": "new",
                        "countryCode": "US",
                        "phoneNumber": unique_us_number(),
                        "workspaceId": "ws",
                        "agentId": "agent",
                    },
                )
                created.raise_for_status()
                middle = time.perf_counter()
                http.put(
                    f"/channels/sms/connections/{created.json()['id']}/compliance",
                    json=COMPLIANCE,
                    headers={"If-Match": created.headers["ETag"]},
                ).raise_for_status()
                latencies += [middle - started, time.perf_counter() - middle]
        return latencies

    return work


def raw_commands(url: str, iterations: int, state: bytes) -> Callable[[int], list[float]]:
    """The same writes as the service's commands, by hand: connect = requested + claim rows,
    then a connected row (two transactions); compliance = one row."""
    insert = (
        "INSERT INTO bench_raw_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s)"
    )

    def work(_client: int) -> list[float]:
        latencies = []
        with psycopg.connect(url, autocommit=True) as connection:
            for _ in range(iterations):
                connection_id, claim_id = uuid.uuid4(), uuid.uuid4()
                started = time.perf_counter()
                with connection.transaction():
                    connection.execute("LOCK TABLE bench_raw_events IN EXCLUSIVE MODE")
                    connection.execute(insert, (connection_id, 1, "requested", state))
                    connection.execute(insert, (claim_id, 1, "claim", state))
                with connection.transaction():
                    connection.execute("LOCK TABLE bench_raw_events IN EXCLUSIVE MODE")
                    connection.execute(insert, (connection_id, 2, "connected", state))
                middle = time.perf_counter()
                with connection.transaction():
                    connection.execute("LOCK TABLE bench_raw_events IN EXCLUSIVE MODE")
                    connection.execute(insert, (connection_id, 3, "compliance", state))
                latencies += [middle - started, time.perf_counter() - middle]
        return latencies

    return work


def service_rates(
    url: str, per_client_total: int, **env: str
) -> tuple[dict[int, tuple[float, Summary]], tuple[int, int]]:
    """Commands/s and latencies at N = 1, 4, 16 against a fresh API process started with
    ``env``; and the process's RSS (KiB) before and after."""
    with api_process(url, **env) as (base, process):
        rss_before = rss_kib(process.pid)
        http_commands(base, 3)(99)  # warm up
        rates = {}
        for clients in (1, 4, 16):
            iterations = max(2, per_client_total // clients)
            elapsed, latencies = in_threads(clients, http_commands(base, iterations))
            rates[clients] = (len(latencies) / elapsed, summary_ms(latencies))
        return rates, (rss_before, rss_kib(process.pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_client_total = 40 if args.quick else 400  # iterations shared among the clients
    with fresh_database() as url:
        service, (rss_before, rss_after) = service_rates(url, per_client_total)
        # The same commands with group commit off (EVENT_STORE_GROUP_COMMIT=false): what
        # grouping saves is measured in the same run, not assumed.
        ungrouped, _ = service_rates(url, per_client_total, EVENT_STORE_GROUP_COMMIT="false")
        with psycopg.connect(url, autocommit=True) as connection:
            size = connection.execute(
                "SELECT avg(octet_length(state))::int FROM smschannels_events"
            ).fetchone()
            connection.execute(
                "CREATE TABLE bench_raw_events (LIKE smschannels_events"
                " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"
            )
        state = os.urandom(size[0] if size and size[0] else 400)
        baseline = {}
        for clients in (1, 4, 16):
            iterations = max(2, per_client_total // clients)
            elapsed, latencies = in_threads(clients, raw_commands(url, iterations, state))
            baseline[clients] = (len(latencies) / elapsed, summary_ms(latencies))
    at: dict[int, B1Clients] = {}
    for clients in (1, 4, 16):
        rate, latency = service[clients]
        raw_rate, raw_latency = baseline[clients]
        at[clients] = {
            "service_commands_per_s": round(rate, 1),
            "service_latency": latency,
            "raw_commands_per_s": round(raw_rate, 1),
            "raw_latency": raw_latency,
            "ratio": round(rate / raw_rate, 3),
            "group_commit_off_commands_per_s": round(ungrouped[clients][0], 1),
            "group_commit_off_ratio": round(ungrouped[clients][0] / raw_rate, 3),
        }
    results: B1Result = {
        "N=1": at[1],
        "N=4": at[4],
        "N=16": at[16],
        "target_met_at_N=4": at[4]["ratio"] >= 0.5,
        "B6_api_rss_kib": {"before": rss_before, "after": rss_after},
    }
    write_result("B1-commands", results)


if __name__ == "__main__":
    main()
