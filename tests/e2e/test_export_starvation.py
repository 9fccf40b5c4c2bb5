"""Audit exports cannot starve the service (issue 28, item 2), on a real server and a real
PostgreSQL: while five exports stall (their clients read nothing), another account's single
GET and list stay fast and ``/readyz`` answers 200; exports beyond the per-account and the
service-wide bound get 429 with ``Retry-After``; a stalled export is cut off by the send
timeout and gives its slot back."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import psycopg
import pytest

from api.exports import ExportSlots
from api.main import create_app
from projections.registry import PROJECTIONS
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.e2e.provider_support import sandbox_settings
from tests.support.common import (
    auth,
    live_server,
    token,
    unique_account,
    unique_us_number,
    wait_for,
)
from workers.projector import ProjectionThreads

# Entries enough that a CSV export (about 5 MB) fills every buffer between the server and a
# client that reads nothing, so the export really stalls mid-stream.
ENTRIES = 30_000
STALLED = 5


@pytest.fixture(scope="module", autouse=True)
def projections(database_url: str) -> Iterator[ProjectionThreads]:
    stop = threading.Event()
    application = build_application(Settings(database_url=database_url))
    threads = ProjectionThreads(application, database_url, list(PROJECTIONS), stop).start()
    yield threads
    stop.set()
    threads.join()
    application.close()


def _long_trail(database_url: str) -> str:
    """An account whose trail holds ``ENTRIES`` entries (written straight into the read
    model: the export reads only the table)."""
    account = unique_account()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO sms_audit_trail (connection_id, version, account_id, workspace_id,"
            " recorded_at, actor, type, changed_fields)"
            " SELECT gen_random_uuid(), 1, %s, 'ws_1', now() - n * interval '1 second',"
            " 'u1', 'compliance.updated', ARRAY['brand.city', 'campaign.messageFlow']"
            " FROM generate_series(1, %s) AS n",
            (account, ENTRIES),
        )
    return account


@pytest.fixture(scope="module")
def auditor(database_url: str) -> str:
    return _long_trail(database_url)


@pytest.fixture(scope="module")
def second_auditor(database_url: str) -> str:
    return _long_trail(database_url)


@contextmanager
def served(database_url: str, **overrides: Any) -> Iterator[tuple[httpx.Client, ExportSlots]]:
    settings = sandbox_settings(database_url, **overrides)
    app = create_app(settings)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http, app.state.export_slots


@contextmanager
def stalled_export(base_url: str, account: str) -> Iterator[socket.socket]:
    """A CSV export whose client sends the request and then reads nothing (a tiny receive
    buffer, as a client behind a throttled link); closed on exit."""
    host, port = base_url.removeprefix("http://").split(":")
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect((host, int(port)))
    request = (
        f"GET /audit/events?format=csv HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token(account)}\r\n\r\n"
    )
    client.sendall(request.encode())
    try:
        yield client
    finally:
        client.close()


def _timed(http: httpx.Client, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    answer = http.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    return elapsed


def test_stalled_exports_leave_other_accounts_and_readiness_fast(
    database_url: str, auditor: str, second_auditor: str
) -> None:
    with served(database_url, audit_exports_per_account=STALLED, audit_exports_max=6) as (
        http,
        slots,
    ):
        other = unique_account()
        body = {
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": unique_us_number(),
            "workspaceId": "ws_1",
            "agentId": "agent_1",
        }
        created = http.post("/channels/sms/connect", json=body, headers=auth(other))
        assert created.status_code == 201, created.text
        wait_for(lambda: http.get("/readyz").status_code == 200, timeout=30)
        base_url = str(http.base_url).rstrip("/")
        with ExitStack() as stack:
            for _ in range(STALLED):
                stack.enter_context(stalled_export(base_url, auditor))
            wait_for(lambda: slots.running == STALLED)
            time.sleep(1.0)  # long enough for an export that was not stalled to finish
            assert slots.running == STALLED  # every one is stuck mid-stream

            times = []
            for _ in range(20):
                times.append(_timed(http, created.headers["Location"], auth(other)))
                times.append(_timed(http, "/channels/sms/connections", auth(other)))
                ready = http.get("/readyz")
                assert ready.status_code == 200, ready.text
            print(
                f"other account's GET while {STALLED} exports stall: "
                f"p50 {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
            )
            assert max(times) < 1.0

            sixth = http.get("/audit/events", params={"format": "csv"}, headers=auth(auditor))
            assert sixth.status_code == 429
            assert sixth.headers["content-type"] == "application/problem+json"
            assert sixth.json()["code"] == "too_many_exports"
            assert int(sixth.headers["Retry-After"]) >= 1
            # The service-wide bound: a sixth export of another account runs, a seventh not.
            stack.enter_context(stalled_export(base_url, second_auditor))
            wait_for(lambda: slots.running == STALLED + 1)
            third = auth(unique_account())
            beyond = http.get("/audit/events", params={"format": "ndjson"}, headers=third)
            assert beyond.status_code == 429
            assert "the service" in beyond.json()["detail"]
            # Pages are not exports: never refused for them.
            assert http.get("/audit/events", headers=auth(auditor)).status_code == 200
        # Their clients gone, the exports give their slots back.
        wait_for(lambda: slots.running == 0)


@pytest.mark.parametrize(
    "bounds",
    [
        {"audit_export_send_timeout_seconds": 1.0},  # nothing read for a second
        {"audit_export_max_seconds": 1.0},  # the whole download's deadline
    ],
    ids=["send-timeout", "deadline"],
)
def test_a_stalled_export_is_cut_off_and_gives_its_slot_back(
    database_url: str, auditor: str, bounds: dict[str, float]
) -> None:
    with served(database_url, audit_exports_per_account=1, **bounds) as (http, slots):
        base_url = str(http.base_url).rstrip("/")
        with stalled_export(base_url, auditor) as client:
            wait_for(lambda: slots.running == 1)
            refused = http.get("/audit/events", params={"format": "csv"}, headers=auth(auditor))
            assert refused.status_code == 429
            # Cut off after a second, though its client is still there.
            wait_for(lambda: slots.running == 0, timeout=10)
            received = _drain(client)
        # The body ends without the chunked encoding's last chunk: visibly truncated.
        assert received.startswith(b"HTTP/1.1 200")
        assert not received.endswith(b"0\r\n\r\n")
        assert 0 < received.count(b"compliance.updated") < ENTRIES
        if "audit_export_max_seconds" in bounds:
            return  # a whole export may take longer than this deadline: not read here
        # A reader that keeps reading is never cut off by the send timeout; the keyset chunks
        # hand out every entry once.
        complete = http.get("/audit/events", params={"format": "csv"}, headers=auth(auditor))
        assert complete.status_code == 200
        assert len(complete.text.splitlines()) == ENTRIES + 1  # header row and every entry


def _drain(client: socket.socket) -> bytes:
    """Everything the server sent before it closed the connection."""
    client.settimeout(10)
    chunks = []
    while chunk := client.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
