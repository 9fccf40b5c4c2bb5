"""What the OpenAPI document promises is what the service does (issue 32), over real HTTP
on PostgreSQL: ``If-Match`` where it is required, preconditions judged after the resource,
the idempotency fingerprint, one representation (and tag) per version and coding."""

from __future__ import annotations

import gzip
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.test_wizard_path import connect_body
from tests.support import auth, unique_account, unique_us_number

CONNECTIONS = "/channels/sms/connections"


def _connected(http: httpx.Client, account: str, **overrides: Any) -> str:
    created = http.post(
        "/channels/sms/connect",
        json=connect_body(unique_us_number(), **overrides),
        headers=auth(account),
    )
    assert created.status_code == 201, created.text
    return str(created.headers["Location"])


# --- item 1: If-Match where it is required -------------------------------------------------


@pytest.mark.parametrize(("method", "suffix"), [("PUT", "/compliance"), ("POST", "/registration")])
def test_star_on_a_required_precondition_is_428_as_documented(
    http: httpx.Client, method: str, suffix: str
) -> None:
    account = unique_account()
    url = _connected(http, account) + suffix
    answer = http.request(method, url, json={}, headers={**auth(account), "If-Match": "*"})
    assert answer.status_code == 428, answer.text
    assert answer.json()["code"] == "precondition_required"
    operation = http.get("/openapi.json").json()["paths"][
        "/channels/sms/connections/{connection_id}" + suffix
    ][method.lower()]
    header = next(p for p in operation["parameters"] if p["name"] == "If-Match")
    assert header["required"] is True
    assert not re.fullmatch(header["schema"]["pattern"], "*")
    assert re.fullmatch(header["schema"]["pattern"], '"3-0123456789abcdef"')


# --- item 2: the precondition is judged after the resource ---------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"active": False}),
        ("DELETE", "", None),
        ("PUT", "/compliance", {}),
        ("POST", "/registration", {}),
    ],
)
@pytest.mark.parametrize("tag", ['W/"1"', '"1"', '"foreign"'])
def test_a_missing_connection_is_404_whatever_if_match_says(
    http: httpx.Client, method: str, suffix: str, body: object, tag: str
) -> None:
    url = f"{CONNECTIONS}/{uuid.uuid4()}{suffix}"
    headers = {**auth(unique_account()), "If-Match": tag}
    answer = http.request(method, url, json=body, headers=headers)
    assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(("method", "suffix"), [("PATCH", ""), ("PUT", "/compliance")])
def test_a_malformed_id_is_422_whatever_if_match_says(
    http: httpx.Client, method: str, suffix: str
) -> None:
    headers = {**auth(unique_account()), "If-Match": 'W/"1"'}
    answer = http.request(method, f"{CONNECTIONS}/not-a-uuid{suffix}", json={}, headers=headers)
    assert answer.status_code == 422, answer.text


def test_a_weak_tag_on_an_existing_connection_is_412_with_the_current_tag(
    http: httpx.Client,
) -> None:
    account = unique_account()
    url = _connected(http, account)
    version = http.get(url, headers=auth(account)).json()["version"]
    answer = http.put(
        url + "/compliance", json={}, headers={**auth(account), "If-Match": f'W/"{version}"'}
    )
    assert answer.status_code == 412, answer.text
    assert answer.json()["code"] == "version_conflict"
    assert answer.headers["ETag"] == f'"{version}"'


# --- item 3: the idempotency fingerprint is the whole request ------------------------------


def _keyed_connect(http: httpx.Client, account: str, body: dict[str, Any]) -> httpx.Response:
    headers = {**auth(account), "Idempotency-Key": "contract-1"}
    return http.post("/channels/sms/connect", json=body, headers=headers)


def test_the_same_key_with_another_agent_is_refused(http: httpx.Client) -> None:
    account = unique_account()
    body = connect_body(unique_us_number())
    assert _keyed_connect(http, account, body).status_code == 201
    other = _keyed_connect(http, account, {**body, "agentId": "agent_2"})
    assert other.status_code == 422, other.text
    assert other.json()["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in other.headers


def test_the_same_request_with_its_keys_in_another_order_is_replayed(http: httpx.Client) -> None:
    account = unique_account()
    body = connect_body(unique_us_number())
    first = _keyed_connect(http, account, body)
    assert first.status_code == 201, first.text
    reordered = dict(reversed(list(body.items())))
    replay = _keyed_connect(http, account, reordered)
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
