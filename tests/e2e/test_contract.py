"""What the OpenAPI document promises is what the service does (issue 32), over real HTTP
on PostgreSQL: ``If-Match`` where it is required, preconditions judged after the resource,
the idempotency fingerprint, one representation (and tag) per version and coding."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.test_wizard_path import connect_body
from tests.support.common import auth, unique_account, unique_us_number

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


# --- item 4: one representation, and one tag, per version, caller and coding ---------------


def _shown(answer: httpx.Response) -> dict[str, Any]:
    """The representation without ``position`` (about the write, not the resource)."""
    body = answer.json()
    body.pop("position", None)
    return dict(body)


IDENTITY = {"Accept-Encoding": "identity"}


def test_a_command_answers_what_get_shows_with_the_same_tag(http: httpx.Client) -> None:
    account = unique_account()
    headers = {**auth(account), **IDENTITY}
    created = http.post(
        "/channels/sms/connect", json=connect_body(unique_us_number()), headers=headers
    )
    url = created.headers["Location"]
    read = http.get(url, headers=headers)
    assert created.json()["smsCompliance"] == read.json()["smsCompliance"] is not None
    assert (_shown(created), created.headers["ETag"]) == (_shown(read), read.headers["ETag"])
    patched = http.patch(
        url, json={"active": False}, headers={**headers, "If-Match": read.headers["ETag"]}
    )
    assert patched.status_code == 200, patched.text
    again = http.get(url, headers=headers)
    assert (_shown(patched), patched.headers["ETag"]) == (_shown(again), again.headers["ETag"])
    cached = http.get(url, headers={**headers, "If-None-Match": patched.headers["ETag"]})
    assert cached.status_code == 304


def test_a_command_by_a_caller_without_sms_manage_answers_the_readers_variant(
    http: httpx.Client,
) -> None:
    account = unique_account()
    connector = {**auth(account, ("channels.connect",)), **IDENTITY}
    created = http.post(
        "/channels/sms/connect", json=connect_body(unique_us_number()), headers=connector
    )
    assert created.status_code == 201, created.text
    read = http.get(created.headers["Location"], headers=connector)
    assert created.json()["smsCompliance"] is None
    assert created.headers["ETag"] == read.headers["ETag"]


def test_the_gzip_variant_has_its_own_strong_tag_and_either_guards_a_write(
    http: httpx.Client,
) -> None:
    account = unique_account()
    url = _connected(http, account)
    plain = http.get(url, headers={**auth(account), **IDENTITY})
    coded = http.get(url, headers={**auth(account), "Accept-Encoding": "gzip"})
    assert coded.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert plain.json() == coded.json()
    assert coded.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    assert not coded.headers["ETag"].startswith("W/")
    # If-None-Match names the variant the client holds: the other one is sent in full.
    crossed = http.get(
        url, headers={**auth(account), **IDENTITY, "If-None-Match": coded.headers["ETag"]}
    )
    assert crossed.status_code == 200
    patched = http.patch(
        url,
        json={"active": False},
        headers={**auth(account), "If-Match": coded.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_304_varies_as_its_200_does(http: httpx.Client, encoding: str) -> None:
    account = unique_account()
    url = _connected(http, account)
    headers = {**auth(account), "Accept-Encoding": encoding, "Origin": "https://app.example"}
    full = http.get(url, headers=headers)
    assert len(full.content) > 1024  # decoded: large enough to be compressed
    assert (full.headers.get("Content-Encoding") == "gzip") == (encoding == "gzip")
    cached = http.get(url, headers={**headers, "If-None-Match": full.headers["ETag"]})
    assert cached.status_code == 304
    assert cached.headers["ETag"] == full.headers["ETag"]
    assert cached.headers.get_list("Vary") == full.headers.get_list("Vary")
    assert "Accept-Encoding" in full.headers["Vary"]


# --- item 6: the document's examples work against the service ------------------------------


def _examples(http: httpx.Client, path: str, method: str) -> dict[str, Any]:
    operation = http.get("/openapi.json").json()["paths"][path][method]
    examples: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


@pytest.mark.parametrize("name", ["new", "withCompliance"])
def test_the_connect_examples_connect(http: httpx.Client, name: str) -> None:
    example = _examples(http, "/channels/sms/connect", "post")[name]
    number = unique_us_number()  # the example's own number is claimed once per database
    answer = http.post(
        "/channels/sms/connect",
        json={**example, "phoneNumber": number},
        headers=auth(unique_account()),
    )
    assert answer.status_code == 201, answer.text


def test_the_complete_compliance_example_passes_the_preflight_and_is_submitted(
    http: httpx.Client,
) -> None:
    account = unique_account()
    url = _connected(http, account)
    path = "/channels/sms/connections/{connection_id}/compliance"
    form = _examples(http, path, "put")["complete"]
    read = http.get(url, headers=auth(account))
    saved = http.put(
        url + "/compliance", json=form, headers={**auth(account), "If-Match": read.headers["ETag"]}
    )
    assert saved.status_code == 200, saved.text
    preflight = http.get(url + "/compliance/preflight", headers=auth(account)).json()
    assert preflight["ready"] is True, preflight["findings"]
    submitted = http.post(
        url + "/registration", headers={**auth(account), "If-Match": saved.headers["ETag"]}
    )
    assert submitted.status_code == 202, submitted.text
