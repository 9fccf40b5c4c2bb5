"""B5: audit replay of a connection with 1 000 compliance versions (encrypted at rest):
the full history and a point-in-time read over HTTP, vs reading the same 1 000 event rows
by raw SQL (target: ≤ 3x raw); and ``…/history/verify``, recomputing the hash chain of the
same facts, vs reading the history (target: verify p50 ≤ 2x history p50). Also a floor in
the same run: fetching, decrypting and parsing the same rows with no HTTP and no objects.

    .venv/bin/python -m bench.b5_audit_replay [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from uuid import uuid4

import httpx
import orjson
import psycopg
from eventsourcing.cipher import AESCipher
from eventsourcing.cryptography import AESCipher as ServiceCipher
from eventsourcing.utils import Environment
from pydantic import SecretStr

from bench.common import JWT_SECRET, B5Result, api_process, fresh_database, summary_ms, write_result
from bench.pinning import pin_clients
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from sms_channels.tokens import mint_token

ACCOUNT = "acc_b5"


def seed(url: str, cipher_key: str, versions: int) -> str:
    app = build_application(
        Settings(database_url=url, cipher_key=SecretStr(cipher_key)), SandboxProvider()
    )
    connection = SmsConnection.request(
        connection_id=uuid4(),
        account_id=ACCOUNT,
        workspace_id="ws",
        agent_id="a",
        mode="new",
        country="US",
        area_code=None,
        phone_number="+14155550123",
        requested_by="u",
    )
    for version in range(versions):
        connection.update_compliance(
            {
                "brand": {"displayName": f"Acme {version}", "city": "San Francisco"},
                "campaign": {
                    "messageSamples": [f"Acme: reminder {version}. Reply STOP to opt out."],
                    "helpMessage": "Acme: reply HELP or call us.",
                },
            },
            by=f"user_{version % 7}",
        )
    app.save(connection)
    app.close()
    return str(connection.id)


def timed(calls: int, call: Callable[[], object]) -> list[float]:
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return latencies


def main() -> None:
    pin_clients()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    versions, calls = (1_000, 5) if args.quick else (1_000, 30)
    key = AESCipher.create_key(32)
    with fresh_database() as url:
        connection_id = seed(url, key, versions)
        with psycopg.connect(url) as db:

            def raw() -> None:
                db.execute(
                    "SELECT * FROM smschannels_events WHERE originator_id = %s"
                    " ORDER BY originator_version",
                    (connection_id,),
                ).fetchall()

            raw()
            baseline = timed(calls, raw)
            cipher = ServiceCipher(Environment(env={"CIPHER_KEY": key}))

            def decrypted() -> None:
                """The least any reader of these facts must do: fetch, decrypt (AES-GCM,
                the service's cipher) and parse each one (orjson), building nothing."""
                rows = db.execute(
                    "SELECT state FROM smschannels_events WHERE originator_id = %s"
                    " ORDER BY originator_version",
                    (connection_id,),
                ).fetchall()
                for (state,) in rows:
                    orjson.loads(cipher.decrypt(state))

            decrypted()
            floor = timed(calls, decrypted)
        token = mint_token(
            JWT_SECRET, account_id=ACCOUNT, user_id="auditor", permissions=("compliance.audit",)
        )
        with (
            api_process(url, CIPHER_KEY=key) as (base, _),
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client,
        ):
            path = f"/channels/sms/connections/{connection_id}/compliance/history"
            assert len(client.get(path).json()["versions"]) == versions
            full = timed(calls, lambda: client.get(path).raise_for_status())
            point = timed(
                calls,
                lambda: client.get(path, params={"asOfVersion": versions // 2}).raise_for_status(),
            )
            verified = client.get(path + "/verify").json()
            assert (verified["verified"], verified["facts"]) == (True, versions + 1), verified
            verify = timed(calls, lambda: client.get(path + "/verify").raise_for_status())
    raw_ms, full_ms, point_ms = summary_ms(baseline), summary_ms(full), summary_ms(point)
    verify_ms, floor_ms = summary_ms(verify), summary_ms(floor)
    result: B5Result = {
        "versions": versions,
        "calls": calls,
        "baseline_sql": raw_ms,
        "service_full_history": full_ms,
        "service_point_in_time": point_ms,
        "ratio_full_p50": round(full_ms["p50_ms"] / raw_ms["p50_ms"], 2),
        "ratio_point_p50": round(point_ms["p50_ms"] / raw_ms["p50_ms"], 2),
        "target_met": full_ms["p50_ms"] <= 3 * raw_ms["p50_ms"],
        "fetch_decrypt_parse_floor": floor_ms,
        "ratio_floor_p50": round(floor_ms["p50_ms"] / raw_ms["p50_ms"], 2),
        "service_verify": verify_ms,
        "ratio_verify_to_history_p50": round(verify_ms["p50_ms"] / full_ms["p50_ms"], 2),
        "verify_target_met": verify_ms["p50_ms"] <= 2 * full_ms["p50_ms"],
    }
    write_result("B5-audit-replay", result)


if __name__ == "__main__":
    main()
