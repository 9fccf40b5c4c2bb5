"""Workspace-restricted tokens (a ``workspaces`` claim) see and change only their workspaces.
Connecting into another workspace is 403 (the caller named it: nothing is revealed); every
read or write of a connection in another workspace is 404, as for another account's."""

from __future__ import annotations

import pytest

from domain.service.directory import find_agent
from tests.e2e.provider_support import Service
from tests.security.conftest import bearer
from tests.support.common import unique_account, unique_us_number


@pytest.fixture
def account() -> str:
    return unique_account()


def connected(service: Service, account: str, workspace: str) -> str:
    return str(connect(service, account, workspace)["id"])


def connect(service: Service, account: str, workspace: str) -> dict[str, object]:
    response = service.connect(account, unique_us_number(), workspaceId=workspace)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_restricted_token_reads_a_connection_of_its_workspace(
    service: Service, account: str
) -> None:
    mine = connected(service, account, "ws_a")
    response = service.http.get(
        f"/channels/sms/connections/{mine}", headers=bearer(account, workspaces=["ws_a"])
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"active": False}),
        ("DELETE", "", None),
        ("GET", "/compliance", None),
        ("PUT", "/compliance", {"brand": {}, "campaign": {}}),
        ("GET", "/compliance/preflight", None),
        ("GET", "/compliance/history", None),
        ("GET", "/compliance/history/verify", None),
        ("GET", "/registration", None),
        ("POST", "/registration", None),
    ],
)
def test_a_connection_in_another_workspace_is_404(
    service: Service, account: str, method: str, suffix: str, body: object
) -> None:
    theirs = connected(service, account, "ws_b")
    response = service.http.request(
        method,
        f"/channels/sms/connections/{theirs}{suffix}",
        json=body,
        headers={**bearer(account, workspaces=["ws_a"]), "If-Match": '"2"'},
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "connection_not_found"
    still = service.http.get(f"/channels/sms/connections/{theirs}", headers=bearer(account))
    assert still.status_code == 200
    assert still.json()["version"] == 2  # requested + connected: nothing was changed


def test_connecting_into_another_workspace_is_403_and_records_nothing(
    service: Service, account: str
) -> None:
    number = unique_us_number()
    body = {"mode": "new", "countryCode": "US", "phoneNumber": number, "workspaceId": "ws_b"}
    response = service.http.post(
        "/channels/sms/connect",
        json={**body, "agentId": "agent_1"},
        headers=bearer(account, workspaces=["ws_a"]),
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "workspace_forbidden"
    # The number is still free: an unrestricted token can connect it.
    assert service.connect(account, number, workspaceId="ws_b").status_code == 201


def test_the_list_shows_only_the_tokens_workspace(listing: Service, account: str) -> None:
    service = listing
    mine = connected(service, account, "ws_a")
    theirs = connect(service, account, "ws_b")
    restricted = bearer(account, workspaces=["ws_a"])
    listed = service.http.get(
        "/channels/sms/connections", params={"waitFor": theirs["position"]}, headers=restricted
    )
    assert "X-Projection-Lag" not in listed.headers
    listed = listed.json()
    assert [row["id"] for row in listed["items"]] == [mine]
    asked = service.http.get(
        "/channels/sms/connections", params={"workspaceId": "ws_b"}, headers=restricted
    ).json()
    assert asked["items"] == []
    requests = service.http.get(
        "/settings/sms-requests", params={"waitFor": theirs["position"]}, headers=restricted
    ).json()
    assert [r["connectionId"] for r in requests["items"]] == [mine]
    assert str(theirs["id"]) not in str(requests)


def test_a_token_of_several_workspaces_must_name_one_to_list(
    service: Service, account: str
) -> None:
    response = service.http.get(
        "/channels/sms/connections", headers=bearer(account, workspaces=["ws_a", "ws_b"])
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "workspace_required"


def agent_body(workspace: str) -> dict[str, object]:
    return {
        "workspaceId": workspace,
        "workspaceName": workspace,
        "name": "Agent",
        "knowledgeBaseId": None,
        "knowledgeBaseName": None,
    }


def test_directory_put_into_another_workspace_is_403(service: Service, account: str) -> None:
    response = service.http.put(
        "/directory/agents/agent_9",
        json=agent_body("ws_b"),
        headers=bearer(account, workspaces=["ws_a"]),
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "workspace_forbidden"


def test_a_put_of_an_agent_of_another_workspace_is_404_and_changes_nothing(
    service: Service, account: str
) -> None:
    created = service.http.put(
        "/directory/agents/agent_b", json=agent_body("ws_b"), headers=bearer(account)
    )
    assert created.status_code == 200, created.text
    response = service.http.put(
        "/directory/agents/agent_b",
        json=agent_body("ws_a"),
        headers=bearer(account, workspaces=["ws_a"]),
    )
    assert response.status_code == 404, response.text
    found = find_agent(service.application, account, "agent_b")
    assert found is not None
    assert found.workspace_id == "ws_b"


@pytest.mark.parametrize("claim", ["ws_a", [1], [""], {"ws": 1}])
def test_a_malformed_workspaces_claim_is_401(service: Service, claim: object) -> None:
    response = service.http.get(
        "/channels/sms/connections", headers=bearer(unique_account(), workspaces=claim)
    )
    assert response.status_code == 401


@pytest.mark.parametrize("if_match", ['"1"', "*", None])
def test_a_conditional_delete_answers_alike_for_an_unknown_and_a_foreign_agent(
    service: Service, account: str, if_match: str | None
) -> None:
    body = {"workspaceId": "ws_b", "workspaceName": "B", "name": "Theirs"}
    put = service.http.put("/directory/agents/agent_b", json=body, headers=bearer(account))
    assert put.status_code == 200, put.text
    headers = {**bearer(account, workspaces=["ws_a"])}
    if if_match is not None:
        headers["If-Match"] = if_match
    foreign = service.http.delete("/directory/agents/agent_b", headers=headers)
    unknown = service.http.delete("/directory/agents/agent_none", headers=headers)
    assert (foreign.status_code, foreign.headers.get("ETag"), foreign.text) == (
        unknown.status_code,
        unknown.headers.get("ETag"),
        unknown.text,
    )
    assert foreign.status_code == (204 if if_match is None else 412)
    # The foreign agent was left alone.
    assert find_agent(service.application, account, "agent_b") is not None
