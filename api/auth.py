"""Bearer JWT verification (HS256 with a shared secret, RS256 with a public key) and the
permission check that every route declares once.

Rotation: ``JWT_PREVIOUS_SECRETS`` / ``JWT_PREVIOUS_PUBLIC_KEYS`` are still accepted for
verification (tokens minted before the rotation keep working until they expire); new tokens
are signed by the identity provider with the current key only."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ProblemError
from domain.errors import InvalidTextError
from domain.text import check_id
from sms_channels.settings import Settings

# Routes that need no bearer token: operations, the OpenAPI document and UI, and provider
# webhooks (authenticated by the provider's signature instead).
PUBLIC_ROUTES = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/providers/{provider}/webhooks",
        # The console's static bundle (api.console): no data; the console then calls the
        # API with the bearer token it holds.
        "/app",
        "/app/{path:path}",
    }
)
PERMISSIONS = frozenset(
    {"channels.read", "channels.connect", "sms.manage", "compliance.audit", "directory.write"}
)
# Permissions that others imply: the seed's Workspace Admin holds channels.connect and
# sms.manage, and either of them also grants channels.read.
IMPLIED_BY: dict[str, frozenset[str]] = {
    "channels.read": frozenset({"channels.connect", "sms.manage"}),
}
LEEWAY_SECONDS = 30
_bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, acc, permissions")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of one account, with a set of permissions."""

    user_id: str
    account_id: str
    permissions: frozenset[str]
    # None: every workspace of the account; otherwise only these (the ``workspaces`` claim).
    workspaces: frozenset[str] | None = None

    def may(self, permission: str) -> bool:
        """Held, or implied by one that is held (``IMPLIED_BY``)."""
        if permission in self.permissions:
            return True
        return not self.permissions.isdisjoint(IMPLIED_BY.get(permission, frozenset()))

    def sees(self, workspace_id: str) -> bool:
        """Whether this principal may see (and act on) objects of ``workspace_id``."""
        return self.workspaces is None or workspace_id in self.workspaces


class TokenVerifier:
    """Verifies tokens against the configured keys. The algorithm is pinned per key, so an
    HS256 token signed with the RS256 public key (alg confusion) or ``alg: none`` fails.
    ``iss``/``aud`` are checked when configured; tokens valid for longer than
    ``JWT_MAX_LIFETIME_SECONDS`` are refused (a leaked long-lived token is a standing key)."""

    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._max_lifetime = settings.jwt_max_lifetime_seconds
        self._keys: dict[str, list[Any]] = {"HS256": [], "RS256": []}
        if settings.jwt_secret is not None:
            self._keys["HS256"].append(settings.jwt_secret.get_secret_value())
        self._keys["HS256"] += [s.get_secret_value() for s in settings.jwt_previous_secrets]
        if settings.jwt_public_key:
            self._keys["RS256"].append(settings.jwt_public_key)
        self._keys["RS256"] += list(settings.jwt_previous_public_keys)

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; ProblemError 401 otherwise."""
        try:
            algorithm = str(jwt.get_unverified_header(token).get("alg"))
        except jwt.PyJWTError:
            raise _unauthorized("The token is not valid.") from None
        keys = self._keys.get(algorithm) or []
        if not keys:
            raise _unauthorized("The token's algorithm is not accepted.")
        for key in keys:
            try:
                claims = self._decode(token, key, algorithm)
            except jwt.InvalidSignatureError:
                continue  # maybe signed with a previous key (rotation)
            self._check_lifetime(claims)
            return _principal(claims)
        raise _unauthorized("The token is not valid.")

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        """The verified claims; signature errors propagate (the next key may fit), every
        other refusal becomes a 401."""
        required = ["exp", "sub"] + ["iss"] * bool(self._issuer) + ["aud"] * bool(self._audience)
        try:
            return _decode(
                token,
                key,
                algorithm,
                options={"require": required, "verify_aud": self._audience is not None},
                issuer=self._issuer,
                audience=self._audience,
            )
        except jwt.InvalidSignatureError:
            raise
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise _unauthorized("The token is not valid yet.") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _unauthorized("The token is not valid.") from None

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        start = claims.get("iat")
        if not isinstance(start, int | float):
            start = time.time()
        if claims["exp"] - start > self._max_lifetime + LEEWAY_SECONDS:
            raise _unauthorized("The token is valid for longer than this service accepts.")


def _decode(token: str, key: Any, algorithm: str, **checks: Any) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=[algorithm], leeway=LEEWAY_SECONDS, **checks
    )
    return claims


def _principal(claims: dict[str, Any]) -> Principal:
    sub, acc, permissions = claims.get("sub"), claims.get("acc"), claims.get("permissions")
    if not isinstance(sub, str) or not sub or not isinstance(acc, str) or not acc:
        raise _unauthorized("The token lacks the sub or acc claim.")
    if not (_is_id(sub) and _is_id(acc)):
        # The text rule for ids: a NUL, a look-alike or a 3 000-character account id would
        # reach the event log and the read models' keys.
        raise _unauthorized("The token's sub or acc claim is not a valid id.")
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise _unauthorized("The token's permissions claim must be a list of strings.")
    return Principal(sub, acc, frozenset(permissions) & PERMISSIONS, _workspaces(claims))


def _workspaces(claims: dict[str, Any]) -> frozenset[str] | None:
    """The optional ``workspaces`` claim: absent → unrestricted; a list of ids → only those
    (an empty list sees nothing). Anything else is refused rather than guessed."""
    if "workspaces" not in claims:
        return None
    workspaces = claims["workspaces"]
    if not isinstance(workspaces, list) or not all(
        isinstance(w, str) and _is_id(w) for w in workspaces
    ):
        raise _unauthorized("The token's workspaces claim must be a list of workspace ids.")
    return frozenset(workspaces)


def _is_id(value: str) -> bool:
    try:
        check_id(value, "claim")
    except InvalidTextError:
        return False
    return True


def _unauthorized(detail: str, *, token_given: bool = True) -> ProblemError:
    """401 with the RFC 6750 challenge: ``Bearer`` when no token was sent, ``Bearer
    error="invalid_token"`` when one was sent and refused (malformed, expired, forged)."""
    challenge = 'Bearer error="invalid_token"' if token_given else "Bearer"
    return ProblemError(
        401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": challenge}
    )


class RequirePermission:
    """FastAPI dependency: a valid bearer token holding every one of ``permissions``
    (401 / 403).

    Every route that is not on ``PUBLIC_ROUTES`` declares exactly one of these
    (tests/security/test_route_table.py walks the route table to hold that)."""

    def __init__(self, *permissions: str) -> None:
        unknown = [p for p in permissions if p not in PERMISSIONS]
        if unknown or not permissions:
            msg = f"unknown permissions {unknown!r}"
            raise ValueError(msg)
        self.permissions = permissions
        self.permission = " and ".join(permissions)

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        return self.check(request, credentials)

    def check(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None
    ) -> Principal:
        """The principal of a valid bearer token holding the permissions; 401 / 403."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise _unauthorized("A bearer token is required.", token_given=False)
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = verifier.verify(credentials.credentials)
        if not all(principal.may(p) for p in self.permissions):
            raise ProblemError(
                403,
                "forbidden",
                "Forbidden",
                f"This action needs the {self.permission} permission.",
            )
        return principal


class RequirePermissionOnLoop(RequirePermission):
    """``RequirePermission`` run on the event loop instead of FastAPI's thread pool (verifying
    a token is CPU work only): for the async read routes (``api.query_pool``'s async path),
    so that their whole request stays on the loop, with no thread hop (B3, B5, B7)."""

    async def __call__(  # type: ignore[override]  # the same check, awaited by FastAPI
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        return self.check(request, credentials)
