"""The query side over HTTP: the channels table, SMS requests, the directory endpoints,
read-your-writes, readiness and metrics, with the projections running beside the API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from projections.registry import PROJECTIONS
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import auth, unique_account, unique_us_number
from workers.projector import ProjectionThreads


@pytest.fixture(scope="module", autouse=True)
def projections(database_url: str) -> Iterator[ProjectionThreads]:
    stop = threading.Event()
    application = build_application(Settings(database_url=database_url))
    threads = ProjectionThreads(application, database_url, list(PROJECTIONS), stop).start()
    yield threads
    stop.set()
    threads.join()
    application.close()
    assert threads.errors == []


def connect(http: httpx.Client, account: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": "ws_1",
        "agentId": "agent_1",
        **overrides,
    }
    response = http.post("/channels/sms/connect", json=body, headers=auth(account))
    assert response.status_code in (201, 202), response.text
    result: dict[str, Any] = response.json()
    return result


def page(http: httpx.Client, account: str, **params: Any) -> dict[str, Any]:
    response = http.get("/channels/sms/connections", params=params, headers=auth(account))
    assert response.status_code == 200, response.text
    assert "X-Projection-Lag" not in response.headers
    result: dict[str, Any] = response.json()
    return result


def test_a_new_connection_is_listed_once_its_position_is_read(http: httpx.Client) -> None:
    account = unique_account()
    created = connect(http, account)
    listed = page(http, account, waitFor=created["position"])
    assert [row["id"] for row in listed["items"]] == [created["id"]]
    row = listed["items"][0]
    assert (row["status"], row["degraded"]["isDegraded"], row["degraded"]["reasons"]) == (
        "connected",
        True,
        ["agent_not_found"],
    )
    assert row["degraded"]["since"] is not None
    assert "assignInAgents" in row["actions"]


def test_the_directory_endpoint_resolves_the_knowledge_base_of_listed_rows(
    http: httpx.Client,
) -> None:
    account = unique_account()
    connect(http, account)
    agent = {
        "workspaceId": "ws_1",
        "workspaceName": "Support",
        "name": "Ava",
        "knowledgeBaseId": "kb_1",
        "knowledgeBaseName": "Help center",
    }
    put = http.put("/directory/agents/agent_1", json=agent, headers=auth(account))
    assert put.status_code == 200, put.text
    (row,) = page(http, account, waitFor=put.json()["position"])["items"]
    assert (row["knowledgeBase"], row["workspace"], row["degraded"]["isDegraded"]) == (
        {"id": "kb_1", "name": "Help center"},
        {"id": "ws_1", "name": "Support"},
        False,
    )
    deleted = http.delete("/directory/agents/agent_1", headers=auth(account))
    assert deleted.status_code == 204
    after = http.get(
        "/channels/sms/connections", headers=auth(account), params={"waitFor": _head(http, account)}
    ).json()
    assert after["items"][0]["degraded"]["reasons"] == ["agent_not_found"]


def _head(http: httpx.Client, account: str) -> int:
    # A no-op agent PUT answers with the current log position.
    agent = {"workspaceId": "w", "workspaceName": "W", "name": "n"}
    response = http.put("/directory/agents/probe", json=agent, headers=auth(account))
    position: int = response.json()["position"]
    return position


@pytest.mark.parametrize("sort", ["phoneNumber", "workspace", "knowledgeBase"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort_pages_through_all_rows_in_order(
    http: httpx.Client, sort: str, order: str
) -> None:
    account = unique_account()
    for index in range(7):
        last = connect(http, account, workspaceId=f"ws_{index % 3}")
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"sort": sort, "order": order, "limit": 3, "waitFor": last["position"]}
    while True:
        result = page(http, account, **params)
        seen += result["items"]
        if result["nextCursor"] is None:
            break
        params["cursor"] = result["nextCursor"]
    key = {
        "phoneNumber": lambda r: (r["phoneNumber"], r["id"]),
        "workspace": lambda r: (r["workspace"]["name"] or r["workspace"]["id"], r["id"]),
        "knowledgeBase": lambda r: ((r["knowledgeBase"] or {}).get("name") or "", r["id"]),
    }[sort]
    assert len({r["id"] for r in seen}) == len(seen) == 7
    assert seen == sorted(seen, key=key, reverse=order == "desc")


def test_filters_select_by_workspace_status_and_degraded(http: httpx.Client) -> None:
    account = unique_account()
    connect(http, account, workspaceId="ws_a")
    requested = connect(http, account, workspaceId="ws_b", mode="byon")
    position = requested["position"]
    by_workspace = page(http, account, workspaceId="ws_b", waitFor=position)["items"]
    by_status = page(http, account, status="requested")["items"]
    healthy = page(http, account, degraded="false")["items"]
    assert [r["id"] for r in by_workspace] == [r["id"] for r in by_status] == [requested["id"]]
    assert healthy == []


def test_a_cursor_from_another_sort_is_422(http: httpx.Client) -> None:
    account = unique_account()
    for _ in range(2):
        last = connect(http, account)
    first = page(http, account, limit=1, waitFor=last["position"])
    response = http.get(
        "/channels/sms/connections",
        headers=auth(account),
        params={"cursor": first["nextCursor"], "sort": "workspace"},
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "cursor")


def test_other_accounts_rows_are_never_listed(http: httpx.Client) -> None:
    mine, theirs = unique_account(), unique_account()
    created = connect(http, theirs)
    assert page(http, mine, waitFor=created["position"])["items"] == []


def test_sms_requests_list_a_bring_your_own_number_request(http: httpx.Client) -> None:
    account = unique_account()
    created = connect(http, account, mode="byon")
    response = http.get(
        "/settings/sms-requests", headers=auth(account), params={"waitFor": created["position"]}
    )
    (item,) = response.json()["items"]
    assert (item["id"], item["connectionId"], item["status"], item["mode"]) == (
        created["requestId"],
        created["id"],
        "pending",
        "byon",
    )


def test_a_wait_far_past_the_head_answers_at_once_without_revealing_the_head(
    http: httpx.Client,
) -> None:
    account = unique_account()
    head = _head(http, account)
    response = http.get(
        "/channels/sms/connections", headers=auth(account), params={"waitFor": head + 1_000_000}
    )
    assert response.status_code == 200
    assert response.elapsed.total_seconds() < 1.0
    # The lag is counted up to the head at most: never the distance to the asked position.
    assert int(response.headers.get("X-Projection-Lag", 0)) <= head


def test_readiness_and_metrics_report_the_projections(http: httpx.Client) -> None:
    account = unique_account()
    created = connect(http, account)
    page(http, account, waitFor=created["position"])
    ready = http.get("/readyz")
    metrics = http.get("/metrics").text
    assert ready.status_code == 200, ready.text
    assert 'sms_projection_position{projection="channels_table"}' in metrics
    assert 'sms_projection_lag_events{projection="sms_requests"}' in metrics
    assert "sms_http_request_duration_seconds_count" in metrics


def test_readiness_fails_while_a_projection_is_stopped(
    http: httpx.Client, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO sms_projection_tracking (name) VALUES ('agent_directory')"
            " ON CONFLICT DO NOTHING"
        )
        # Marked stopped the way a failing runner marks it; its next good batch clears it.
        connection.execute(
            "UPDATE sms_projection_tracking SET error = 'Boom', error_position = 1"
            " WHERE name = 'agent_directory'"
        )
        response = http.get("/readyz")
        connection.execute(
            "UPDATE sms_projection_tracking SET error = NULL, error_position = NULL"
            " WHERE name = 'agent_directory'"
        )
    assert response.status_code == 503
    assert "agent_directory" in response.json()["detail"]


def test_a_leftover_rebuild_tracking_row_is_not_exported_as_lag(
    http: httpx.Client, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        # What a rebuild killed half-way leaves behind.
        connection.execute(
            "INSERT INTO sms_projection_tracking (name, position) VALUES"
            " ('channels_table__rebuild', 0) ON CONFLICT DO NOTHING"
        )
        try:
            metrics = http.get("/metrics").text
        finally:
            connection.execute(
                "DELETE FROM sms_projection_tracking WHERE name = 'channels_table__rebuild'"
            )
    assert 'projection="channels_table"' in metrics
    assert "channels_table__rebuild" not in metrics
