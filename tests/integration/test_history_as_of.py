"""One as-of (issue 30): ``GET …/compliance/history?asOfVersion=`` and ``sms-channels audit
history --as-of-version … --format json`` read the same history at the same point and print
the same versions and registration facts (``ComplianceHistory.as_of``); before, the CLI
printed the registration facts recorded after the point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from api.auth import Principal
from api.routes.compliance import get_history
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account, unique_us_number
from tests.support.compliance_payloads import GOOD

CLI = [sys.executable, "-m", "sms_channels.cli", "audit", "history"]
CONFIG_VARS = ("DATABASE_URL", "JWT_SECRET", "JWT_PUBLIC_KEY", "CIPHER_KEY", "DATA_DIR")


@dataclass(frozen=True)
class Registered:
    account: str
    connection_id: UUID
    submitted_at_version: int  # the connection's version once the submission was recorded


@pytest.fixture(scope="module")
def registered(database_url: str) -> Registered:
    # A connection whose payload is submitted, then carried to the provider by the worker's
    # steps: registration facts recorded after the submission's version.
    application = build_application(Settings(database_url=database_url), SandboxProvider())
    try:
        account = unique_account()
        connection_id = _connected(application, account)
        version = application.get_connection(account, connection_id).version
        application.submit_registration(account, connection_id, by="u1", expected_version=version)
        submitted = application.get_connection(account, connection_id).version
        for _ in range(4):
            if application.advance_registration(connection_id).step is None:
                break
        return Registered(account, connection_id, submitted)
    finally:
        application.close()


def _connected(application: SmsChannels, account: str) -> UUID:
    result = application.connect(
        ConnectNumber(
            account_id=account,
            workspace_id="ws_1",
            agent_id="agent_1",
            mode="new",
            country="US",
            area_code="415",
            phone_number=unique_us_number(),
            requested_by="requester",
            compliance=GOOD,
        )
    )
    return result.connection.id


def _from_the_route(database_url: str, registered: Registered, version: int) -> Any:
    application = build_application(Settings(database_url=database_url), SandboxProvider())
    try:
        auditor = Principal("auditor", registered.account, frozenset({"compliance.audit"}))
        response = get_history(
            registered.connection_id, auditor, application, as_of_version=version
        )
    finally:
        application.close()
    return json.loads(bytes(response.body))


def _from_the_cli(database_url: str, registered: Registered, version: int) -> Any:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env["DATABASE_URL"] = database_url
    args = [str(registered.connection_id), "--as-of-version", str(version), "--format", "json"]
    result = subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_route_and_the_cli_agree_on_versions_and_facts_as_of_a_version(
    database_url: str, registered: Registered
) -> None:
    point = registered.submitted_at_version
    route = _from_the_route(database_url, registered, point)
    cli = _from_the_cli(database_url, registered, point)
    assert cli["versions"] == route["versions"]
    assert cli["registration"] == route["registration"]
    # The point is the submission: it is in, the provider's later answers are not.
    assert [fact["level"] for fact in cli["registration"]] == ["submission"]


def test_the_whole_history_has_facts_after_the_point(
    database_url: str, registered: Registered
) -> None:
    # The scenario above is not vacuous: facts were recorded after the submission.
    everything = _from_the_route(database_url, registered, 10_000)
    assert len(everything["registration"]) > 1
