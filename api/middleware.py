"""ASGI middleware: request size limits (body, query string, headers) and the access log."""

from __future__ import annotations

import email.message
import time
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics
from api.problems import ProblemError, problem_response

log = structlog.get_logger("api.access")

# Metric labels and log fields come from fixed sets only, whatever a client sends: any other
# method token is "OTHER", any path no route matched is one label (bounded series count).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"


def _has_nul(document: Any) -> bool:
    """Whether any string (key or value) holds a NUL; iterative, so depth costs no stack."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _invalid(field: str, code: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "validation_error",
        "Invalid request",
        "The request is not valid.",
        errors=[{"field": field, "code": code, "message": message}],
    )


def _json_refusal(scope: Scope, body: bytes) -> ProblemError | None:
    """A JSON body that PostgreSQL could not store as text is refused here, before it can
    become an event that no projection can apply: NUL characters, lone surrogates (not
    UTF-8), nesting deeper than 1 024 levels. "JSON" is decided as FastAPI decides it (no
    Content-Type, or any casing of ``application/json`` or ``application/*+json``, with
    parameters), and a request with several Content-Type headers is refused outright (the
    server and the app could each read another one). The parse is orjson's, strict RFC
    8259; the route parses the body again. The domain's text rule is the second line."""
    content_types = [value for name, value in scope["headers"] if name == b"content-type"]
    if len(content_types) > 1:
        return ProblemError(
            400,
            "multiple_content_types",
            "Bad request",
            "A request may carry only one Content-Type header.",
        )
    content_type = content_types[0] if content_types else None
    if not body or not read_as_json(content_type):
        return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        if content_type is None:
            return None  # not JSON after all (a raw body); a JSON route refuses it itself
        return _invalid("body", "json_invalid", "The body is not valid JSON (UTF-8, RFC 8259).")
    if _has_nul(document):
        return _invalid("body", "nul_character", "Text may not contain NUL characters.")
    return None


def read_as_json(content_type: bytes | None) -> bool:
    """Whether FastAPI would parse a body with this Content-Type as JSON (its own rule, in
    ``fastapi.routing``: absent, or ``application/json`` / ``application/*+json`` in any
    casing)."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type.decode("latin-1")
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, before the route sees them, and
    JSON bodies that could never be stored (see ``_json_refusal``) with 422.

    The body is read (up to the limit) before the app runs and then replayed, so an
    over-long chunked body is refused too, and a refused request changes nothing."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        refusal = _json_refusal(scope, body)
        if refusal is not None:
            await problem_response(refusal)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            ProblemError(
                413,
                "payload_too_large",
                "Payload too large",
                f"Request bodies are limited to {self.max_bytes} bytes.",
            )
        )
        await response(scope, receive, send)


class HeaderLimitMiddleware:
    """Refuse query strings over ``max_query_bytes`` (414) and header blocks over
    ``max_header_bytes`` (431) before anything parses them: the HTTP server in front
    (uvicorn with httptools) does not bound either. A NUL in the path or query → 422
    (PostgreSQL text cannot hold it)."""

    def __init__(self, app: ASGIApp, max_query_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_query_bytes = max_query_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                await problem_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> ProblemError | None:
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            return ProblemError(
                414,
                "uri_too_long",
                "URI too long",
                f"Query strings are limited to {self.max_query_bytes} bytes.",
            )
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            return _invalid("url", "nul_character", "The URL may not contain NUL characters.")
        size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if size > self.max_header_bytes:
            return ProblemError(
                431,
                "headers_too_large",
                "Request headers too large",
                f"Request headers are limited to {self.max_header_bytes} bytes.",
            )
        return None


class AccessLogMiddleware:
    """One log line per request: method, route template, status, duration. Never bodies,
    headers or query values (they can hold compliance data or tokens)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            self.metrics.requests.labels(method, route, str(status)).observe(elapsed)
            log.info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
