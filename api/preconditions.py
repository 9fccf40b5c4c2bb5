"""HTTP preconditions: ``If-Match`` versions and ``Idempotency-Key`` values."""

from __future__ import annotations

import re

from api.problems import ProblemError

_ENTITY_TAG = re.compile(r'"(\d{1,18})"|(\d{1,18})')
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def etag(version: int) -> str:
    """The strong entity tag of a connection version."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header asks for; None when absent or ``*``."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ENTITY_TAG.fullmatch(if_match.strip())
    if found is None:
        raise _header_problem(
            "If-Match", "invalid_if_match", 'If-Match must be an entity tag such as "3".'
        )
    return int(found.group(1) or found.group(2))


def idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key if it is 1 to 255 visible ASCII characters."""
    if value is not None and not _IDEMPOTENCY_KEY.fullmatch(value):
        raise _header_problem(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        )
    return value


def _header_problem(field: str, code: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "validation_error",
        "Invalid request",
        message,
        errors=[{"field": field, "code": code, "message": message}],
    )
