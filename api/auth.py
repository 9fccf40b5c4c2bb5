"""Bearer JWT verification (HS256 with a shared secret, RS256 with a public key) and the
permission check that every route declares once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ProblemError
from sms_channels.settings import Settings

PERMISSIONS = frozenset({"channels.read", "channels.connect", "sms.manage", "compliance.audit"})
LEEWAY_SECONDS = 30
_bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, acc, permissions")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of one account, with a set of permissions."""

    user_id: str
    account_id: str
    permissions: frozenset[str]

    def may(self, permission: str) -> bool:
        return permission in self.permissions


class TokenVerifier:
    """Verifies tokens against the configured keys. The algorithm is pinned per key, so an
    HS256 token signed with the RS256 public key (alg confusion) or ``alg: none`` fails."""

    def __init__(self, settings: Settings) -> None:
        self._keys: dict[str, Any] = {}
        if settings.jwt_secret is not None:
            self._keys["HS256"] = settings.jwt_secret.get_secret_value()
        if settings.jwt_public_key:
            self._keys["RS256"] = settings.jwt_public_key

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; ProblemError 401 otherwise."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key = self._keys.get(str(algorithm))
            if key is None:
                raise _unauthorized("The token's algorithm is not accepted.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                options={"require": ["exp", "sub"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The token has expired.") from None
        except jwt.PyJWTError:
            raise _unauthorized("The token is not valid.") from None
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    sub, acc, permissions = claims.get("sub"), claims.get("acc"), claims.get("permissions")
    if not isinstance(sub, str) or not sub or not isinstance(acc, str) or not acc:
        raise _unauthorized("The token lacks the sub or acc claim.")
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise _unauthorized("The token's permissions claim must be a list of strings.")
    return Principal(sub, acc, frozenset(permissions) & PERMISSIONS)


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"}
    )


class RequirePermission:
    """FastAPI dependency: a valid bearer token holding ``permission`` (401 / 403)."""

    def __init__(self, permission: str) -> None:
        if permission not in PERMISSIONS:
            msg = f"unknown permission {permission!r}"
            raise ValueError(msg)
        self.permission = permission

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise _unauthorized("A bearer token is required.")
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = verifier.verify(credentials.credentials)
        if not principal.may(self.permission):
            raise ProblemError(
                403,
                "forbidden",
                "Forbidden",
                f"This action needs the {self.permission} permission.",
            )
        return principal
