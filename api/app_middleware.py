"""The API's middleware stack, installed by one function in one order.

Starlette runs the middleware added last first, so the list below reads from the innermost
layer (next to the routes) to the outermost: idempotent replays, conditional answers (exact
ETags, 304), HTTP semantics (HEAD, 405's Allow), the body limit, the query and header
limits, gzip, the access log, and CORS outermost so that preflights and error answers carry
its headers too. A request refused by a limit is therefore logged like any other answer and
never reaches the idempotency store.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from api.auth import TokenVerifier
from api.conditional import ConditionalMiddleware
from api.http_semantics import HttpSemanticsMiddleware
from api.idempotency import IdempotencyMiddleware, MemoryResponseStore, PostgresResponseStore
from api.metrics import Metrics
from api.middleware import AccessLogMiddleware, BodyLimitMiddleware, HeaderLimitMiddleware
from api.query_pool import ReadModels
from sms_channels.settings import Settings

# Answers this long or longer are gzip-compressed for clients that accept it.
GZIP_MINIMUM_BYTES = 1024
# zlib's default level: JSON pages shrink as much as at 9 (starlette's default) for half the CPU.
GZIP_LEVEL = 6

# What the channels UI sends and reads from a browser (api.md, CORS).
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
]
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Retry-After",
    "X-Projection-Lag",
    "Idempotent-Replayed",
]


def install_middleware(
    app: FastAPI,
    settings: Settings,
    *,
    read_models: ReadModels | None,
    token_verifier: TokenVerifier,
    metrics: Metrics,
) -> None:
    """Add the stack to ``app``, innermost first. Idempotent answers are kept in PostgreSQL
    when there are read models (shared by every replica), in memory otherwise."""
    app.add_middleware(
        IdempotencyMiddleware,
        store=MemoryResponseStore() if read_models is None else PostgresResponseStore(read_models),
        verifier=token_verifier,
    )
    app.add_middleware(ConditionalMiddleware, gzip_minimum=GZIP_MINIMUM_BYTES)
    app.add_middleware(HttpSemanticsMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        HeaderLimitMiddleware,
        max_query_bytes=settings.max_query_bytes,
        max_header_bytes=settings.max_header_bytes,
    )
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    if settings.cors_origins:
        # Outermost, so preflights and error answers carry the CORS headers too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
