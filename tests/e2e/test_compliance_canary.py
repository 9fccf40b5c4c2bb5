"""The secrecy canary. Every compliance text field holds its own unique marker; every
compliance endpoint is driven over HTTP (the failing answers too: 401, 403, 404, 412, 413,
422), the read models are rebuilt and the audit CLI is run, with events encrypted by a
CIPHER_KEY. Then the captured logs (the service's and the subprocesses'), every other
response and error body, the metrics and every table of the database are searched: the
markers are found only in the compliance responses themselves."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from eventsourcing.cipher import AESCipher
from fastapi import FastAPI
from psycopg import sql
from pydantic import SecretStr

from api.main import create_app
from projections.registry import PROJECTIONS
from sms_channels.logs import configure_logging, reset_logging
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, auth, unique_account, unique_us_number, wait_for
from tests.support.compliance_payloads import marked_payload

CLI = [sys.executable, "-m", "sms_channels.cli"]
CONFIG_VARS = ("DATABASE_URL", "JWT_SECRET", "JWT_PUBLIC_KEY", "CIPHER_KEY", "DATA_DIR")


@dataclass
class Sinks:
    """Everything the run produced, split into what may hold compliance values (the
    compliance responses) and what may not (everything else), by label."""

    allowed: dict[str, str] = field(default_factory=dict)
    forbidden: dict[str, str] = field(default_factory=dict)

    def keep(self, label: str, response: httpx.Response, *, allowed: bool = False) -> None:
        text = f"{response.status_code} {dict(response.headers)} {response.text}"
        (self.allowed if allowed else self.forbidden)[label] = text


@contextmanager
def uvicorn_logs_to_root() -> Iterator[None]:
    # Earlier servers in this process may have given uvicorn's loggers handlers of their own;
    # route them through the root handler (the service's redacting one) for this run.
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.handlers[:], lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [], True
    try:
        yield
    finally:
        for lg, (handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn logging through the root logger (no config of its own)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="debug"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("debug", "json", stream=buffer, cache=False)
    with uvicorn_logs_to_root():
        yield buffer
    reset_logging()


def drive_api(http: httpx.Client, sinks: Sinks, payloads: list[dict[str, Any]]) -> str:
    """Every compliance endpoint, succeeding; then failing. Returns the connection's URL."""
    account = unique_account()
    headers, reader = auth(account), auth(account, ("channels.read",))
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": "ws",
        "agentId": "agent",
        "smsCompliance": payloads[0],
    }
    keyed = {**headers, "Idempotency-Key": "canary-connect"}
    created = http.post("/channels/sms/connect", json=body, headers=keyed)
    # The connection as its manager reads it (the values just sent): kept by no cache, nor
    # by the idempotent replay store (its table is scanned below).
    assert created.headers["Cache-Control"] == "no-store"
    sinks.keep("connect", created, allowed=True)
    url = str(created.headers["Location"])
    sinks.keep("get connection (manager)", http.get(url, headers=headers), allowed=True)
    sinks.keep("get connection (reader)", http.get(url, headers=reader))
    read = http.get(url + "/compliance", headers=headers)
    sinks.keep("get compliance", read, allowed=True)
    version = f'"{read.json()["version"]}"'
    put = http.put(url + "/compliance", json=payloads[1], headers={**headers, "If-Match": version})
    sinks.keep("put compliance", put, allowed=True)
    sinks.keep("preflight", http.get(url + "/compliance/preflight", headers=headers))
    history = http.get(url + "/compliance/history", headers=headers)
    sinks.keep("history", history, allowed=True)
    as_of = {"asOfVersion": read.json()["version"]}
    as_of_version = http.get(url + "/compliance/history", params=as_of, headers=headers)
    sinks.keep("history as of version", as_of_version, allowed=True)
    sinks.keep("history verify", http.get(url + "/compliance/history/verify", headers=headers))
    drive_failures(http, sinks, url, payloads, version, headers, reader)
    sinks.keep("delete", http.delete(url, headers=headers))
    deleted = http.get(url + "/compliance/history", headers=headers)
    sinks.keep("history after delete", deleted, allowed=True)
    sinks.keep("metrics", http.get("/metrics"))
    return url


def drive_failures(
    http: httpx.Client,
    sinks: Sinks,
    url: str,
    payloads: list[dict[str, Any]],
    stale: str,
    owner: dict[str, str],
    reader: dict[str, str],
) -> None:
    """The failing answers, each asked with compliance markers in the request."""
    marker = payloads[1]["brand"]["displayName"]
    compliance = url + "/compliance"

    current = {"If-Match": http.get(url, headers=owner).headers["ETag"]}

    def put(body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return http.put(
            compliance, json=body, headers={**owner, **current} if headers is None else headers
        )

    invalid = {
        "brand": {"displayName": marker * 10, "vertical": marker, "zipCode": [marker]},
        "campaign": {"messageSamples": [marker] * 6, "embeddedLink": marker},
    }
    broken = f'{{"brand": {{"city": "{marker}"'
    json_headers = {**owner, "Content-Type": "application/json"}
    other = auth(unique_account())
    failing = {
        "412 stale If-Match": put(payloads[0], {**owner, "If-Match": stale}),
        "422 invalid values": put(invalid),
        "422 unknown field": put({"brand": {"nick": marker}}),
        "422 not an object": put([marker]),
        "422 broken JSON": http.put(compliance, content=broken, headers=json_headers),
        "422 bad asOf": http.get(compliance + "/history?asOf=yesterday", headers=owner),
        "401 no token": put(payloads[0], {}),
        "403 reader": put(payloads[0], {**reader, **current}),
        "404 other account": put(payloads[0], {**other, **current}),
        "428 no If-Match": put(payloads[0], owner),
        "404 other preflight": http.get(compliance + "/preflight", headers=other),
        "413 too large": put({"brand": {"city": marker * 6000}}),
    }
    for label, response in failing.items():
        assert response.status_code == int(label[:3]), (label, response.status_code)
        sinks.keep(label, response)


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def drive_processes(settings: Settings, connection_id: str, sinks: Sinks) -> None:
    """The read-model rebuilds, then the audit CLI in every format and failing: stdout of
    json/jsonl and of the table (values before → after, for the reviewer) is a compliance
    response; every other output (verify, checkpoint, errors, logs) must stay clean."""
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(DATABASE_URL=settings.database_url or "", LOG_LEVEL="debug")
    env["CIPHER_KEY"] = settings.cipher_key.get_secret_value() if settings.cipher_key else ""
    for name in PROJECTIONS:
        rebuilt = run_cli(["projections", "rebuild", name], env)
        stdout, stderr = rebuilt.communicate(timeout=120)
        assert rebuilt.returncode == 0, stderr
        sinks.forbidden[f"rebuild {name}"] = stdout + stderr
    history = ["audit", "history", connection_id]
    audits = {  # label: (process, expected exit code, stdout is a compliance response)
        "json": (run_cli(history, env), 0, True),
        "jsonl": (run_cli([*history, "--format", "jsonl"], env), 0, True),
        "table": (run_cli([*history, "--format", "table"], env), 0, True),
        "verify": (run_cli(["audit", "verify", connection_id], env), 0, False),
        "verify all": (run_cli(["audit", "verify", "--all"], env), 0, False),
        "checkpoint": (run_cli(["audit", "checkpoint"], env), 0, False),
        "other account": (run_cli([*history, "--account", unique_account()], env), 1, False),
        "bad as-of": (run_cli([*history, "--as-of", "yesterday"], env), 2, False),
    }
    for label, (process, code, stdout_allowed) in audits.items():
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == code, (label, stderr)
        (sinks.allowed if stdout_allowed else sinks.forbidden)[f"cli {label} stdout"] = stdout
        sinks.forbidden[f"cli {label} stderr"] = stderr


def table_contents(database_url: str) -> dict[str, bytes]:
    """Every table of the database, each as one blob of its rows' raw values."""
    contents: dict[str, bytes] = {}
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            values = [value for row in connection.execute(query) for value in row]
            contents[f"{schema}.{table}"] = b"\n".join(
                bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in values
            )
    return contents


def leaks(sinks: dict[str, str], markers: list[str]) -> dict[str, list[str]]:
    found = {label: [m for m in markers if m in text] for label, text in sinks.items()}
    return {label: ms for label, ms in found.items() if ms}


def table_leaks(tables: dict[str, bytes], markers: list[str]) -> dict[str, list[str]]:
    found = {name: [m for m in markers if m.encode() in blob] for name, blob in tables.items()}
    return {name: ms for name, ms in found.items() if ms}


def test_no_compliance_marker_appears_outside_the_compliance_responses(
    isolated_database_url: str, captured_logs: io.StringIO
) -> None:
    first, first_markers = marked_payload()
    second, second_markers = marked_payload()
    markers = first_markers + second_markers
    settings = Settings(
        database_url=isolated_database_url,
        jwt_secret=JWT_SECRET,
        cipher_key=SecretStr(AESCipher.create_key(32)),
        log_level="debug",
    )
    sinks = Sinks()
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, timeout=10) as http:
        url = drive_api(http, sinks, [first, second])
    connection_id = url.rsplit("/", 1)[1]
    drive_processes(settings, connection_id, sinks)
    tables = table_contents(isolated_database_url)
    sinks.forbidden["logs"] = captured_logs.getvalue()

    # The run was real: the markers came back in the compliance responses, the service
    # logged, and the read models hold the connection (their tables were scanned full).
    returned = {m for text in sinks.allowed.values() for m in markers if m in text}
    assert returned == set(markers)
    assert '"request"' in sinks.forbidden["logs"]
    read_models = [name for name in tables if not name.endswith("_events")]
    assert [name for name in read_models if connection_id.encode() in tables[name]] != []
    # ... and nothing else holds any of them.
    assert leaks(sinks.forbidden, markers) == {}
    assert table_leaks(tables, markers) == {}
