"""The service over real HTTP with a sandbox provider the test can reach: its account in
the test database (as `sms-channels run` keeps it) and a known webhook secret; and, for a
real provider's adapter against its fake, the service with its projections and a
registration worker run pass by pass on a clock the test moves (``registration_stack``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from pydantic import SecretStr

from api.main import create_app
from domain.application import SmsChannels
from projections.registry import PROJECTIONS
from providers.sandbox import (
    SIGNATURE_HEADER,
    PostgresLedger,
    SandboxProvider,
    SandboxWebhook,
    sign,
)
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, auth, if_match, live_server, wait_for
from tests.support.compliance_payloads import GOOD
from workers.projector import ProjectionThreads
from workers.registration import RegistrationWorker

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


class Clock:
    """The registration worker's clock: it moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Fake = TypeVar("Fake")
AGENT = {
    "workspaceId": "ws_1",
    "workspaceName": "Support",
    "name": "Ava",
    "knowledgeBaseId": "kb_1",
    "knowledgeBaseName": "Help center",
}


@dataclass
class RegistrationStack(Generic[Fake]):
    """A running service, an HTTP client on it, the fake provider it calls, and its
    registration worker on a clock the test moves."""

    http: httpx.Client
    fake: Fake
    worker: RegistrationWorker
    clock: Clock

    def work(self) -> None:
        """One registration pass, past any backoff and poll interval."""
        self.clock.now += 10_000
        self.worker.run_once()

    def connect(self, account: str, number: str, mode: str = "new") -> httpx.Response:
        """Connect ``number`` (``mode``: new or byon) with AGENT in ``ws_1``."""
        self.http.put("/directory/agents/agent_1", json=AGENT, headers=auth(account))
        body = {
            "mode": mode,
            "countryCode": "US",
            "phoneNumber": number,
            "workspaceId": "ws_1",
            "agentId": "agent_1",
        }
        return self.http.post("/channels/sms/connect", json=body, headers=auth(account))

    def submitted(self, account: str, number: str, compliance: Mapping[str, Any] = GOOD) -> str:
        """Connect a new ``number``, activate it, save ``compliance`` and submit the
        registration; the connection's location."""
        created = self.connect(account, number)
        assert created.status_code == 201, created.text
        location: str = created.headers["Location"]
        self.http.patch(location, json={"active": True}, headers=auth(account))
        saved = self.http.put(
            location + "/compliance",
            json=dict(compliance),
            headers=if_match(self.http, location, account),
        )
        assert saved.status_code == 200, saved.text
        posted = self.http.post(
            location + "/registration", json={}, headers=if_match(self.http, location, account)
        )
        assert posted.status_code == 202, posted.text
        return location

    def settles(self, account: str, location: str, **expected: str) -> dict[str, Any]:
        """The registration once the read model shows ``expected`` (``status``, or
        ``<level>`` = that level's status)."""

        def matches() -> bool:
            document = self.registration(account, location)
            return all(
                (document[key] if key == "status" else document[key]["status"]) == value
                for key, value in expected.items()
            )

        wait_for(matches, timeout=20)
        return self.registration(account, location)

    def registration(self, account: str, location: str) -> dict[str, Any]:
        """The connection's registration document."""
        response = self.http.get(location + "/registration", headers=auth(account))
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document


Stack = TypeVar("Stack", bound=RegistrationStack[Any])


@contextmanager
def registration_stack(
    database_url: str,
    settings: Settings,
    fake: Any,
    stack_type: type[Stack],
    *,
    http_timeout: float = 5.0,
) -> Iterator[Stack]:
    """The service built from ``settings`` alone (its provider: the one they name), its
    projections running, and a registration worker polling every 60 clock seconds; on
    exit, the projections must have run without errors."""
    stop = threading.Event()
    workers: SmsChannels = build_application(settings)
    threads = ProjectionThreads(workers, database_url, list(PROJECTIONS), stop).start()
    clock = Clock()
    worker = RegistrationWorker(workers, poll_interval_seconds=60, clock=clock)
    with (
        live_server(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=http_timeout) as http,
    ):
        yield stack_type(http, fake, worker, clock)
    stop.set()
    threads.join()
    workers.close()
    assert threads.errors == []
