"""``sms-channels audit history`` as an auditor runs it: a real process on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from uuid import UUID

import pytest

from domain.service.compliance_history import compliance_history
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account
from tests.support.compliance_payloads import connect

CLI = [sys.executable, "-m", "sms_channels.cli", "audit", "history"]
CONFIG_VARS = ("DATABASE_URL", "JWT_SECRET", "JWT_PUBLIC_KEY", "CIPHER_KEY", "DATA_DIR")
FIRST = {"brand": {"displayName": "Acme", "city": "SF"}}
SECOND = {"brand": {"displayName": "Acme Dental", "city": "SF"}}


@dataclass(frozen=True)
class Audited:
    account: str
    connection_id: UUID
    versions: list[int]


@pytest.fixture(scope="module")
def audited(database_url: str) -> Audited:
    # A connection edited twice by two people, then switched off and deleted.
    application = build_application(Settings(database_url=database_url), SandboxProvider())
    try:
        account = unique_account()
        connection_id = connect(application, account, FIRST)
        application.update_compliance(account, connection_id, SECOND, by="bob")
        application.update_settings(account, connection_id, by="ops", active=True)
        application.delete(account, connection_id, by="ops")
        history = compliance_history(application, connection_id, account_id=account)
        return Audited(account, connection_id, [v.version for v in history.versions])
    finally:
        application.close()


def audit(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_json_prints_every_version_with_actor_fields_and_payload(
    database_url: str, audited: Audited
) -> None:
    result = audit(database_url, str(audited.connection_id))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["connectionId"], document["status"]) == (
        str(audited.connection_id),
        "deleted",
    )
    assert [
        (v["version"], v["actor"], v["changedFields"], v["smsCompliance"])
        for v in document["versions"]
    ] == [
        (audited.versions[0], "requester", ["brand.city", "brand.displayName"], FIRST),
        (audited.versions[1], "bob", ["brand.displayName"], SECOND),
    ]


def test_jsonl_prints_one_version_per_line(database_url: str, audited: Audited) -> None:
    result = audit(database_url, str(audited.connection_id), "--format", "jsonl")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["version"] for line in lines] == audited.versions
    assert {"recordedAt", "actor", "changedFields", "smsCompliance"} <= lines[0].keys()


def test_table_shows_each_changed_field_before_and_after(
    database_url: str, audited: Audited
) -> None:
    result = audit(database_url, str(audited.connection_id), "--format", "table")
    assert result.returncode == 0, result.stderr
    assert "bob" in result.stdout
    changes = [line.strip() for line in result.stdout.splitlines() if "→" in line]
    # The first version sets both fields (from nothing); the second changes only the name.
    assert changes == [
        'brand.city: ∅ → "SF"',
        'brand.displayName: ∅ → "Acme"',
        'brand.displayName: "Acme" → "Acme Dental"',
    ]


def test_table_as_of_a_version_still_shows_what_it_changed_from(
    database_url: str, audited: Audited
) -> None:
    result = audit(
        database_url,
        str(audited.connection_id),
        "--format",
        "table",
        "--as-of-version",
        str(audited.versions[1]),
    )
    assert result.returncode == 0, result.stderr
    changes = [line.strip() for line in result.stdout.splitlines() if "→" in line]
    assert changes == ['brand.displayName: "Acme" → "Acme Dental"']


def test_as_of_version_prints_only_the_version_in_effect(
    database_url: str, audited: Audited
) -> None:
    result = audit(
        database_url,
        str(audited.connection_id),
        "--as-of-version",
        str(audited.versions[1] - 1),
    )
    versions = json.loads(result.stdout)["versions"]
    assert [(v["version"], v["smsCompliance"]) for v in versions] == [(audited.versions[0], FIRST)]


def test_as_of_a_time_prints_only_the_version_in_effect(
    database_url: str, audited: Audited
) -> None:
    full = json.loads(audit(database_url, str(audited.connection_id)).stdout)
    moment = full["versions"][0]["recordedAt"]
    result = audit(database_url, str(audited.connection_id), "--as-of", moment)
    assert [v["version"] for v in json.loads(result.stdout)["versions"]] == audited.versions[:1]


def test_the_account_option_hides_another_accounts_connection(
    database_url: str, audited: Audited
) -> None:
    result = audit(database_url, str(audited.connection_id), "--account", unique_account())
    assert (result.returncode, result.stdout) == (1, "")
    assert "not found" in result.stderr


def test_the_owning_account_sees_its_connection(database_url: str, audited: Audited) -> None:
    result = audit(database_url, str(audited.connection_id), "--account", audited.account)
    assert result.returncode == 0, result.stderr


def test_an_unknown_connection_exits_1(database_url: str) -> None:
    result = audit(database_url, str(uuid.uuid4()))
    assert (result.returncode, result.stdout) == (1, "")


def test_a_time_without_a_zone_exits_2(database_url: str, audited: Audited) -> None:
    result = audit(database_url, str(audited.connection_id), "--as-of", "2025-01-31T09:30:00")
    assert result.returncode == 2
    assert "time zone" in result.stderr


def test_without_a_database_url_it_exits_2_with_the_reason() -> None:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    result = subprocess.run(
        [*CLI, str(uuid.uuid4())], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
