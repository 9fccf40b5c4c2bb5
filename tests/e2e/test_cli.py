"""The ``sms-channels`` command as a newcomer and an operator run it (real processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from eventsourcing.cipher import AESCipher

from api.auth import TokenVerifier
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, auth, unique_account, unique_us_number, wait_for

CLI = [sys.executable, "-m", "sms_channels.cli"]
CONFIG_VARS = (
    "DATABASE_URL",
    "JWT_SECRET",
    "JWT_PUBLIC_KEY",
    "CIPHER_KEY",
    "REGISTRATION_ID_KEY",
    "DATA_DIR",
    "PORT",
)


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(values)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[list[str]]:
    """Start the CLI; yield the lines it prints (filled in as they come); stop it."""
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        yield lines
    finally:
        process.terminate()
        process.wait(timeout=20)


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_refuses_to_start_without_its_secrets() -> None:
    result = subprocess.run(
        [*CLI, "serve"], env=clean_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "CIPHER_KEY" in result.stderr
    assert "REGISTRATION_ID_KEY" in result.stderr


def test_run_and_serve_refuse_twilio_mode_without_its_public_url_alike(tmp_path: Path) -> None:
    twilio = {
        "SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "DATA_DIR": str(tmp_path),
    }
    for command in ("run", "serve"):
        result = subprocess.run(
            [*CLI, command],
            env=clean_env(**twilio),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, (command, result.stderr)
        assert "PUBLIC_BASE_URL" in result.stderr, command
    assert list(tmp_path.iterdir()) == []  # run stopped before making anything


def test_token_mints_a_jwt_the_api_accepts() -> None:
    result = subprocess.run(
        [*CLI, "token", "--account", "acc_9", "--permission", "channels.read"],
        env=clean_env(JWT_SECRET=JWT_SECRET),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    principal = TokenVerifier(Settings(jwt_secret=JWT_SECRET)).verify(result.stdout.strip())
    assert (principal.account_id, principal.permissions) == ("acc_9", frozenset({"channels.read"}))


def test_migrate_then_serve_answers_on_the_configured_database(
    isolated_database_url: str,
) -> None:
    # A database of its own: its events are encrypted with a key no other test has, so the
    # session's shared log must not hold them (every projector reads the whole log).
    port = free_port()
    env = clean_env(
        DATABASE_URL=isolated_database_url,
        JWT_SECRET=JWT_SECRET,
        CIPHER_KEY=AESCipher.create_key(32),
        REGISTRATION_ID_KEY="r" * 32,
        PORT=str(port),
    )
    subprocess.run([*CLI, "migrate"], env=env, check=True, timeout=60, capture_output=True)
    with running([*CLI, "serve"], env):
        wait_for(lambda: healthy(port), timeout=30)
        body = {
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": unique_us_number(),
            "workspaceId": "ws",
            "agentId": "agent",
        }
        response = httpx.post(
            f"http://127.0.0.1:{port}/channels/sms/connect",
            json=body,
            headers=auth(unique_account()),
        )
        assert response.status_code == 201


def test_run_with_nothing_configured_serves_on_embedded_postgres(tmp_path: Path) -> None:
    # The README's first command: no DATABASE_URL, no secrets. It must start PostgreSQL
    # under DATA_DIR, print a token, and accept the tour's first curl.
    port = free_port()
    env = clean_env(DATA_DIR=str(tmp_path / "data"), PORT=str(port))
    with running([*CLI, "run"], env) as lines:
        wait_for(lambda: healthy(port), timeout=60)
        printed = "".join(lines)
        token = next(line.split("TOKEN=", 1)[1].strip() for line in lines if "TOKEN=" in line)
        body = {
            "mode": "new",
            "countryCode": "US",
            "areaCode": "415",
            "phoneNumber": "+14155550123",
            "workspaceId": "ws_1",
            "agentId": "agent_1",
        }
        response = httpx.post(
            f"http://127.0.0.1:{port}/channels/sms/connect",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, printed
        # The console's link carries the same token, in the fragment (never sent to a server).
        assert f"http://127.0.0.1:{port}/app/#token={token}" in printed
        # The demo directory: two workspaces, one agent without a knowledge base.
        agents = httpx.get(
            f"http://127.0.0.1:{port}/directory/agents",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["items"]
        assert {a["workspace"]["id"] for a in agents} == {"ws_1", "ws_2"}
        assert [a["agentId"] for a in agents if a["knowledgeBase"] is None] == ["agent_4"]
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    assert (tmp_path / "data" / "secrets.json").stat().st_mode & 0o077 == 0
    # Stopping `run` stops the PostgreSQL it started.
    wait_for(lambda: not (tmp_path / "data" / "postgres" / "postmaster.pid").exists(), timeout=20)
