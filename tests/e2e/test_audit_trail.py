"""The account trail (``GET /audit/events``) and its exports, over HTTP with the projector
running, on a database of this module's own (the projector reads the whole log)."""

from __future__ import annotations

import base64
import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from tests.e2e.provider_support import Service, running_service
from tests.security.conftest import bearer, projections_running
from tests.support.common import auth, fresh_database, unique_account, unique_us_number, wait_for

CANARY = "Canary Trail Dental 7f3a"


@pytest.fixture(scope="module")
def trail_db(admin_url: str) -> Iterator[str]:
    with fresh_database(admin_url) as url:
        yield url


@pytest.fixture(scope="module")
def service(trail_db: str) -> Iterator[Service]:
    with (
        running_service(trail_db, rate_limit_connect_per_minute=0) as running,
        projections_running(trail_db),
    ):
        yield running


def connect(service: Service, account: str, workspace: str = "ws_1") -> dict[str, Any]:
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": workspace,
        "agentId": "agent_1",
    }
    answer = service.http.post("/channels/sms/connect", json=body, headers=auth(account))
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def trail(service: Service, account: str, **params: Any) -> dict[str, Any]:
    answer = service.http.get("/audit/events", params=params, headers=auth(account))
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


@pytest.fixture(scope="module")
def history(service: Service) -> dict[str, Any]:
    """An account with two connections: one connected, edited (compliance with a canary
    value), switched on and deleted; another in ws_2. And a second account."""
    account = unique_account()
    first = connect(service, account)
    second = connect(service, account, workspace="ws_2")
    location = f"/channels/sms/connections/{first['id']}"
    edited = service.http.put(
        location + "/compliance",
        json={"brand": {"displayName": CANARY, "city": "SF"}},
        headers={**auth(account), "If-Match": f'"{first["version"]}"'},
    )
    assert edited.status_code == 200, edited.text
    service.http.patch(location, json={"active": True}, headers=auth(account))
    deleted = service.http.delete(location, headers=auth(account))
    assert deleted.status_code == 204
    other = unique_account()
    connect(service, other)
    position = service.application.current_position()
    wait_for(
        lambda: (
            "X-Projection-Lag"
            not in service.http.get(
                f"/audit/events?waitFor={position}", headers=auth(account)
            ).headers
        ),
        timeout=60,
    )
    return {"account": account, "first": first, "second": second, "other": other}


def test_the_trail_lists_every_fact_newest_first_with_actor_and_field_names(
    service: Service, history: dict[str, Any]
) -> None:
    items = trail(service, history["account"])["items"]
    first = [i for i in items if i["connectionId"] == history["first"]["id"]]
    assert [i["type"] for i in first] == [
        "connection.deleted",
        "active.changed",
        "compliance.updated",
        "connection.connected",
        "connection.requested",
    ]
    assert [i["version"] for i in first] == [5, 4, 3, 2, 1]
    assert {i["actor"] for i in first} == {"u1", "provider"}
    edit = next(i for i in first if i["type"] == "compliance.updated")
    assert sorted(edit["changedFields"]) == ["brand.city", "brand.displayName"]
    times = [i["recordedAt"] for i in items]
    assert times == sorted(times, reverse=True)
    assert history["other"] not in str(items)


def test_filters_narrow_the_trail(service: Service, history: dict[str, Any]) -> None:
    account, first = history["account"], history["first"]["id"]
    by_connection = trail(service, account, connectionId=first)["items"]
    assert {i["connectionId"] for i in by_connection} == {first}
    by_type = trail(service, account, type="compliance.updated")["items"]
    assert [i["connectionId"] for i in by_type] == [first]
    assert trail(service, account, actor="someone_else")["items"] == []
    oldest = trail(service, account, order="asc", limit=1)["items"][0]
    later = trail(service, account, since=oldest["recordedAt"], order="asc")["items"]
    before = trail(service, account, until=oldest["recordedAt"])["items"]
    assert later[0] == oldest
    assert before == []


def test_pages_follow_each_other_without_gap_or_repeat(
    service: Service, history: dict[str, Any]
) -> None:
    everything = trail(service, history["account"], limit=200)["items"]
    seen: list[Any] = []
    page = trail(service, history["account"], limit=2)
    while True:
        seen += page["items"]
        if page["nextCursor"] is None:
            break
        page = trail(service, history["account"], limit=2, cursor=page["nextCursor"])
    assert seen == everything
    assert len(everything) == 7  # five facts of the first connection, two of the second


def test_a_workspace_restricted_auditor_sees_its_workspaces_only(
    service: Service, history: dict[str, Any]
) -> None:
    headers = bearer(history["account"], workspaces=["ws_2"])
    items = service.http.get("/audit/events", headers=headers).json()["items"]
    assert {i["connectionId"] for i in items} == {history["second"]["id"]}


def test_the_trail_needs_compliance_audit(service: Service, history: dict[str, Any]) -> None:
    reader = bearer(history["account"], permissions=("channels.read", "sms.manage"))
    assert service.http.get("/audit/events", headers=reader).status_code == 403


def test_a_tampered_cursor_or_a_time_without_zone_is_422(
    service: Service, history: dict[str, Any]
) -> None:
    for params in ({"cursor": "bm90LWpzb24="}, {"since": "2026-12-01T10:00:00"}):
        answer = service.http.get("/audit/events", params=params, headers=auth(history["account"]))
        assert answer.status_code == 422, answer.text


def test_exports_hold_every_entry_the_pages_hold(service: Service, history: dict[str, Any]) -> None:
    account = history["account"]
    pages = trail(service, account, limit=200)["items"]
    ndjson = service.http.get("/audit/events", params={"format": "ndjson"}, headers=auth(account))
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert [orjson.loads(line) for line in ndjson.text.splitlines()] == pages
    table = service.http.get("/audit/events", params={"format": "csv"}, headers=auth(account))
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [(r["connectionId"], int(r["version"]), r["type"]) for r in rows] == [
        (p["connectionId"], p["version"], p["type"]) for p in pages
    ]


def test_no_compliance_value_reaches_the_trail_table(
    trail_db: str, history: dict[str, Any]
) -> None:
    with psycopg.connect(trail_db) as connection:
        dump = str(connection.execute("SELECT * FROM sms_audit_trail").fetchall())
    assert "brand.displayName" in dump  # the field's name is there
    assert CANARY not in dump  # its value never


def _export_peak_kib(trail_db: str, account: str, out: Path) -> tuple[int, int]:
    """Run ``sms-channels audit export`` for ``account`` into ``out``; (lines written, that
    process's own peak resident memory in KiB, from ``wait4``)."""
    env = {**os.environ, "DATABASE_URL": trail_db}
    command = [sys.executable, "-m", "sms_channels.cli", "audit", "export", "--account", account]
    with out.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return out.read_bytes().count(b"\n"), usage.ru_maxrss


def test_an_export_of_100_000_entries_runs_in_constant_memory(
    trail_db: str, tmp_path: Path
) -> None:
    # Entries written straight into the read model (the export reads only the table).
    small, large = unique_account(), unique_account()
    with psycopg.connect(trail_db, autocommit=True) as connection:
        for account, count in ((small, 1_000), (large, 100_000)):
            connection.execute(
                "INSERT INTO sms_audit_trail (connection_id, version, account_id, workspace_id,"
                " recorded_at, actor, type, changed_fields)"
                " SELECT gen_random_uuid(), 1, %s, 'ws_1', now() - n * interval '1 second',"
                " 'u1', 'compliance.updated', ARRAY['brand.city', 'campaign.messageFlow']"
                " FROM generate_series(1, %s) AS n",
                (account, count),
            )
    small_lines, small_peak = _export_peak_kib(trail_db, small, tmp_path / "small.ndjson")
    large_lines, large_peak = _export_peak_kib(trail_db, large, tmp_path / "large.ndjson")
    assert (small_lines, large_lines) == (1_000, 100_000)
    # 100x the entries, (nearly) the same memory: the rows are never held all at once.
    assert large_peak - small_peak < 30 * 1024, (small_peak, large_peak)


def test_a_registration_submission_is_in_the_trail_with_its_submitter(service: Service) -> None:
    account = unique_account()
    created = connect(service, account)
    location = f"/channels/sms/connections/{created['id']}"
    example = orjson.loads(
        (Path(__file__).parents[2] / "docs" / "example-compliance.json").read_bytes()
    )
    saved = service.http.put(
        location + "/compliance",
        json=example,
        headers={**auth(account), "If-Match": f'"{created["version"]}"'},
    )
    assert saved.status_code == 200, saved.text
    submitted = service.http.post(
        location + "/registration",
        json={},
        headers={**auth(account), "If-Match": f'"{saved.json()["version"]}"'},
    )
    assert submitted.status_code == 202, submitted.text
    position = submitted.json()["position"]
    wait_for(
        lambda: (
            "X-Projection-Lag"
            not in service.http.get(
                f"/audit/events?waitFor={position}", headers=auth(account)
            ).headers
        ),
        timeout=60,
    )
    items = trail(service, account, type="registration.submitted")["items"]
    assert [(i["connectionId"], i["actor"]) for i in items] == [(created["id"], "u1")]


@pytest.mark.parametrize(
    "position",
    [
        ["desc", "2026-01-01T00:00:00+00:00", 5, 1],  # a number where the id goes
        ["desc", 17, "00000000-0000-0000-0000-000000000000", 1],  # a number for the time
        ["desc", "2026-01-01T00:00:00+00:00", "not-a-uuid", 1],
        ["desc", "2026-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000", True],
        ["asc", "2026-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000", 1],
    ],
)
def test_a_cursor_with_values_of_the_wrong_kind_is_422(
    service: Service, history: dict[str, Any], position: list[Any]
) -> None:
    cursor = base64.urlsafe_b64encode(orjson.dumps(position)).decode()
    answer = service.http.get(
        "/audit/events", params={"cursor": cursor}, headers=auth(history["account"])
    )
    assert answer.status_code == 422, answer.text


def test_a_user_whose_sub_is_provider_cannot_pose_as_the_provider(service: Service) -> None:
    account = unique_account()
    created = connect(service, account)
    impostor = bearer(account, sub="provider")
    location = f"/channels/sms/connections/{created['id']}"
    patched = service.http.patch(location, json={"active": True}, headers=impostor)
    assert patched.status_code == 200, patched.text
    position = patched.json()["position"]
    wait_for(
        lambda: (
            "X-Projection-Lag"
            not in service.http.get(
                f"/audit/events?waitFor={position}", headers=auth(account)
            ).headers
        ),
        timeout=60,
    )
    items = trail(service, account, order="asc")["items"]
    typed = [(i["type"], i["actor"], i["actorType"]) for i in items]
    assert typed == [
        ("connection.requested", "u1", "user"),
        ("connection.connected", "provider", "provider"),
        ("active.changed", "provider", "user"),  # the impostor, named but typed as a user
    ]
    providers = trail(service, account, actorType="provider")["items"]
    assert [i["type"] for i in providers] == ["connection.connected"]
    table = service.http.get("/audit/events", params={"format": "csv"}, headers=auth(account))
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["actorType"] for r in rows] == ["user", "provider", "user"]
