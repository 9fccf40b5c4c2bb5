"""B1: connect + compliance commands over HTTP (a real uvicorn process) with N = 1, 4, 16, 64
concurrent clients, vs raw SQL writing the same event rows (same count, same size, the same
three transactions per connect + compliance, each taking the events table's lock as the
event store does) at the same concurrency, from Python and from pgbench (PostgreSQL's own
client, no Python on the client side: what the database alone allows on this machine). Also
B6's API side: the API's RSS before and after. Target: ≥ 0.5 of the raw rate at N = 4.

    .venv/bin/python -m bench.b1_commands [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

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
from bench.pinning import pin_clients
from sms_channels.tokens import mint_token
from tests.support.common import unique_us_number

CONCURRENCY = (1, 4, 16, 64)

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


# One script run = a connect (request + claim, then the outcome) and a compliance save: three
# transactions, each behind the events table's lock, rows of the service's average size.
_ROW = "(md5(random()::text)::uuid, {version}, '{topic}', decode(repeat('ab', {size}), 'hex'))"
_INSERT = "INSERT INTO bench_raw_events (originator_id, originator_version, topic, state) VALUES "
_LOCK = "LOCK TABLE bench_raw_events IN EXCLUSIVE MODE;"


def pgbench_script(size: int) -> str:
    def row(version: int, topic: str) -> str:
        return _ROW.format(version=version, topic=topic, size=size)

    transactions = (
        [row(1, "requested"), row(1, "claim")],
        [row(2, "connected")],
        [row(3, "compliance")],
    )
    return "".join(f"BEGIN;\n{_LOCK}\n{_INSERT}{', '.join(rows)};\nEND;\n" for rows in transactions)


def pgbench_rate(url: str, clients: int, size: int, seconds: int) -> float | None:
    """Commands/s (two per script: a connect's two transactions and a compliance save's one)
    that pgbench reaches with ``clients`` connections for ``seconds``; None without pgbench."""
    found = shutil.which("pgbench") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)), None
    )
    if found is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(pgbench_script(size))
        script.flush()
        command = [str(found), "-n", "-f", script.name, "-c", str(clients), "-j",
                   str(min(clients, 2)), "-T", str(seconds), url]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    return round(2 * float(match.group(1)), 1) if match else None


def service_rates(
    url: str, per_client_total: int, **env: str
) -> tuple[dict[int, tuple[float, Summary]], tuple[int, int]]:
    """Commands/s and latencies at each N of CONCURRENCY against a fresh API process started with
    ``env``; and the process's RSS (KiB) before and after."""
    with api_process(url, **env) as (base, process):
        rss_before = rss_kib(process.pid)
        http_commands(base, 3)(99)  # warm up
        rates = {}
        for clients in CONCURRENCY:
            iterations = max(2, per_client_total // clients)
            elapsed, latencies = in_threads(clients, http_commands(base, iterations))
            rates[clients] = (len(latencies) / elapsed, summary_ms(latencies))
        return rates, (rss_before, rss_kib(process.pid))


def main() -> None:
    pin_clients()
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
        for clients in CONCURRENCY:
            iterations = max(2, per_client_total // clients)
            elapsed, latencies = in_threads(clients, raw_commands(url, iterations, state))
            baseline[clients] = (len(latencies) / elapsed, summary_ms(latencies))
        seconds = 3 if args.quick else 10
        pgbench = {n: pgbench_rate(url, n, len(state), seconds) for n in CONCURRENCY}
    at: dict[int, B1Clients] = {}
    for clients in CONCURRENCY:
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
            "pgbench_commands_per_s": pgbench[clients],
        }
    results: B1Result = {
        "N=1": at[1],
        "N=4": at[4],
        "N=16": at[16],
        "N=64": at[64],
        "target_met_at_N=4": at[4]["ratio"] >= 0.5,
        "B6_api_rss_kib": {"before": rss_before, "after": rss_after},
    }
    write_result("B1-commands", results)


if __name__ == "__main__":
    main()
