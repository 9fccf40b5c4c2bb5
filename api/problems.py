"""RFC 9457 problem details: the one error shape of the API."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

PROBLEM_TYPE_PREFIX = "urn:sms-channels:problem:"


class ProblemError(Exception):
    """An HTTP-level refusal raised by the API layer itself (auth, headers, limits)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_response(error: ProblemError) -> Response:
    """The ``application/problem+json`` response for ``error``."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if error.errors is not None:
        body["errors"] = error.errors
    return Response(
        content=orjson.dumps(body),
        status_code=error.status,
        media_type="application/problem+json",
        headers=error.headers,
    )
