"""Registration with SMS_PROVIDER=twilio end to end: the API, the projections and the
registration worker on PostgreSQL, built from settings alone, against the fake Twilio
(TrustHub, brand registrations, Messaging Services, ``Compliance/Usa2p``).

connect → submit → brand ``PENDING`` → ``APPROVED`` → campaign ``VERIFIED`` → number
registered → ``approved``; a campaign ``FAILED`` with 30892 and 30886 puts both codes on the
connection; an Event Streams campaign event, signed as Twilio signs JSON, moves the campaign.
The worker runs pass by pass on a clock the test moves (no sleeps past its backoff)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api.main import create_app
from domain.application import SmsChannels
from projections.registry import PROJECTIONS
from providers.twilio import compute_signature
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.compliance_payloads import GOOD
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, available, fake_twilio
from tests.support import (
    JWT_SECRET,
    auth,
    if_match,
    live_server,
    unique_account,
    unique_us_number,
    wait_for,
)
from workers.projector import ProjectionThreads
from workers.registration import RegistrationWorker

PUBLIC = "https://sms.example.com"
WEBHOOK_PATH = "/providers/twilio/webhooks"
INBOUND = "https://ingest.example.test/sms"
AGENT = {
    "workspaceId": "ws_1",
    "workspaceName": "Support",
    "name": "Ava",
    "knowledgeBaseId": "kb_1",
    "knowledgeBaseName": "Help center",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Stack:
    http: httpx.Client
    fake: FakeTwilio
    worker: RegistrationWorker
    clock: Clock

    def work(self) -> None:
        """One registration pass, past any backoff and poll interval."""
        self.clock.now += 10_000
        self.worker.run_once()


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    with fake_twilio() as fake:
        settings = Settings(
            database_url=database_url,
            jwt_secret=JWT_SECRET,
            sms_provider="twilio",
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=SecretStr(AUTH_TOKEN),
            twilio_base_url=fake.url,
            twilio_numbers_base_url=fake.url,
            twilio_messaging_base_url=fake.url,
            twilio_trusthub_base_url=fake.url,
            twilio_timeout_seconds=2,
            twilio_a2p_mock=True,
            inbound_sms_webhook_url=INBOUND,
            public_base_url=PUBLIC,
        )
        stop = threading.Event()
        workers: SmsChannels = build_application(settings)
        threads = ProjectionThreads(workers, database_url, list(PROJECTIONS), stop).start()
        clock = Clock()
        worker = RegistrationWorker(workers, poll_interval_seconds=60, clock=clock)
        with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
            yield Stack(http, fake, worker, clock)
        stop.set()
        threads.join()
        workers.close()
        assert threads.errors == []


def connected(stack: Stack, account: str) -> str:
    number = unique_us_number()
    stack.fake.inventory["US"].append(available(number))
    stack.http.put("/directory/agents/agent_1", json=AGENT, headers=auth(account))
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": number,
        "workspaceId": "ws_1",
        "agentId": "agent_1",
    }
    created = stack.http.post("/channels/sms/connect", json=body, headers=auth(account))
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    stack.http.patch(location, json={"active": True}, headers=auth(account))
    saved = stack.http.put(
        location + "/compliance", json=GOOD, headers=if_match(stack.http, location, account)
    )
    assert saved.status_code == 200, saved.text
    submitted = stack.http.post(
        location + "/registration", json={}, headers=if_match(stack.http, location, account)
    )
    assert submitted.status_code == 202, submitted.text
    return location


def registration(stack: Stack, account: str, location: str) -> dict[str, Any]:
    response = stack.http.get(location + "/registration", headers=auth(account))
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def settles(stack: Stack, account: str, location: str, **expected: str) -> dict[str, Any]:
    """The registration once the read model shows ``expected`` (``status``, or
    ``<level>`` = that level's status)."""

    def matches() -> bool:
        document = registration(stack, account, location)
        return all(
            (document[key] if key == "status" else document[key]["status"]) == value
            for key, value in expected.items()
        )

    wait_for(matches, timeout=20)
    return registration(stack, account, location)


def test_connect_submit_then_twilio_approves_brand_campaign_and_number(stack: Stack) -> None:
    account = unique_account()
    location = connected(stack, account)
    stack.work()  # brand step; the campaign waits for an approved brand
    pending = settles(stack, account, location, brand="pending", status="pending")
    brand_ref = pending["brand"]["providerRef"]
    assert brand_ref.startswith("BN")
    assert pending["brand"]["rawStatus"] == "PENDING"
    assert stack.fake.a2p.brands[brand_ref]["mock"] is True
    assert stack.fake.a2p.count("services") == 0

    stack.fake.a2p.set_brand(brand_ref, "APPROVED")
    stack.work()  # campaign and number steps, then the poll sees the brand approved
    moving = settles(stack, account, location, brand="approved", campaign="pending")
    service = moving["campaign"]["providerRef"]
    assert service.startswith("MG")
    assert stack.fake.a2p.services[service]["inbound_request_url"] == INBOUND
    assert moving["number"]["providerRef"].startswith(service + "/PN")

    stack.fake.a2p.set_campaign(service, "VERIFIED")
    stack.work()
    approved = settles(stack, account, location, status="approved")
    assert approved["campaign"]["rawStatus"] == "VERIFIED"
    assert approved["number"]["rawStatus"] == "REGISTERED"
    connection = stack.http.get(location, headers=auth(account)).json()
    assert connection["registrationStatus"] == "approved"


def test_a_failed_campaign_puts_both_twilio_codes_on_the_connection(stack: Stack) -> None:
    account = unique_account()
    location = connected(stack, account)
    stack.work()
    brand_ref = settles(stack, account, location, brand="pending")["brand"]["providerRef"]
    stack.fake.a2p.set_brand(brand_ref, "APPROVED")
    stack.work()
    service = settles(stack, account, location, campaign="pending")["campaign"]["providerRef"]
    errors = [
        {"code": 30892, "description": "Opt-in information is insufficient.", "fields": []},
        {"code": 30886, "description": "Sample messages do not match the use case.", "fields": []},
    ]
    stack.fake.a2p.set_campaign(service, "FAILED", errors)
    stack.work()
    rejected = settles(stack, account, location, status="rejected")
    assert [r["code"] for r in rejected["campaign"]["reasons"]] == ["30892", "30886"]
    assert rejected["campaign"]["rawStatus"] == "FAILED"


def event_stream(stack: Stack, events: list[dict[str, Any]], token: str = AUTH_TOKEN) -> Any:
    """POST Event Streams' JSON as Twilio signs it: the body's SHA-256 in the URL."""
    body = json.dumps(events).encode()
    query = f"bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = compute_signature(token, f"{PUBLIC}{WEBHOOK_PATH}?{query}", [])
    return stack.http.post(
        f"{WEBHOOK_PATH}?{query}",
        content=body,
        headers={"Content-Type": "application/json", "X-Twilio-Signature": signature},
    )


def test_an_event_streams_campaign_event_moves_the_campaign(stack: Stack) -> None:
    account = unique_account()
    location = connected(stack, account)
    stack.work()
    brand_ref = settles(stack, account, location, brand="pending")["brand"]["providerRef"]
    stack.fake.a2p.set_brand(brand_ref, "APPROVED")
    stack.work()
    service = settles(stack, account, location, campaign="pending")["campaign"]["providerRef"]
    event = {
        "specversion": "1.0",
        "type": "com.twilio.messaging.compliance.campaign-registration.campaign-approved",
        "source": "AB00000000000000000000000001",
        "id": "NO00000000000000000000000001",
        "data": {
            "accountsid": ACCOUNT_SID,
            "brandsid": brand_ref,
            "campaignsid": "CM" + "0" * 32,
            "messagingservicesid": service,
            "campaignregistrationstatus": "approved",
        },
    }
    forged = event_stream(stack, [event], token="not-the-token")
    assert (forged.status_code, forged.json()["code"]) == (403, "webhook_signature_invalid")
    delivered = event_stream(stack, [event])
    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "applied")
    approved = settles(stack, account, location, campaign="approved")
    assert approved["campaign"]["rawStatus"] == "VERIFIED"
