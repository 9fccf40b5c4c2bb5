"""RFC 9457 problem details: the one error shape of the API."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from api.openapi import finish_document
from api.openapi_contract import declare_contract

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
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        # RFC 9457 extension members (e.g. ``connectionId`` of a pending connect).
        self.extensions = extensions or {}


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
    body.update(error.extensions)
    return Response(
        content=orjson.dumps(body),
        status_code=error.status,
        media_type="application/problem+json",
        headers=error.headers,
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; ``errors`` lists invalid fields.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "connectionId": {
            "type": "string",
            "format": "uuid",
            "description": "A connect's (or replace-number's) 503 once anything was "
            "recorded (provider_unavailable mid-purchase, or service_unavailable after the "
            "request was recorded): the connection (also in Location).",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_PROBLEM_CONTENT = {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
}
_ERROR_DESCRIPTIONS = {
    "401": "Missing or invalid bearer token.",
    "403": "The token lacks this operation's permission.",
    "413": "Request body over the limit.",
    "422": "The request is not valid; ``errors`` names the fields.",
    "503": "A dependency (database or provider) is unavailable; see ``Retry-After``.",
    "default": "Any other refusal or failure, as problem details.",
}


_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
IN_PROGRESS_409 = (
    "idempotency_request_in_progress: a request with this Idempotency-Key is still being "
    "processed (see Retry-After); the retry then gets its answer"
)


def problem_openapi(app: Any) -> None:
    """Make ``app``'s OpenAPI document say what the API does on errors: every error status
    is ``application/problem+json`` with the Problem schema (FastAPI's default 422 says
    ``application/json`` with its own validation shape, which the API never sends)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return dict(app.openapi_schema)
        document: dict[str, Any] = original()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        declare_contract(document)
        for path_item in document.get("paths", {}).values():
            for method, operation in path_item.items():
                _declare_problems(operation, method)
        finish_document(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi


def _declare_problems(operation: dict[str, Any], method: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if method in _WRITE_METHODS and operation.get("security"):  # api.idempotency
        conflict = responses.setdefault("409", {"description": IN_PROGRESS_409})
        if conflict["description"] != IN_PROGRESS_409:
            conflict["description"] += "; " + IN_PROGRESS_409
    wanted = ["413", "503", "default"]
    if operation.get("security"):
        wanted += ["401", "403"]
    if operation.get("parameters") or operation.get("requestBody"):
        wanted.append("422")
    for status in wanted:
        responses.setdefault(status, {"description": _ERROR_DESCRIPTIONS[status]})
    for status, response in responses.items():
        if status == "default" or int(status) >= 400:
            response["content"] = _PROBLEM_CONTENT
