"""The channels UI's path through the API, over HTTP, on PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.common import auth, unique_account, unique_us_number

DRAFT: dict[str, Any] = {
    "brand": {
        "displayName": "Acme Dental",
        "entity": "PRIVATE_PROFIT",
        "city": " San Francisco",
        "zipCode": "94107",
    },
    "campaign": {
        "messageSamples": ["Acme Dental: your visit is tomorrow at 9am.", None, ""],
        "termsAndConditions": False,
        "optOutKeywords": "stop,  Quit",
    },
}


def connect_body(number: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": number,
        "workspaceId": "ws_1",
        "agentId": "agent_1",
    }
    body.update(overrides)
    return body


def test_the_wizard_path_from_connect_to_delete(http: httpx.Client) -> None:
    account = unique_account()
    headers = auth(account)

    # Step 3 + 5: connect a new number to a workspace and an agent.
    created = http.post(
        "/channels/sms/connect", json=connect_body(unique_us_number()), headers=headers
    )
    assert created.status_code == 201, created.text
    connection = created.json()
    assert connection["status"] == "connected"
    assert created.headers["Location"] == f"/channels/sms/connections/{connection['id']}"
    url = created.headers["Location"]

    # The settings dialog opens: a connection without compliance data has empty defaults.
    read = http.get(url, headers=headers)
    assert read.headers["ETag"].startswith(f'"{connection["version"]}-')
    assert read.json()["smsCompliance"]["brand"]["displayName"] == ""

    # The operator saves a draft with the version they read.
    saved = http.put(
        url + "/compliance", json=DRAFT, headers={**headers, "If-Match": read.headers["ETag"]}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == connection["version"] + 1

    # Read back: exactly as entered, spaces, nulls and case included.
    again = http.get(url + "/compliance", headers=headers)
    assert again.json()["smsCompliance"] == DRAFT

    # Switch off and on again.
    off = http.patch(url, json={"active": False}, headers=headers)
    on = http.patch(
        url, json={"active": True}, headers={**headers, "If-Match": off.headers["ETag"]}
    )
    assert (off.status_code, on.status_code, on.json()["active"]) == (200, 200, True)

    # Delete; the connection is gone for the UI.
    assert http.delete(url, headers=headers).status_code == 204
    gone = http.get(url, headers=headers)
    assert (gone.status_code, gone.json()["code"]) == (404, "connection_not_found")


def test_bring_your_own_number_is_accepted_as_a_request(http: httpx.Client) -> None:
    response = http.post(
        "/channels/sms/connect",
        json=connect_body(unique_us_number(), mode="byon"),
        headers=auth(unique_account()),
    )
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["requestId"] is not None) == (
        "requested",
        True,
    )


def test_a_replayed_idempotency_key_answers_the_same_connection(http: httpx.Client) -> None:
    headers = {**auth(unique_account()), "Idempotency-Key": "wizard-submit-1"}
    body = connect_body(unique_us_number())
    first = http.post("/channels/sms/connect", json=body, headers=headers)
    second = http.post("/channels/sms/connect", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]


def test_compliance_is_shown_only_to_callers_who_manage_sms(http: httpx.Client) -> None:
    account = unique_account()
    created = http.post(
        "/channels/sms/connect", json=connect_body(unique_us_number()), headers=auth(account)
    )
    reader = http.get(created.headers["Location"], headers=auth(account, ("channels.read",)))
    assert reader.status_code == 200
    assert reader.json()["smsCompliance"] is None


def test_a_connect_with_a_compliance_draft_saves_it(http: httpx.Client) -> None:
    account = unique_account()
    created = http.post(
        "/channels/sms/connect",
        json=connect_body(unique_us_number(), smsCompliance=DRAFT),
        headers=auth(account),
    )
    stored = http.get(created.headers["Location"] + "/compliance", headers=auth(account))
    assert stored.json()["smsCompliance"] == DRAFT
