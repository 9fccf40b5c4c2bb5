"""Bearer token verification: HS256, RS256, and the ways a token is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import jwt
import pytest
from jwt.utils import base64url_encode

from api.auth import TokenVerifier
from api.problems import ProblemError
from sms_channels.settings import Settings
from sms_channels.tokens import mint_token

SECRET = "s" * 40


def claims(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "sub": "u",
        "acc": "a",
        "permissions": ["channels.read"],
        "exp": int(time.time()) + 60,
    }
    base.update(overrides)
    return base


def refused(verifier: TokenVerifier, token: str) -> int:
    with pytest.raises(ProblemError) as caught:
        verifier.verify(token)
    return caught.value.status


def test_an_hs256_token_yields_the_principal() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    principal = verifier.verify(mint_token(SECRET, account_id="a", user_id="u"))
    assert (principal.account_id, principal.user_id) == ("a", "u")
    assert principal.may("sms.manage")


def test_an_rs256_token_yields_the_principal(rsa_keys: tuple[str, str]) -> None:
    private, public = rsa_keys
    verifier = TokenVerifier(Settings(jwt_public_key=public))
    principal = verifier.verify(jwt.encode(claims(), private, algorithm="RS256"))
    assert principal.permissions == frozenset({"channels.read"})


def test_an_expired_token_is_refused() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    assert refused(verifier, jwt.encode(claims(exp=int(time.time()) - 120), SECRET)) == 401


def test_a_token_signed_with_another_key_is_refused() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    assert refused(verifier, jwt.encode(claims(), "o" * 40)) == 401


def test_alg_none_is_refused() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    assert refused(verifier, jwt.encode(claims(), None, algorithm="none")) == 401


def test_hs256_signed_with_the_rsa_public_key_is_refused(rsa_keys: tuple[str, str]) -> None:
    _, public = rsa_keys
    verifier = TokenVerifier(Settings(jwt_public_key=public))
    # The classic confusion attack: HMAC with the (public) PEM as the shared secret.
    header = base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = base64url_encode(json.dumps(claims()).encode())
    signature = hmac.new(public.encode(), header + b"." + payload, hashlib.sha256).digest()
    forged = b".".join([header, payload, base64url_encode(signature)]).decode()
    assert refused(verifier, forged) == 401


@pytest.mark.parametrize("missing", ["sub", "acc", "permissions", "exp"])
def test_a_token_missing_a_claim_is_refused(missing: str) -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    body = claims()
    del body[missing]
    assert refused(verifier, jwt.encode(body, SECRET)) == 401


def test_unknown_permissions_are_ignored() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    token = jwt.encode(claims(permissions=["channels.read", "root"]), SECRET)
    assert verifier.verify(token).permissions == frozenset({"channels.read"})


def test_a_short_jwt_secret_is_refused_by_settings() -> None:
    with pytest.raises(ValueError, match="at least"):
        Settings(jwt_secret="short")


def test_a_configured_issuer_and_audience_are_required_and_checked() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET, jwt_issuer="idp", jwt_audience="sms"))
    good = jwt.encode(claims(iss="idp", aud="sms"), SECRET, algorithm="HS256")
    assert verifier.verify(good).account_id == "a"
    for bad in (claims(), claims(iss="other", aud="sms"), claims(iss="idp", aud="other")):
        assert refused(verifier, jwt.encode(bad, SECRET, algorithm="HS256")) == 401


def test_without_a_configured_audience_a_token_carrying_one_is_accepted() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    token = jwt.encode(claims(aud="anything"), SECRET, algorithm="HS256")
    assert verifier.verify(token).user_id == "u"


def test_the_lifetime_counts_from_iat_or_from_now_without_one() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET, jwt_max_lifetime_seconds=600))
    now = int(time.time())
    within = claims(iat=now - 500, exp=now + 60)  # 560 s in all
    too_long = claims(iat=now - 600, exp=now + 60)  # 660 s
    far_future = claims(exp=now + 3600)  # no iat: an hour from now
    assert verifier.verify(jwt.encode(within, SECRET, algorithm="HS256")).user_id == "u"
    assert refused(verifier, jwt.encode(too_long, SECRET, algorithm="HS256")) == 401
    assert refused(verifier, jwt.encode(far_future, SECRET, algorithm="HS256")) == 401
