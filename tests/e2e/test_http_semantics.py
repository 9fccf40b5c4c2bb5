"""HTTP for real clients (issue 20), over real HTTP on PostgreSQL: tampered cursors are
422 never 500, conditional requests per RFC 9110, HEAD, 405 with a full Allow, 415, gzip,
and the RFC 6750 challenge."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.test_wizard_path import connect_body
from tests.security.conftest import bearer
from tests.support.common import auth, unique_account, unique_us_number

LISTS = ("/settings/sms-requests", "/channels/sms/connections", "/directory/agents")
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=6,
)


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


def _flip(http: httpx.Client, url: str, account: str, **headers: str) -> httpx.Response:
    """A PATCH that changes something (``active`` toggled), so the version moves."""
    active = http.get(url, headers=auth(account)).json()["active"]
    return http.patch(url, json={"active": not active}, headers={**auth(account), **headers})


def _connected(http: httpx.Client, account: str) -> str:
    created = http.post(
        "/channels/sms/connect", json=connect_body(unique_us_number()), headers=auth(account)
    )
    assert created.status_code == 201, created.text
    return str(created.headers["Location"])


# --- item 3: no 500 on tampered input ------------------------------------------------------


SMS_REQUESTS, CHANNELS, AGENTS = LISTS
ZERO = "00000000-0000-0000-0000-000000000000"
TAMPERED = [
    *[(path, value) for path in LISTS for value in ([7, 8], {"a": 1}, ["a\x00", "b"], "x")],
    (SMS_REQUESTS, ["not-a-date", ZERO]),  # the reproduction
    (SMS_REQUESTS, ["2025-01-01T00:00:00", ZERO]),  # no zone
    (SMS_REQUESTS, ["2025-01-01T00:00:00+00:00", "x"]),
    (CHANNELS, ["phoneNumber", "asc", "a\x00b", ZERO]),
    (CHANNELS, ["phoneNumber", "asc", "+1", 5]),
    (CHANNELS, ["phoneNumber", "desc", "+1", ZERO]),  # made for another order
    (AGENTS, ["name", 5]),
]


@pytest.mark.parametrize(("path", "value"), TAMPERED)
def test_a_tampered_cursor_is_422(http: httpx.Client, path: str, value: Any) -> None:
    response = http.get(path, params={"cursor": _cursor(value)}, headers=auth(unique_account()))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "invalid_cursor"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(LISTS), value=JSON_VALUES)
def test_any_decodable_cursor_is_answered_without_a_server_error(
    http: httpx.Client, path: str, value: Any
) -> None:
    response = http.get(path, params={"cursor": _cursor(value)}, headers=auth("acc_fuzz"))
    assert response.status_code in (200, 422), response.text


# --- item 5: conditional requests --------------------------------------------------------------


def test_the_etag_changes_when_the_directory_renames_the_agent(http: httpx.Client) -> None:
    account = unique_account()
    url = _connected(http, account)
    before = http.get(url, headers=auth(account)).headers["ETag"]
    agent = {"workspaceId": "ws_1", "workspaceName": "Support", "name": "Renamed"}
    assert http.put("/directory/agents/agent_1", json=agent, headers=auth(account)).is_success
    after = http.get(url, headers=auth(account))
    assert after.headers["ETag"] != before
    assert after.headers["ETag"].split("-")[0] == before.split("-")[0]  # same version


def test_the_etag_differs_between_the_variants(http: httpx.Client) -> None:
    account = unique_account()
    url = _connected(http, account)
    manager = http.get(url, headers=auth(account)).headers["ETag"]
    reader = http.get(url, headers=auth(account, ("channels.read",))).headers["ETag"]
    assert manager != reader


def test_if_none_match_answers_304_until_something_shown_changes(http: httpx.Client) -> None:
    account = unique_account()
    url = _connected(http, account)
    tag = http.get(url, headers=auth(account)).headers["ETag"]
    cached = http.get(url, headers={**auth(account), "If-None-Match": f'"x", W/{tag}'})
    assert cached.status_code == 304
    assert cached.headers["ETag"] == tag
    assert cached.content == b""
    patched = _flip(http, url, account, **{"If-Match": tag})
    assert patched.status_code == 200, patched.text
    fresh = http.get(url, headers={**auth(account), "If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != tag


def test_a_weak_tag_never_matches(http: httpx.Client) -> None:
    account = unique_account()
    url = _connected(http, account)
    version = http.get(url, headers=auth(account)).json()["version"]
    response = http.patch(
        url, json={"active": False}, headers={**auth(account), "If-Match": f'W/"{version}"'}
    )
    assert response.status_code == 412, response.text
    assert response.json()["code"] == "version_conflict"


def test_a_list_a_star_and_the_bare_version_match(http: httpx.Client) -> None:
    account = unique_account()
    url = _connected(http, account)
    version = http.get(url, headers=auth(account)).json()["version"]
    for header in ('"0", "{}"', "*", "{}"):  # a list, any, the legacy bare version
        response = _flip(http, url, account, **{"If-Match": header.format(version)})
        assert response.status_code == 200, (header, response.text)
        assert response.json()["version"] == version + 1
        version += 1


def test_a_tag_differing_only_in_its_directory_part_still_matches(http: httpx.Client) -> None:
    account = unique_account()
    url = _connected(http, account)
    tag = http.get(url, headers=auth(account)).headers["ETag"]
    agent = {"workspaceId": "ws_1", "workspaceName": "Support", "name": "Renamed again"}
    assert http.put("/directory/agents/agent_1", json=agent, headers=auth(account)).is_success
    response = _flip(http, url, account, **{"If-Match": tag})
    assert response.status_code == 200, response.text


def test_a_stale_version_is_412_with_the_current_etag(http: httpx.Client) -> None:
    account = unique_account()
    url = _connected(http, account)
    stale = http.get(url, headers=auth(account)).headers["ETag"]
    assert _flip(http, url, account).is_success
    response = _flip(http, url, account, **{"If-Match": stale})
    assert response.status_code == 412
    current = http.get(url, headers=auth(account)).json()["version"]
    assert response.headers["ETag"] == f'"{current}"'


def test_directory_writes_honour_if_match(http: httpx.Client) -> None:
    account = unique_account()
    path = "/directory/agents/agent_9"
    body = {"workspaceId": "ws_1", "workspaceName": "Support", "name": "Nine"}
    missing = http.put(path, json=body, headers={**auth(account), "If-Match": "*"})
    assert missing.status_code == 412
    created = http.put(path, json=body, headers=auth(account))
    tag = created.headers["ETag"]
    renamed = http.put(
        path, json={**body, "name": "Nine b"}, headers={**auth(account), "If-Match": tag}
    )
    assert renamed.status_code == 200, renamed.text
    stale = http.delete(path, headers={**auth(account), "If-Match": tag})
    assert stale.status_code == 412
    assert stale.headers["ETag"].strip('"') == renamed.headers["ETag"].strip('"').split("-")[0]
    assert (
        http.delete(
            path, headers={**auth(account), "If-Match": renamed.headers["ETag"]}
        ).status_code
        == 204
    )


# --- item 6: HTTP basics ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/channels/sms/countries", "/openapi.json"])
def test_head_answers_every_get_route_without_a_body(http: httpx.Client, path: str) -> None:
    get = http.get(path, headers=auth(unique_account()))
    head = http.head(path, headers=auth(unique_account()))
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_a_405_lists_every_allowed_method(http: httpx.Client) -> None:
    response = http.post("/channels/sms/connections/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, HEAD, PATCH"


def test_a_json_body_with_another_content_type_is_415(http: httpx.Client) -> None:
    response = http.post(
        "/channels/sms/connect",
        content=orjson.dumps(connect_body(unique_us_number())),
        headers={**auth(unique_account()), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_media_type"


def test_answers_over_one_kib_are_gzipped_when_asked(http: httpx.Client) -> None:
    response = http.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    small = http.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    with http.stream("GET", "/openapi.json", headers={"Accept-Encoding": "gzip"}) as raw:
        assert orjson.loads(gzip.decompress(b"".join(raw.iter_raw())))["openapi"]


def test_a_refused_token_gets_the_invalid_token_challenge(http: httpx.Client) -> None:
    response = http.get("/channels/sms/countries", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


# --- item 4: idempotent replays answer the first result ---------------------------------------


def _connect_keyed(http: httpx.Client, account: str, body: dict[str, Any]) -> httpx.Response:
    headers = {**auth(account), "Idempotency-Key": "K1"}
    return http.post("/channels/sms/connect", json=body, headers=headers)


def test_a_replay_after_a_patch_answers_the_first_result(http: httpx.Client) -> None:
    account = unique_account()
    body = connect_body(unique_us_number())
    first = _connect_keyed(http, account, body)
    assert first.status_code == 201, first.text
    assert _flip(http, first.headers["Location"], account).is_success
    replay = _connect_keyed(http, account, body)
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["Location"] == first.headers["Location"]
    assert replay.headers["ETag"] == first.headers["ETag"]
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_a_replay_after_a_delete_answers_the_first_result(http: httpx.Client) -> None:
    account = unique_account()
    body = connect_body(unique_us_number())
    first = _connect_keyed(http, account, body)
    deleted = http.delete(first.headers["Location"], headers=auth(account))
    assert deleted.status_code == 204
    replay = _connect_keyed(http, account, body)
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.json()["status"] == "connected"


def test_another_request_with_the_same_key_is_not_replayed(http: httpx.Client) -> None:
    account = unique_account()
    assert _connect_keyed(http, account, connect_body(unique_us_number())).status_code == 201
    other = _connect_keyed(http, account, connect_body(unique_us_number()))
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in other.headers


def test_a_refusal_is_not_stored(http: httpx.Client) -> None:
    account = unique_account()
    body = connect_body(unique_us_number(), agentId="")
    assert _connect_keyed(http, account, body).status_code == 422
    retried = _connect_keyed(http, account, body)
    assert retried.status_code == 422
    assert "Idempotent-Replayed" not in retried.headers


def test_a_replay_never_answers_a_caller_the_route_would_refuse(http: httpx.Client) -> None:
    account = unique_account()
    body = connect_body(unique_us_number())
    assert _connect_keyed(http, account, body).status_code == 201
    # The same request and key, by a token restricted to another workspace: the route's 403.
    restricted = {**bearer(account, workspaces=["ws_other"]), "Idempotency-Key": "K1"}
    refused = http.post("/channels/sms/connect", json=body, headers=restricted)
    assert refused.status_code == 403
    assert "Idempotent-Replayed" not in refused.headers


def test_a_keyed_write_with_another_precondition_is_not_replayed(http: httpx.Client) -> None:
    account = unique_account()
    url = _connect_keyed(http, account, connect_body(unique_us_number())).headers["Location"]
    keyed = {**auth(account), "Idempotency-Key": "patch-1"}
    first = http.patch(url, json={"active": True}, headers={**keyed, "If-Match": '"2"'})
    assert first.status_code == 200, first.text
    stale = http.patch(url, json={"active": True}, headers={**keyed, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    assert "Idempotent-Replayed" not in stale.headers
