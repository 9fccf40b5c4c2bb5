"""Helpers shared by the test tiers: unique ids and numbers, tokens, a live server."""

from __future__ import annotations

import itertools
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import phonenumbers
import psycopg
import uvicorn
from fastapi import FastAPI
from psycopg import sql

from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from sms_channels.tokens import WORKSPACE_ADMIN, mint_token
from workers.projector import create_schema

JWT_SECRET = "test-secret-" + "x" * 40
ALL_PERMISSIONS = ("channels.read", *WORKSPACE_ADMIN, "compliance.audit", "directory.write")

_numbers = itertools.count(uuid.uuid4().int % 5_000_000)
_US_AREA_CODES = (
    "201",
    "212",
    "303",
    "305",
    "312",
    "404",
    "415",
    "503",
    "617",
    "702",
    "718",
    "805",
    "808",
    "917",
    "972",
)


def new_number(
    account: str = "acc", number: str = "+14155550123", workspace: str = "ws"
) -> ConnectNumber:
    """The command connecting a new US ``number`` with ``agent`` in ``workspace``."""
    return ConnectNumber(
        account_id=account,
        workspace_id=workspace,
        agent_id="agent",
        mode="new",
        country="US",
        area_code=None,
        phone_number=number,
        requested_by="u",
    )


def popo_app(**env: str) -> SmsChannels:
    """The application on the library's in-memory store and the sandbox provider (a factory,
    for tests that need several, or one inside a Hypothesis example)."""
    return SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo", **env})


def connected_id(app: SmsChannels, account: str = "acc", number: str = "+14155550123") -> uuid.UUID:
    """The id of a new number connected with ``new_number``."""
    return app.connect(new_number(account, number)).connection.id


def unique_account() -> str:
    return f"acc_{uuid.uuid4().hex[:12]}"


def unique_us_number() -> str:
    """A valid US number no other test of this run uses (claims outlive a test)."""
    while True:
        n = next(_numbers)
        area = _US_AREA_CODES[n % len(_US_AREA_CODES)]
        candidate = f"+1{area}{2000000 + (n // len(_US_AREA_CODES)) % 8000000:07d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def token(account: str, permissions: tuple[str, ...] = ALL_PERMISSIONS, user: str = "u1") -> str:
    return mint_token(JWT_SECRET, account_id=account, user_id=user, permissions=permissions)


def auth(account: str, permissions: tuple[str, ...] = ALL_PERMISSIONS) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(account, permissions)}"}


def if_match(http: httpx.Client, url: str, account: str) -> dict[str, str]:
    """``account``'s auth headers plus ``If-Match`` naming the connection's current version
    (``url``: the connection's Location), as the settings dialog sends on a save."""
    headers = auth(account)
    return {**headers, "If-Match": http.get(url, headers=headers).headers["ETag"]}


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            msg = f"condition not met within {timeout}s"
            raise TimeoutError(msg)
        time.sleep(interval)


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    """A new database with every table created (as `sms-channels migrate` does); dropped
    afterwards."""
    name = f"sms_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(admin)
    info["dbname"] = name
    url = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})
    build_application(Settings(database_url=url, create_tables=True)).close()
    create_schema(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
