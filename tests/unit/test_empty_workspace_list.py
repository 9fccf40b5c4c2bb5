"""A token whose ``workspaces`` claim is an empty list covers no workspace: it is not an
unrestricted token (an absent claim is). Over HTTP on the in-memory service, each
workspace-scoped read and write answers as for a workspace the token does not cover (404
for a connection or an agent it names, 403 for a workspace it names), while the same request
with the claim absent, or naming the workspace, goes through (issue 30, item 7)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from api.auth import Principal
from api.listing import visible
from api.main import create_app
from domain.application import SmsChannels
from sms_channels.settings import Settings
from tests.support.common import ALL_PERMISSIONS, JWT_SECRET, unique_us_number
from tests.support.fakes import FailingProvider

ACCOUNT = "acc_ws"
CONNECTIONS = "/channels/sms/connections"
UNRESTRICTED: object = object()  # no ``workspaces`` claim at all


def headers(workspaces: object = UNRESTRICTED) -> dict[str, str]:
    claims: dict[str, Any] = {
        "sub": "u1",
        "acc": ACCOUNT,
        "permissions": list(ALL_PERMISSIONS),
        "exp": int(time.time()) + 600,  # minted when used: never expired by a slow run
    }
    if workspaces is not UNRESTRICTED:
        claims["workspaces"] = workspaces
    return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}


def none() -> dict[str, str]:
    """The token under test: an empty workspace list."""
    return headers([])


def connect_body(workspace: str = "ws_1") -> dict[str, Any]:
    number = unique_us_number()
    return {"mode": "new", "countryCode": "US", "phoneNumber": number,
            "workspaceId": workspace, "agentId": "agent_1"}  # fmt: skip


def agent_body(workspace: str = "ws_1") -> dict[str, Any]:
    return {"workspaceId": workspace, "workspaceName": "One", "name": "Agent"}


@pytest.fixture
def application() -> SmsChannels:
    return SmsChannels(FailingProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def client(application: SmsChannels) -> Iterator[TestClient]:
    settings = Settings(persistence="memory", jwt_secret=JWT_SECRET)
    with TestClient(create_app(settings, application)) as test_client:
        yield test_client


@pytest.fixture
def connection(client: TestClient) -> str:
    """A connection of ws_1, made by an unrestricted token; its URL."""
    made = client.post("/channels/sms/connect", json=connect_body(), headers=headers())
    assert made.status_code == 201, made.text
    return f"{CONNECTIONS}/{made.json()['id']}"


def test_an_empty_list_is_a_claim_that_sees_no_workspace() -> None:
    nothing = Principal("u1", ACCOUNT, frozenset(), frozenset())
    assert nothing.workspaces is not None
    assert not nothing.sees("ws_1")
    assert not nothing.sees("")


def test_an_empty_list_lists_nothing_whether_or_not_it_names_a_workspace() -> None:
    nothing = Principal("u1", ACCOUNT, frozenset(), frozenset())
    assert visible(nothing, None) == (None, True)
    assert visible(nothing, "ws_1") == (None, True)
    everything = Principal("u1", ACCOUNT, frozenset())
    assert visible(everything, None) == (None, False)
    assert visible(everything, "ws_1") == ("ws_1", False)


def test_an_empty_list_cannot_read_a_connection(client: TestClient, connection: str) -> None:
    assert client.get(connection, headers=headers()).status_code == 200
    assert client.get(connection, headers=headers(["ws_1"])).status_code == 200
    refused = client.get(connection, headers=none())
    assert refused.status_code == 404, refused.text
    assert refused.json()["code"] == "connection_not_found"


def test_an_empty_list_cannot_change_a_connection(client: TestClient, connection: str) -> None:
    etag = client.get(connection, headers=headers()).headers["ETag"]
    for method, url, body in (
        ("PATCH", connection, {"active": False}),
        ("PUT", connection + "/compliance", {"brand": {"city": "SF"}}),
        ("POST", connection + "/registration", {}),
        ("DELETE", connection, None),
    ):
        answer = client.request(method, url, json=body, headers={**none(), "If-Match": etag})
        assert answer.status_code == 404, (method, url, answer.text)
    # Nothing changed: the version is the one before the refused writes.
    assert client.get(connection, headers=headers()).headers["ETag"] == etag


def test_an_empty_list_cannot_connect_into_a_workspace(client: TestClient) -> None:
    refused = client.post("/channels/sms/connect", json=connect_body(), headers=none())
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "workspace_forbidden"
    allowed = client.post("/channels/sms/connect", json=connect_body(), headers=headers(["ws_1"]))
    assert allowed.status_code == 201, allowed.text


def test_an_empty_list_cannot_write_the_directory(
    client: TestClient, application: SmsChannels
) -> None:
    refused = client.put("/directory/agents/agent_1", json=agent_body(), headers=none())
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "workspace_forbidden"
    recorded = client.put("/directory/agents/agent_1", json=agent_body(), headers=headers())
    assert recorded.status_code == 200, recorded.text
    # Nor remove an agent of ws_1: answered as for an unknown agent (204), and kept.
    removed = client.delete("/directory/agents/agent_1", headers=none())
    assert removed.status_code == 204, removed.text
    assert application.find_agent(ACCOUNT, "agent_1") is not None
    client.delete("/directory/agents/agent_1", headers=headers(["ws_1"]))
    assert application.find_agent(ACCOUNT, "agent_1") is None
