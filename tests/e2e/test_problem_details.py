"""Errors over HTTP: status, problem+json shape, stable code, field; nothing echoed."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.common import auth, if_match, token, unique_account, unique_us_number

CANARY = "CANARY-problem-9b1e"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert (body["status"], body["code"]) == (status, code)
    return body


def connect(http: httpx.Client, account: str, number: str | None = None) -> httpx.Response:
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": number or unique_us_number(),
        "workspaceId": "ws",
        "agentId": "agent",
    }
    return http.post("/channels/sms/connect", json=body, headers=auth(account))


def test_no_token_is_401(http: httpx.Client) -> None:
    response = http.get(f"/channels/sms/connections/{uuid.uuid4()}")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_garbage_token_is_401(http: httpx.Client) -> None:
    response = http.get(
        f"/channels/sms/connections/{uuid.uuid4()}", headers={"Authorization": "Bearer not.a.jwt"}
    )
    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path", "permission_held"),
    [
        ("GET", "/channels/sms/connections/{id}", "compliance.audit"),
        ("PUT", "/directory/agents/agent_1", "sms.manage"),
        ("POST", "/channels/sms/connections/{id}/replace-number", "sms.manage"),
        ("PATCH", "/channels/sms/connections/{id}", "channels.read"),
        ("PUT", "/channels/sms/connections/{id}/compliance", "channels.read"),
        ("GET", "/channels/sms/connections/{id}/compliance", "channels.read"),
        ("DELETE", "/channels/sms/connections/{id}", "channels.connect"),
        ("POST", "/channels/sms/connect", "sms.manage"),
    ],
)
def test_a_missing_permission_is_403(
    http: httpx.Client, method: str, path: str, permission_held: str
) -> None:
    headers = {"Authorization": f"Bearer {token(unique_account(), (permission_held,))}"}
    response = http.request(method, path.format(id=uuid.uuid4()), json={}, headers=headers)
    assert_problem(response, 403, "forbidden")


def test_another_accounts_connection_is_404(http: httpx.Client) -> None:
    created = connect(http, unique_account())
    response = http.get(created.headers["Location"], headers=auth(unique_account()))
    assert_problem(response, 404, "connection_not_found")


def test_an_unknown_route_is_404_problem(http: httpx.Client) -> None:
    assert_problem(http.get("/nowhere"), 404, "not_found")


def test_connecting_a_connected_number_is_409(http: httpx.Client) -> None:
    number = unique_us_number()
    connect(http, unique_account(), number)
    body = assert_problem(connect(http, unique_account(), number), 409, "number_already_connected")
    assert body["errors"] == [
        {"field": "phoneNumber", "code": "number_already_connected", "message": body["detail"]}
    ]


def test_activating_a_requested_number_is_409(http: httpx.Client) -> None:
    account = unique_account()
    body = {
        "mode": "byon",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": "ws",
        "agentId": "agent",
    }
    created = http.post("/channels/sms/connect", json=body, headers=auth(account))
    response = http.patch(created.headers["Location"], json={"active": True}, headers=auth(account))
    assert_problem(response, 409, "not_connected")


def test_a_stale_if_match_is_412_and_changes_nothing(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account).headers["Location"]
    stale = http.get(url, headers=auth(account)).headers["ETag"]
    http.put(
        url + "/compliance",
        json={"brand": {"city": "SF"}},
        headers={**auth(account), "If-Match": stale},
    )
    response = http.put(
        url + "/compliance",
        json={"brand": {"city": "LA"}},
        headers={**auth(account), "If-Match": stale},
    )
    assert_problem(response, 412, "version_conflict")
    stored = http.get(url + "/compliance", headers=auth(account)).json()["smsCompliance"]
    assert stored == {"brand": {"city": "SF"}}


def test_a_malformed_if_match_is_422_naming_the_header(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account).headers["Location"]
    response = http.patch(
        url, json={"active": False}, headers={**auth(account), "If-Match": "yesterday"}
    )
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["field"] == "If-Match"  # type: ignore[index]


def test_a_body_over_64_kib_is_413(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account).headers["Location"]
    huge = {"brand": {"displayName": "x" * (70 * 1024)}}
    assert_problem(
        http.put(url + "/compliance", json=huge, headers=auth(account)), 413, "payload_too_large"
    )


def test_an_invalid_compliance_payload_is_422_with_fields_and_no_values(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account).headers["Location"]
    payload = {
        "brand": {"vertical": CANARY, "city": CANARY * 10},
        "campaign": {"embeddedLink": CANARY},
    }
    response = http.put(url + "/compliance", json=payload, headers=if_match(http, url, account))
    body = assert_problem(response, 422, "validation_error")
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {
        "smsCompliance.brand.vertical",
        "smsCompliance.brand.city",
        "smsCompliance.campaign.embeddedLink",
    }
    assert CANARY not in response.text


def test_an_unknown_request_field_is_422(http: httpx.Client) -> None:
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": "ws",
        "agentId": "agent",
        "knowledgeBaseId": "kb",
    }
    response = http.post("/channels/sms/connect", json=body, headers=auth(unique_account()))
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == "knowledgeBaseId"  # type: ignore[index]


@pytest.mark.parametrize(
    ("number", "country", "code"),
    [
        ("+1 415 555 0123", "US", "invalid_phone_number"),
        ("+14155550123", "CA", "phone_number_country_mismatch"),
    ],
)
def test_a_bad_phone_number_is_422_naming_the_field(
    http: httpx.Client, number: str, country: str, code: str
) -> None:
    body = {
        "mode": "new",
        "countryCode": country,
        "phoneNumber": number,
        "workspaceId": "ws",
        "agentId": "agent",
    }
    response = http.post("/channels/sms/connect", json=body, headers=auth(unique_account()))
    problem = assert_problem(response, 422, code)
    assert problem["errors"][0]["field"] == "phoneNumber"  # type: ignore[index]


def test_a_missing_agent_is_422(http: httpx.Client) -> None:
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": "ws",
        "agentId": "",
    }
    response = http.post("/channels/sms/connect", json=body, headers=auth(unique_account()))
    assert_problem(response, 422, "agent_required")


def test_invalid_json_is_422_not_500(http: httpx.Client) -> None:
    response = http.post(
        "/channels/sms/connect",
        content=b"{not json",
        headers={**auth(unique_account()), "Content-Type": "application/json"},
    )
    assert_problem(response, 422, "validation_error")
