"""``create_app(settings)``: the API's composition root. Nothing is built at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi_offline import FastAPIOffline

from api.auth import TokenVerifier
from api.conditional import ConditionalMiddleware
from api.console import install_console
from api.errors import install_error_handlers
from api.exports import ExportLeases, ExportSlots
from api.http_semantics import HttpSemanticsMiddleware
from api.idempotency import IdempotencyMiddleware, MemoryResponseStore, PostgresResponseStore
from api.metrics import Metrics
from api.middleware import AccessLogMiddleware, BodyLimitMiddleware, HeaderLimitMiddleware
from api.problems import problem_openapi
from api.query_pool import ReadModels
from api.rate_limits import RateLimit, SharedTokenBucket, TokenBucket
from api.routes import (
    audit,
    compliance,
    connections,
    countries,
    directory,
    numbers,
    ops,
    registration,
    sms_requests,
    webhooks,
)
from domain.application import SmsChannels
from sms_channels.bootstrap import build_application, build_webhook_verifier
from sms_channels.settings import Settings
from sms_channels.worker_set import WorkerHealth

DOCS_ASSETS = "/docs-assets"
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


def create_app(
    settings: Settings,
    application: SmsChannels | None = None,
    *,
    worker_health: WorkerHealth | None = None,
) -> FastAPI:
    """The FastAPI app on ``settings`` (or on a given application, e.g. one with a fake
    provider in tests). The app closes the application's connections on shutdown.
    ``worker_health``: the states of the workers running in this process (``sms-channels
    run``), which ``/readyz`` reports."""
    application = application or build_application(settings)
    read_models = (
        ReadModels(
            settings.database_url,
            events_table=getattr(application.recorder, "events_table_name", "smschannels_events"),
            pool_size=settings.postgres_pool_size,
            wait_seconds=settings.read_wait_seconds,
            max_waits_per_account=settings.wait_for_max_per_account,
            read_conninfo=settings.database_read_url,
        )
        if settings.persistence == "postgres" and settings.database_url
        else None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if read_models is not None:
            await read_models.aclose()
        application.close()

    # /docs and /redoc from assets served by this service (fastapi-offline ships pinned
    # Swagger UI 5 and ReDoc builds): no third-party script runs on an operator's page.
    app = FastAPIOffline(
        title="SMS channels service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        static_url=DOCS_ASSETS,
        # The service exports no OpenTelemetry (its metrics are Prometheus, /metrics); off,
        # FastAPI's per-request check for a configured provider (environment look-ups) goes
        # too: 5 % of the channels table page's CPU (B3).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.application = application
    app.state.read_models = read_models
    app.state.worker_health = worker_health
    app.state.metrics = metrics = Metrics()
    if read_models is not None:
        metrics.add_projections(read_models.tracking_states)
    app.state.token_verifier = TokenVerifier(settings)
    app.state.webhook_verifier = build_webhook_verifier(settings)
    app.state.export_slots = ExportSlots(
        settings.audit_exports_per_account,
        settings.audit_exports_max,
        ExportLeases(read_models) if read_models is not None else None,
    )
    app.state.rate_limits = rate_limits(settings, read_models)
    install_error_handlers(app)
    for module in (
        audit,
        connections,
        sms_requests,
        compliance,
        registration,
        countries,
        directory,
        numbers,
        webhooks,
        ops,
    ):
        app.include_router(module.router)
    install_console(app, settings.console_dir, settings.cors_origins)
    problem_openapi(app)
    app.add_middleware(
        IdempotencyMiddleware,
        store=MemoryResponseStore() if read_models is None else PostgresResponseStore(read_models),
        verifier=app.state.token_verifier,
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
    return app


def rate_limits(settings: Settings, read_models: ReadModels | None) -> dict[str, RateLimit]:
    """The token buckets the routes spend (``api.rate_limits``): in PostgreSQL, shared by
    every API replica; in memory only when there is no database (``PERSISTENCE=memory``)."""
    per_minute = {
        # name: (what a refusal calls it, requests per minute, whose bucket)
        "search": ("number search", settings.rate_limit_search_per_minute, "account"),
        "connect": ("connect", settings.rate_limit_connect_per_minute, "account"),
        "settings": ("settings", settings.rate_limit_settings_per_minute, "account"),
        "compliance": ("compliance", settings.rate_limit_compliance_per_minute, "account"),
        "webhooks": ("webhook", settings.rate_limit_webhooks_per_minute, "source address"),
        # Refused (unsigned, badly signed) webhooks: a bucket of their own, so that they
        # never spend what the provider's signed deliveries need.
        "webhooks_refused": (
            "refused webhook",
            settings.rate_limit_refused_webhooks_per_minute,
            "source address",
        ),
    }
    if read_models is None:
        return {
            key: TokenBucket(name, rate, subject=subject)
            for key, (name, rate, subject) in per_minute.items()
        }
    return {
        key: SharedTokenBucket(name, rate, read_models, bucket=key, subject=subject)
        for key, (name, rate, subject) in per_minute.items()
    }
