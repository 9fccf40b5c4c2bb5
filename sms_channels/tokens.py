"""Minting development and test tokens (production tokens come from the identity provider)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import jwt

# The seed's Workspace Admin: either permission also grants channels.read (api.auth).
WORKSPACE_ADMIN = ("channels.connect", "sms.manage")


def mint_token(
    secret: str,
    *,
    account_id: str,
    user_id: str,
    permissions: Iterable[str] = WORKSPACE_ADMIN,
    ttl_seconds: int = 3600,
    algorithm: str = "HS256",
) -> str:
    """A signed JWT with the claims the API reads: ``sub``, ``acc``, ``permissions``."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "acc": account_id,
        "permissions": list(permissions),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=algorithm)
