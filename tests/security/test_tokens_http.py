"""Bearer tokens over HTTP: every malformed, forged, stale or insufficient token is a 401 or
403 problem+json, never a 500; previous keys still verify during a rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from pydantic import SecretStr

from api.main import create_app
from sms_channels.settings import Settings
from tests.e2e.provider_support import Service
from tests.security.conftest import bearer
from tests.support.common import JWT_SECRET, live_server, unique_account

PATH = "/channels/sms/connections"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, object], claims: dict[str, object]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def claims(**overrides: object) -> dict[str, object]:
    return {
        "sub": "u",
        "acc": unique_account(),
        "permissions": ["channels.read"],
        "exp": int(time.time()) + 600,
        **overrides,
    }


INVALID_TOKEN = 'Bearer error="invalid_token"'


def assert_401(response: httpx.Response, challenges: tuple[str, ...] = (INVALID_TOKEN,)) -> None:
    """A 401 problem whose RFC 6750 challenge is one of ``challenges`` (a refused token:
    ``error="invalid_token"``)."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] in challenges


def get(service: Service, token: str) -> httpx.Response:
    return service.http.get(PATH, headers={"Authorization": f"Bearer {token}"})


def test_an_expired_token_is_401(service: Service) -> None:
    assert_401(get(service, jwt.encode(claims(exp=int(time.time()) - 120), JWT_SECRET)))


def test_a_not_yet_valid_token_is_401(service: Service) -> None:
    response = get(service, jwt.encode(claims(nbf=int(time.time()) + 600), JWT_SECRET))
    assert_401(response)
    assert "not valid yet" in response.json()["detail"]


def test_a_token_signed_with_another_key_is_401(service: Service) -> None:
    assert_401(get(service, jwt.encode(claims(), "another-secret-" + "y" * 40)))


def test_alg_none_is_401(service: Service) -> None:
    assert_401(get(service, unsigned({"alg": "none", "typ": "JWT"}, claims())))


@pytest.mark.parametrize("alg", ["None", "NONE", "HS512", "ES256", "", None])
def test_an_algorithm_other_than_the_configured_one_is_401(
    service: Service, alg: str | None
) -> None:
    assert_401(get(service, unsigned({"alg": alg, "typ": "JWT"}, claims()) + "c2ln"))


@pytest.mark.parametrize("missing", ["sub", "acc", "permissions", "exp"])
def test_a_token_missing_a_claim_is_401(service: Service, missing: str) -> None:
    body = claims()
    del body[missing]
    assert_401(get(service, jwt.encode(body, JWT_SECRET)))


@pytest.mark.parametrize(
    "bad",
    [
        {"sub": 7},
        {"acc": ""},
        {"permissions": "channels.read"},
        {"permissions": [1]},
        {"exp": "tomorrow"},
        {"nbf": "soon"},
        {"iat": "then"},
    ],
)
def test_a_token_with_a_claim_of_the_wrong_type_is_401(
    service: Service, bad: dict[str, object]
) -> None:
    assert_401(get(service, jwt.encode(claims(**bad), JWT_SECRET)))


def test_unknown_permissions_grant_nothing(service: Service) -> None:
    token = jwt.encode(claims(permissions=["root", "channels.*", "*"]), JWT_SECRET)
    response = get(service, token)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not.a.jwt",
        "Bearer a.b.c.d",
        "Bearer ....",
        "Bearer " + "A" * 6000,
        "Bearer e30.e30.",
        "Bearer eyJhbGciOiJIUzI1NiJ9.%%%.%%%",
        "Token abc",
        "bearer",
    ],
)
def test_garbage_authorization_headers_are_401(service: Service, header: str) -> None:
    # No bearer credentials at all ("Basic ...", "Bearer" alone) is a plain challenge.
    response = service.http.get(PATH, headers={"Authorization": header})
    assert_401(response, (INVALID_TOKEN, "Bearer"))


def test_a_non_json_token_header_is_401(service: Service) -> None:
    token = f"{b64(b'not json')}.{b64(json.dumps(claims()).encode())}.sig"
    assert_401(get(service, token))


@pytest.fixture(scope="module")
def rs256_server(database_url: str, rsa_keys: tuple[str, str]) -> Iterator[httpx.Client]:
    settings = Settings(database_url=database_url, jwt_public_key=rsa_keys[1])
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        yield client


def test_an_rs256_token_is_accepted_by_an_rs256_deployment(
    rs256_server: httpx.Client, rsa_keys: tuple[str, str]
) -> None:
    token = jwt.encode(claims(), rsa_keys[0], algorithm="RS256")
    assert rs256_server.get(PATH, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_hs256_signed_with_the_public_key_is_401(
    rs256_server: httpx.Client, rsa_keys: tuple[str, str]
) -> None:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(rsa_keys[1].encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    forged = f"{header}.{payload}.{b64(mac.digest())}"
    assert_401(rs256_server.get(PATH, headers={"Authorization": f"Bearer {forged}"}))


def test_an_hs256_token_is_401_on_an_rs256_deployment(rs256_server: httpx.Client) -> None:
    assert_401(rs256_server.get(PATH, headers=bearer(unique_account())))


def test_tokens_of_the_previous_secret_verify_during_a_rotation(database_url: str) -> None:
    new, old = "new-secret-" + "n" * 40, JWT_SECRET
    settings = Settings(
        database_url=database_url,
        jwt_secret=SecretStr(new),
        jwt_previous_secrets=[SecretStr(old)],
    )
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        account = unique_account()
        for secret in (new, old):
            assert client.get(PATH, headers=bearer(account, secret=secret)).status_code == 200
        retired = bearer(account, secret="retired-" + "r" * 40)
        assert_401(client.get(PATH, headers=retired))
