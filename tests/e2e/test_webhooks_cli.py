"""``sms-channels sandbox …`` and ``sms-channels worker reconcile`` against a running
service: the CLI changes the sandbox account in the service's database and delivers the
signed webhook; without the webhook, the reconcile worker finds the change."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.cipher import AESCipher
from pydantic import SecretStr
from typer.testing import CliRunner

from sms_channels.cli import app as cli
from tests.e2e.provider_support import WEBHOOK_SECRET, Service, running_service
from tests.support.common import auth, unique_account, unique_us_number

runner = CliRunner()


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    with running_service(database_url) as running:
        yield running


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DATA_DIR": str(data_dir),
        "LOG_FORMAT": "console",
        **extra,
    }


def status_of(service: Service, account: str, location: str) -> str:
    status: str = service.http.get(location, headers=auth(account)).json()["status"]
    return status


def test_verify_hosting_connects_a_bring_your_own_number(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    account, number = unique_account(), unique_us_number()
    requested = service.connect(account, number, mode="byon")
    result = runner.invoke(
        cli,
        ["sandbox", "verify-hosting", number, "--url", str(service.http.base_url)],
        env=cli_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "hosted_number.verified" in result.output
    assert status_of(service, account, requested.headers["Location"]) == "connected"


def test_reclaim_delivered_twice_is_applied_once(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    account, number = unique_account(), unique_us_number()
    created = service.connect(account, number)
    url = str(service.http.base_url)
    result = runner.invoke(
        cli,
        ["sandbox", "reclaim", number, "--reason", "expired", "--times", "2", "--url", url],
        env=cli_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert result.output.count('"outcome":"applied"') == 1
    assert result.output.count('"outcome":"duplicate"') == 1
    assert status_of(service, account, created.headers["Location"]) == "reclaimed"


def test_reclaiming_a_number_the_sandbox_does_not_hold_fails_without_delivering(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(
        cli,
        ["sandbox", "reclaim", unique_us_number(), "--url", str(service.http.base_url)],
        env=cli_env(database_url, tmp_path),
    )
    assert result.exit_code == 1
    assert "does not hold" in result.output


def test_a_silent_reclaim_is_found_by_the_reconcile_worker(
    isolated_database_url: str, tmp_path: Path
) -> None:
    # The worker reads the whole log: this test has a database of its own.
    key = AESCipher.create_key(32)
    env = cli_env(isolated_database_url, tmp_path, CIPHER_KEY=key)
    with running_service(isolated_database_url, cipher_key=SecretStr(key)) as service:
        account, number = unique_account(), unique_us_number()
        created = service.connect(account, number)
        silent = runner.invoke(cli, ["sandbox", "reclaim", number, "--no-webhook"], env=env)
        assert silent.exit_code == 0, silent.output
        assert status_of(service, account, created.headers["Location"]) == "connected"

        # The worker runs as its own process, as in production.
        worker = subprocess.run(
            [sys.executable, "-m", "sms_channels.cli", "worker", "reconcile", "--once"],
            env={**os.environ, **env, "LOG_FORMAT": "json"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert worker.returncode == 0, worker.stdout + worker.stderr
        assert '"reclaimed": 1' in worker.stdout
        assert status_of(service, account, created.headers["Location"]) == "reclaimed"
