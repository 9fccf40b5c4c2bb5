"""The service over real HTTP with a sandbox provider the test can reach: its account in
the test database (as `sms-channels run` keeps it) and a known webhook secret."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from api.main import create_app
from domain.application import SmsChannels
from providers.sandbox import (
    SIGNATURE_HEADER,
    PostgresLedger,
    SandboxProvider,
    SandboxWebhook,
    sign,
)
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support import JWT_SECRET, auth, live_server

WEBHOOK_SECRET = "e2e-sandbox-webhook-secret-0123456789"
WEBHOOKS = "/providers/sandbox/webhooks"


@dataclass
class Service:
    """A running service, an HTTP client on it, and the sandbox it buys from."""

    http: httpx.Client
    provider: SandboxProvider
    application: SmsChannels
    settings: Settings

    def deliver(self, event: SandboxWebhook, *, at: float | None = None) -> httpx.Response:
        """POST the event as the sandbox provider does: signed, no bearer token."""
        body = event.body()
        signature = sign(WEBHOOK_SECRET, body, int(at if at is not None else time.time()))
        return self.http.post(
            WEBHOOKS,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )

    def connect(self, account: str, number: str, **overrides: Any) -> httpx.Response:
        body = {
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": number,
            "workspaceId": "ws_1",
            "agentId": "agent_1",
            **overrides,
        }
        return self.http.post("/channels/sms/connect", json=body, headers=auth(account))


def sandbox_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"sandbox_webhook_secret": SecretStr(WEBHOOK_SECRET), **overrides}
    return Settings(database_url=database_url, jwt_secret=JWT_SECRET, **values)


@contextmanager
def running_service(
    database_url: str, provider: SandboxProvider | None = None, **overrides: Any
) -> Iterator[Service]:
    """The API on ``database_url`` with ``provider`` (default: a sandbox on the database's
    ledger), served by uvicorn on a loopback port."""
    settings = sandbox_settings(database_url, **overrides)
    sandbox = provider or SandboxProvider(PostgresLedger(database_url, max_size=2))
    application = build_application(settings, sandbox)
    with (
        live_server(create_app(settings, application)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield Service(client, sandbox, application, settings)
