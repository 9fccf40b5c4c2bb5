"""Token verification and the permission dependency in detail, without HTTP: each refusal's
status, code, words and challenge header; the workspaces claim; rotation keys."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import SecretStr

from api.auth import LEEWAY_SECONDS, Principal, RequirePermission, TokenVerifier
from api.problems import ProblemError
from sms_channels.settings import Settings

SECRET = "s" * 40
OLD_SECRET = "o" * 40


def token(secret: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    body: dict[str, Any] = {
        "sub": "u1",
        "acc": "acc",
        "permissions": ["channels.read", "sms.manage"],
        "exp": int(time.time()) + 3600,  # built at collection: valid for the whole session
        **overrides,
    }
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm=algorithm)


# RFC 6750: a refused token is "invalid_token"; no token at all is a bare challenge.
INVALID_TOKEN = 'Bearer error="invalid_token"'


def verifier(**settings: Any) -> TokenVerifier:
    return TokenVerifier(Settings(jwt_secret=SECRET, **settings))


def refusal(check: Any) -> ProblemError:
    with pytest.raises(ProblemError) as refused:
        check()
    return refused.value


def assert_401(error: ProblemError, detail: str, challenge: str = INVALID_TOKEN) -> None:
    assert (error.status, error.code, error.title, error.detail) == (
        401,
        "unauthorized",
        "Unauthorized",
        detail,
    )
    assert error.headers == {"WWW-Authenticate": challenge}


@pytest.mark.parametrize(
    ("bad", "detail"),
    [
        ("not.a.token", "The token is not valid."),
        (token(exp=int(time.time()) - 120), "The token has expired."),
        (token(nbf=int(time.time()) + 3600), "The token is not valid yet."),
        (token(sub=None), "The token is not valid."),
        (token(secret="x" * 40), "The token is not valid."),
        (token(acc=""), "The token lacks the sub or acc claim."),
        (token(sub=""), "The token lacks the sub or acc claim."),
        (token(sub=7), "The token is not valid."),
        (
            token(permissions="sms.manage"),
            "The token's permissions claim must be a list of strings.",
        ),
        (
            token(permissions=["sms.manage", 3]),
            "The token's permissions claim must be a list of strings.",
        ),
        (token(workspaces="ws_a"), "The token's workspaces claim must be a list of workspace ids."),
        (
            token(workspaces=["ws_a", ""]),
            "The token's workspaces claim must be a list of workspace ids.",
        ),
    ],
    ids=[
        "malformed",
        "expired",
        "not-yet",
        "no-sub",
        "other-key",
        "empty-acc",
        "empty-sub",
        "sub-not-text",
        "permissions-text",
        "permissions-mixed",
        "workspaces-text",
        "workspaces-blank",
    ],
)
def test_each_refused_token_says_why(bad: str, detail: str) -> None:
    assert_401(refusal(lambda: verifier().verify(bad)), detail)


def test_a_token_of_an_algorithm_without_a_key_is_refused() -> None:
    hs384 = jwt.encode({"sub": "u"}, "k" * 64, algorithm="HS384")
    assert_401(
        refusal(lambda: verifier().verify(hs384)),
        "The token's algorithm is not accepted.",
    )


def test_a_token_within_the_leeway_is_accepted() -> None:
    principal = verifier().verify(token(exp=int(time.time()) - 10))
    assert principal.user_id == "u1"


def test_a_token_signed_with_a_previous_secret_is_accepted() -> None:
    rotated = verifier(jwt_previous_secrets=[SecretStr(OLD_SECRET)])
    assert rotated.verify(token(secret=OLD_SECRET)).account_id == "acc"


def test_the_principal_carries_the_claims() -> None:
    principal = verifier().verify(token(workspaces=["ws_a"]))
    assert principal == Principal(
        "u1", "acc", frozenset({"channels.read", "sms.manage"}), frozenset({"ws_a"})
    )
    assert principal.sees("ws_a")
    assert not principal.sees("ws_b")
    assert verifier().verify(token()).workspaces is None
    assert verifier().verify(token()).sees("any")
    assert not verifier().verify(token(workspaces=[])).sees("ws_a")


# --- the dependency -------------------------------------------------------------------------


def request() -> Any:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(token_verifier=verifier())))


def bearer(value: str, scheme: str = "Bearer") -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=value)


def test_an_unknown_permission_cannot_be_required() -> None:
    with pytest.raises(ValueError, match=r"unknown permissions \['sms\.everything'\]"):
        RequirePermission("sms.everything")
    assert RequirePermission("sms.manage").permission == "sms.manage"


def test_the_dependency_needs_a_bearer_token() -> None:
    dependency = RequirePermission("channels.read")
    assert_401(
        refusal(lambda: dependency(request(), None)), "A bearer token is required.", "Bearer"
    )
    assert_401(
        refusal(lambda: dependency(request(), bearer(token(), scheme="Basic"))),
        "A bearer token is required.",
        "Bearer",
    )
    assert dependency(request(), bearer(token(), scheme="bearer")).user_id == "u1"


def test_the_dependency_refuses_a_token_without_the_permission() -> None:
    dependency = RequirePermission("compliance.audit")
    error = refusal(lambda: dependency(request(), bearer(token())))
    assert (error.status, error.code, error.title, error.detail) == (
        403,
        "forbidden",
        "Forbidden",
        "This action needs the compliance.audit permission.",
    )


@pytest.mark.parametrize(
    "claims",
    [{"sub": "u1", "acc": "acc one"}, {"sub": "u\u202e1", "acc": "acc"}],
    ids=["acc", "sub"],
)
def test_a_sub_or_acc_outside_the_id_rule_is_refused(claims: dict[str, str]) -> None:
    assert_401(
        refusal(lambda: verifier().verify(token(**claims))),
        "The token's sub or acc claim is not a valid id.",
    )


def test_the_lifetime_may_reach_the_maximum_plus_the_leeway_and_no_further() -> None:
    limited = verifier(jwt_max_lifetime_seconds=600)
    iat = int(time.time()) - 300
    assert limited.verify(token(iat=iat, exp=iat + 600 + LEEWAY_SECONDS)).user_id == "u1"
    assert_401(
        refusal(lambda: limited.verify(token(iat=iat, exp=iat + 601 + LEEWAY_SECONDS))),
        "The token is valid for longer than this service accepts.",
    )
