"""What the channels UI needs, over real HTTP with the projections running: one truth per
connection (answer, detail and row agree), the agent directory listing, the seed's
permissions, workspace moves, replace-number, the required If-Match on the long form,
the pending answer of an interrupted connect, and browser access (CORS)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from domain.providers import ProviderUnavailableError
from projections.registry import PROJECTIONS
from providers.sandbox import PostgresLedger
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from sms_channels.tokens import WORKSPACE_ADMIN
from tests.e2e.provider_support import Service, running_service
from tests.support.common import auth, if_match, unique_account, unique_us_number
from tests.support.fakes import FailingProvider
from workers.projector import ProjectionThreads

ORIGIN = "https://channels.example.com"


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


@pytest.fixture(scope="module")
def provider(database_url: str) -> FailingProvider:
    """The sandbox on the database's ledger, whose purchases a test can make fail."""
    return FailingProvider(ledger=PostgresLedger(database_url, max_size=2))


@pytest.fixture(scope="module")
def service(database_url: str, provider: FailingProvider) -> Iterator[Service]:
    with running_service(
        database_url, provider, rate_limit_connect_per_minute=0, cors_allow_origins=ORIGIN
    ) as running:
        yield running


def connect(service: Service, account: str, **overrides: Any) -> httpx.Response:
    response = service.connect(account, unique_us_number(), **overrides)
    assert response.status_code in (201, 202), response.text
    return response


def put_agent(
    service: Service, account: str, agent: str, workspace: str = "ws_1", kb: str | None = "kb_1"
) -> int:
    body = {
        "workspaceId": workspace,
        "workspaceName": f"Workspace {workspace}",
        "name": f"Agent {agent}",
        "knowledgeBaseId": kb,
        "knowledgeBaseName": f"KB {kb}" if kb else None,
    }
    response = service.http.put(f"/directory/agents/{agent}", json=body, headers=auth(account))
    assert response.status_code == 200, response.text
    position: int = response.json()["position"]
    return position


def row_of(service: Service, account: str, connection_id: str, position: int) -> dict[str, Any]:
    params = {"waitFor": position}
    page = service.http.get("/channels/sms/connections", params=params, headers=auth(account))
    assert page.status_code == 200, page.text
    assert "X-Projection-Lag" not in page.headers
    (row,) = [r for r in page.json()["items"] if r["id"] == connection_id]
    return dict(row)


# What the single connection and its row both carry (api.md: one rule computes them).
SHARED = (
    *("degraded", "actions", "capabilities", "workspace", "agent", "knowledgeBase"),
    *("registrationStatus", "status", "active", "reclaimReason", "replacedBy", "version"),
)


def agree(answer: dict[str, Any], detail: dict[str, Any], row: dict[str, Any]) -> None:
    for field in SHARED:
        assert answer[field] == detail[field] == row[field], field


# --- 1. one truth ----------------------------------------------------------------------------


def test_an_unknown_agent_is_agent_not_found_in_the_answer_the_detail_and_the_row(
    service: Service,
) -> None:
    account = unique_account()
    answer = connect(service, account, agentId="agent_nobody_knows").json()
    detail = service.http.get(f"/channels/sms/connections/{answer['id']}", headers=auth(account))
    row = row_of(service, account, answer["id"], answer["position"])
    assert answer["degraded"]["reasons"] == ["agent_not_found"]
    assert "assignInAgents" in answer["actions"]
    assert answer["degraded"]["since"] is not None
    agree(answer, detail.json(), row)


def test_a_directory_change_reaches_detail_and_row_alike(service: Service) -> None:
    account = unique_account()
    answer = connect(service, account).json()
    position = put_agent(service, account, "agent_1", kb=None)
    detail = service.http.get(f"/channels/sms/connections/{answer['id']}", headers=auth(account))
    row = row_of(service, account, answer["id"], position)
    assert detail.json()["degraded"]["reasons"] == row["degraded"]["reasons"] == ["kb_unresolved"]
    assert (
        detail.json()["degraded"]["since"]
        == row["degraded"]["since"]
        == answer["degraded"]["since"]
    )
    assert (
        detail.json()["workspace"] == row["workspace"] == {"id": "ws_1", "name": "Workspace ws_1"}
    )


def test_a_reclaimed_connection_says_why_and_offers_replace_number(service: Service) -> None:
    account = unique_account()
    answer = connect(service, account).json()
    reclaimed = service.application.record_reclaimed(UUID(answer["id"]), "expired")
    detail = service.http.get(f"/channels/sms/connections/{answer['id']}", headers=auth(account))
    row = row_of(service, account, answer["id"], reclaimed.position)
    assert detail.json()["reclaimReason"] == row["reclaimReason"] == "expired"
    assert "replaceNumber" in detail.json()["actions"]
    assert detail.json()["actions"] == row["actions"]


# --- 2. the agent directory --------------------------------------------------------------------


def test_the_agent_selector_lists_a_workspaces_agents_with_their_knowledge_base(
    service: Service,
) -> None:
    account = unique_account()
    put_agent(service, account, "agent_b", kb=None)
    put_agent(service, account, "agent_a")
    position = put_agent(service, account, "agent_c", workspace="ws_2")
    params: dict[str, Any] = {"workspaceId": "ws_1", "waitFor": position, "limit": 1}
    first = service.http.get("/directory/agents", params=params, headers=auth(account)).json()
    params["cursor"] = first["nextCursor"]
    second = service.http.get("/directory/agents", params=params, headers=auth(account)).json()
    assert first["items"] == [
        {
            "agentId": "agent_a",
            "name": "Agent agent_a",
            "workspace": {"id": "ws_1", "name": "Workspace ws_1"},
            "knowledgeBase": {"id": "kb_1", "name": "KB kb_1"},
        }
    ]
    assert [a["agentId"] for a in second["items"]] == ["agent_b"]
    assert second["items"][0]["knowledgeBase"] is None
    assert second["nextCursor"] is None


def test_the_agent_selector_shows_no_other_accounts_agents(service: Service) -> None:
    position = put_agent(service, unique_account(), "agent_a")
    params = {"waitFor": position}
    page = service.http.get("/directory/agents", params=params, headers=auth(unique_account()))
    assert page.json() == {"items": [], "nextCursor": None}


def test_a_broken_directory_cursor_is_422(service: Service) -> None:
    params = {"cursor": "not-a-cursor"}
    response = service.http.get("/directory/agents", params=params, headers=auth(unique_account()))
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "cursor")


# --- 3. the seed's permissions ---------------------------------------------------------------


def test_the_workspace_admin_reads_the_channels_it_connects(service: Service) -> None:
    account = unique_account()
    admin = auth(account, WORKSPACE_ADMIN)
    created = service.connect(account, unique_us_number())
    assert service.http.get(created.headers["Location"], headers=admin).status_code == 200
    assert service.http.get("/channels/sms/connections", headers=admin).status_code == 200
    assert service.http.get("/directory/agents", headers=admin).status_code == 200


@pytest.mark.parametrize("held", [("channels.connect",), ("sms.manage",)])
def test_connect_or_manage_alone_grants_reading(service: Service, held: tuple[str, ...]) -> None:
    response = service.http.get("/channels/sms/connections", headers=auth(unique_account(), held))
    assert response.status_code == 200, response.text


def test_an_admin_cannot_write_the_directory(service: Service) -> None:
    account = unique_account()
    body = {"workspaceId": "ws_1", "workspaceName": "S", "name": "A", "knowledgeBaseId": "kb_x"}
    admin = auth(account, WORKSPACE_ADMIN)
    put = service.http.put("/directory/agents/agent_1", json=body, headers=admin)
    delete = service.http.delete("/directory/agents/agent_1", headers=admin)
    assert (put.status_code, delete.status_code) == (403, 403)
    writer = auth(account, ("directory.write",))
    assert (
        service.http.put("/directory/agents/agent_1", json=body, headers=writer).status_code == 200
    )


# --- 4. moves and replacements ----------------------------------------------------------------


def test_a_connection_moves_to_another_workspace_with_an_agent_of_it(service: Service) -> None:
    account = unique_account()
    put_agent(service, account, "agent_2", workspace="ws_2")
    created = connect(service, account)
    body = {"workspaceId": "ws_2", "agentId": "agent_2"}
    moved = service.http.patch(created.headers["Location"], json=body, headers=auth(account))
    assert moved.status_code == 200, moved.text
    answer = moved.json()
    assert (answer["workspace"]["id"], answer["agent"]["id"]) == ("ws_2", "agent_2")
    row = row_of(service, account, answer["id"], answer["position"])
    assert row["workspace"] == {"id": "ws_2", "name": "Workspace ws_2"}
    assert row["degraded"]["isDegraded"] is False


@pytest.mark.parametrize("agent", ["agent_nobody_knows", "agent_of_ws_1"])
def test_a_move_with_an_agent_not_of_that_workspace_is_422_and_records_nothing(
    service: Service, agent: str
) -> None:
    account = unique_account()
    put_agent(service, account, "agent_of_ws_1")
    created = connect(service, account)
    body = {"workspaceId": "ws_2", "agentId": agent}
    moved = service.http.patch(created.headers["Location"], json=body, headers=auth(account))
    assert (moved.status_code, moved.json()["code"]) == (422, "unknown_agent")
    assert moved.json()["errors"][0]["field"] == "agentId"
    after = service.http.get(created.headers["Location"], headers=auth(account)).json()
    assert (after["workspace"]["id"], after["version"]) == ("ws_1", created.json()["version"])


def replace(
    service: Service, account: str, location: str, key: str, number: str | None = None
) -> httpx.Response:
    body = {"mode": "new", "countryCode": "US", "phoneNumber": number or unique_us_number()}
    headers = {**auth(account), "Idempotency-Key": key}
    return service.http.post(f"{location}/replace-number", json=body, headers=headers)


def test_replace_number_carries_workspace_agent_and_compliance_over(service: Service) -> None:
    account = unique_account()
    draft = {"brand": {"displayName": "Acme Dental"}, "campaign": {"directLending": False}}
    created = connect(service, account, agentId="agent_7", smsCompliance=draft)
    service.application.record_reclaimed(UUID(created.json()["id"]), "reclaimed")
    response = replace(service, account, created.headers["Location"], "replace-1")
    assert response.status_code == 201, response.text
    new = response.json()
    assert (new["workspace"]["id"], new["agent"]["id"], new["status"]) == (
        "ws_1",
        "agent_7",
        "connected",
    )
    stored = service.http.get(response.headers["Location"] + "/compliance", headers=auth(account))
    assert stored.json()["smsCompliance"] == draft
    old = service.http.get(created.headers["Location"], headers=auth(account)).json()
    assert old["replacedBy"] == new["id"]
    assert "replaceNumber" not in old["actions"]
    # A retry with the same Idempotency-Key answers the same replacement.
    again = replace(service, account, created.headers["Location"], "replace-1", new["phoneNumber"])
    assert (again.status_code, again.json()["id"]) == (201, new["id"])


def test_replace_number_of_a_connected_number_is_409(service: Service) -> None:
    account = unique_account()
    created = connect(service, account)
    response = replace(service, account, created.headers["Location"], "replace-2")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_replace_number_needs_connect_as_well_as_manage(service: Service) -> None:
    account = unique_account()
    created = connect(service, account)
    body = {"mode": "new", "countryCode": "US", "phoneNumber": unique_us_number()}
    headers = auth(account, ("sms.manage",))
    response = service.http.post(
        created.headers["Location"] + "/replace-number", json=body, headers=headers
    )
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


# --- 5. no lost edits on the long form --------------------------------------------------------


def test_a_compliance_put_without_if_match_is_428_and_records_nothing(service: Service) -> None:
    account = unique_account()
    location = connect(service, account).headers["Location"]
    body = {"brand": {"displayName": "Acme"}}
    response = service.http.put(location + "/compliance", json=body, headers=auth(account))
    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert response.json()["errors"][0]["field"] == "If-Match"
    assert service.http.get(location, headers=auth(account)).json()["version"] == 2


def test_saving_the_untouched_form_answers_no_yes_no_question(service: Service) -> None:
    account = unique_account()
    location = connect(service, account).headers["Location"]
    blank = service.http.get(location + "/compliance", headers=auth(account)).json()
    flags = ("numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent")
    assert {blank["smsCompliance"]["campaign"][f] for f in flags} == {None}
    saved = service.http.put(
        location + "/compliance",
        json=blank["smsCompliance"],
        headers=if_match(service.http, location, account),
    )
    assert saved.status_code == 200, saved.text
    (attributes,) = [
        s
        for s in saved.json()["complianceProgress"]["sections"]
        if s["name"] == "campaign_attributes"
    ]
    assert {f"campaign.{f}" for f in flags} <= set(attributes["missing"])


# --- 6. mid-purchase outage --------------------------------------------------------------------


def test_an_interrupted_purchase_answers_503_with_the_pending_connection(
    service: Service, provider: FailingProvider
) -> None:
    account, number = unique_account(), unique_us_number()
    provider.error = ProviderUnavailableError(7)
    try:
        interrupted = service.connect(account, number)
    finally:
        provider.error = None
    assert (interrupted.status_code, interrupted.json()["code"]) == (503, "provider_unavailable")
    assert interrupted.headers["Retry-After"] == "7"
    connection_id = interrupted.json()["connectionId"]
    assert interrupted.headers["Location"] == f"/channels/sms/connections/{connection_id}"
    pending = service.http.get(interrupted.headers["Location"], headers=auth(account))
    assert pending.json()["status"] == "requested"
    # The retry carries no Idempotency-Key: it resumes the pending request, no 409.
    retried = service.connect(account, number)
    assert (retried.status_code, retried.json()["id"]) == (201, connection_id)


def test_a_different_request_for_a_pending_number_is_still_409(
    service: Service, provider: FailingProvider
) -> None:
    account, number = unique_account(), unique_us_number()
    provider.error = ProviderUnavailableError()
    try:
        assert service.connect(account, number).status_code == 503
    finally:
        provider.error = None
    other = service.connect(account, number, workspaceId="ws_other")
    assert (other.status_code, other.json()["code"]) == (409, "number_already_connected")


# --- 7. browser access ---------------------------------------------------------------------------


def test_a_preflight_from_the_channels_ui_is_allowed(service: Service) -> None:
    response = service.http.options(
        "/channels/sms/connections/00000000-0000-0000-0000-000000000000/compliance",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert "if-match" in response.headers["Access-Control-Allow-Headers"].lower()


def test_scripts_of_the_channels_ui_can_read_etag_location_and_lag(service: Service) -> None:
    account = unique_account()
    headers = {**auth(account), "Origin": ORIGIN}
    created = service.http.post(
        "/channels/sms/connect",
        json={
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": unique_us_number(),
            "workspaceId": "ws_1",
            "agentId": "agent_1",
        },
        headers=headers,
    )
    assert created.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = created.headers["Access-Control-Expose-Headers"].lower().replace(" ", "")
    assert set(exposed.split(",")) == {
        "etag",
        "location",
        "retry-after",
        "x-projection-lag",
        "idempotent-replayed",
    }


def test_another_origin_gets_no_cors_headers(service: Service) -> None:
    response = service.http.options(
        "/channels/sms/connections",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_without_cors_allow_origins_no_cors_headers_are_sent(database_url: str) -> None:
    with running_service(database_url) as plain:
        response = plain.http.get("/healthz", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


# --- 8. the contract as served -----------------------------------------------------------------


def test_the_openapi_document_describes_the_channels_ui_contract(service: Service) -> None:
    document = service.http.get("/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert "post" in paths["/channels/sms/connections/{connection_id}/replace-number"]
    assert "get" in paths["/directory/agents"]
    assert (
        "428" in paths["/channels/sms/connections/{connection_id}/compliance"]["put"]["responses"]
    )
    assert "since" in schemas["Degraded"]["properties"]
    assert {"reclaimReason", "replacedBy"} <= set(schemas["ConnectionOut"]["properties"])
    assert {"reclaimReason", "replacedBy"} <= set(schemas["ChannelRow"]["properties"])
    assert "workspaceId" in schemas["UpdateConnectionRequest"]["properties"]
    assert "connectionId" in schemas["Problem"]["properties"]


@pytest.mark.parametrize("cursor", ["WzEsMl0=", "WyJhXHUwMDAwIiwiYiJd", "bnVsbA=="])
def test_a_forged_directory_cursor_is_422_not_a_failure(service: Service, cursor: str) -> None:
    # [1,2] / ["a\u0000","b"] / null: valid base64 JSON that is no cursor of ours.
    params = {"cursor": cursor, "workspaceId": "ws_1"}
    response = service.http.get("/directory/agents", params=params, headers=auth(unique_account()))
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


def test_a_nul_in_the_workspace_filter_is_4xx(service: Service) -> None:
    params = {"workspaceId": "ws\x00"}
    response = service.http.get("/directory/agents", params=params, headers=auth(unique_account()))
    assert 400 <= response.status_code < 500, response.text


def test_a_compliance_put_with_if_match_any_is_428_too(service: Service) -> None:
    # "*" would overwrite whatever is there: the blind write the precondition prevents.
    account = unique_account()
    location = connect(service, account).headers["Location"]
    body = {"brand": {"displayName": "Acme"}}
    response = service.http.put(
        location + "/compliance", json=body, headers={**auth(account), "If-Match": "*"}
    )
    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert service.http.get(location, headers=auth(account)).json()["version"] == 2
