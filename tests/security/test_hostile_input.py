"""Hostile input over real HTTP: oversized bodies, deep JSON, invalid UTF-8, huge query
strings and headers are refused with a 4xx, never a 500, and change nothing."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from domain.service.directory import find_agent
from tests.e2e.provider_support import Service
from tests.support.common import auth, unique_account, unique_us_number

CONNECT = "/channels/sms/connect"


def post_raw(
    service: Service, body: bytes, content_type: str = "application/json"
) -> httpx.Response:
    headers = {**auth(unique_account()), "Content-Type": content_type}
    return service.http.post(CONNECT, content=body, headers=headers)


def test_a_body_over_64_kib_is_413(service: Service) -> None:
    response = post_raw(service, b'{"mode": "' + b"x" * 70_000 + b'"}')
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_chunked_body_over_the_limit_is_413(service: Service) -> None:
    def chunks() -> object:
        for _ in range(100):
            yield b"x" * 1024

    headers = {**auth(unique_account()), "Content-Type": "application/json"}
    response = service.http.post(CONNECT, content=chunks(), headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 413


@pytest.mark.parametrize("depth", [500, 5_000, 30_000])
def test_deeply_nested_json_is_4xx(service: Service, depth: int) -> None:
    for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        response = post_raw(service, body)
        assert 400 <= response.status_code < 500, response.text


def test_deep_json_in_a_compliance_payload_is_4xx(service: Service) -> None:
    account = unique_account()
    created = service.connect(account, unique_us_number())
    depth = 20_000
    body = b'{"brand": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    response = service.http.put(
        f"{created.headers['Location']}/compliance",
        content=body,
        headers={**auth(account), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "body",
    [b'{"mode": "new\xff\xfe"}', b"\xc3\x28", b'{"mode": "\xed\xa0\x80"}', b"\x00\x00"],
)
def test_invalid_utf8_is_4xx(service: Service, body: bytes) -> None:
    response = post_raw(service, body)
    assert 400 <= response.status_code < 500, response.text


def test_a_non_json_content_type_is_4xx(service: Service) -> None:
    assert (
        400 <= post_raw(service, b"mode=new", "application/x-www-form-urlencoded").status_code < 500
    )


def test_a_long_query_string_is_414(service: Service) -> None:
    response = service.http.get(
        "/channels/sms/numbers",
        params={"countryCode": "US", "contains": "1" * 20_000},
        headers=auth(unique_account()),
    )
    assert response.status_code == 414
    assert response.json()["code"] == "uri_too_long"


def test_a_huge_query_string_is_4xx(service: Service) -> None:
    status = raw_request(
        service,
        b"GET /channels/sms/numbers?countryCode=US&contains="
        + b"1" * 500_000
        + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert status.split()[1].startswith(b"4"), status


def test_many_query_parameters_are_4xx_or_ignored(service: Service) -> None:
    query = "&".join(f"p{n}=x" for n in range(5_000))
    response = service.http.get(
        f"/channels/sms/connections?{query}&limit=abc", headers=auth(unique_account())
    )
    assert 400 <= response.status_code < 500


def raw_request(service: Service, request: bytes) -> bytes:
    """Send bytes the HTTP client would refuse to build; return the status line."""
    url = urlsplit(str(service.http.base_url))
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=10) as sock:
        sock.sendall(request)
        return sock.recv(4096).split(b"\r\n", 1)[0]


def test_a_huge_header_is_4xx(service: Service) -> None:
    status = raw_request(
        service,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    )
    assert status.split()[1].startswith(b"4"), status


def test_a_huge_authorization_header_is_431(service: Service) -> None:
    response = service.http.get(
        "/channels/sms/connections", headers={"Authorization": "Bearer " + "a" * 60_000}
    )
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"


def test_a_path_with_invalid_utf8_is_4xx(service: Service) -> None:
    status = raw_request(
        service, b"GET /channels/sms/connections/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert status.split()[1].startswith(b"4"), status


@pytest.mark.parametrize(
    "body",
    [
        b'{"workspaceId": "ws\\u0000", "workspaceName": "w", "name": "n"}',
        b'{"workspaceId": "ws", "workspaceName": "w", "name": "\\ud800"}',
        b'{"workspaceId": "ws", "workspaceName": "w", "name": "n", "x\\u0000": 1}',
    ],
)
def test_text_postgres_cannot_store_is_422_before_anything_is_recorded(
    service: Service, body: bytes
) -> None:
    # Such a value would become an event that no projection can apply (a poison event
    # stopping the read models of every account): it must never reach the event store.
    account = unique_account()
    headers = {**auth(account), "Content-Type": "application/json"}
    before = service.application.current_position()
    response = service.http.put("/directory/agents/agent_nul", content=body, headers=headers)
    assert response.status_code == 422, response.text
    # Nothing was recorded: the log did not move and the directory does not know the agent.
    assert service.application.current_position() == before
    assert find_agent(service.application, account, "agent_nul") is None


@pytest.mark.parametrize(
    "url",
    ["/directory/agents/a%00b", "/channels/sms/connections?workspaceId=ws%00"],
)
def test_a_nul_in_the_url_is_422(service: Service, url: str) -> None:
    method = "DELETE" if url.startswith("/directory") else "GET"
    response = service.http.request(method, url, headers=auth(unique_account()))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "nul_character"
