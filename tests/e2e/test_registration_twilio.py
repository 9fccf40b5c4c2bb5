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
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from providers.twilio import compute_signature
from sms_channels.settings import Settings
from tests.e2e.provider_support import RegistrationStack, registration_stack
from tests.support.common import (
    JWT_SECRET,
    auth,
    if_match,
    unique_account,
    unique_us_number,
    wait_for,
)
from tests.support.compliance_payloads import GOOD
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, available, fake_twilio

PUBLIC = "https://sms.example.com"
WEBHOOK_PATH = "/providers/twilio/webhooks"
INBOUND = "https://ingest.example.test/sms"


Stack = RegistrationStack[FakeTwilio]


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
        with registration_stack(database_url, settings, fake, Stack) as stack:
            yield stack


def connected(stack: Stack, account: str, compliance: dict[str, Any] = GOOD) -> str:
    number = unique_us_number()
    stack.fake.inventory["US"].append(available(number))
    return stack.submitted(account, number, compliance)


def test_connect_submit_then_twilio_approves_brand_campaign_and_number(stack: Stack) -> None:
    account = unique_account()
    location = connected(stack, account)
    stack.work()  # brand step; the campaign waits for an approved brand
    pending = stack.settles(account, location, brand="pending", status="pending")
    brand_ref = pending["brand"]["providerRef"]
    assert brand_ref.startswith("BN")
    assert pending["brand"]["rawStatus"] == "PENDING"
    assert stack.fake.a2p.brands[brand_ref]["mock"] is True
    assert stack.fake.a2p.count("services") == 0

    stack.fake.a2p.set_brand(brand_ref, "APPROVED")
    stack.work()  # campaign and number steps, then the poll sees the brand approved
    moving = stack.settles(account, location, brand="approved", campaign="pending")
    service = moving["campaign"]["providerRef"]
    assert service.startswith("MG")
    assert stack.fake.a2p.services[service]["inbound_request_url"] == INBOUND
    assert moving["number"]["providerRef"].startswith(service + "/PN")

    stack.fake.a2p.set_campaign(service, "VERIFIED")
    stack.work()
    approved = stack.settles(account, location, status="approved")
    assert approved["campaign"]["rawStatus"] == "VERIFIED"
    assert approved["number"]["rawStatus"] == "REGISTERED"
    connection = stack.http.get(location, headers=auth(account)).json()
    assert connection["registrationStatus"] == "approved"


def test_a_failed_campaign_puts_both_twilio_codes_on_the_connection(stack: Stack) -> None:
    account = unique_account()
    location = connected(stack, account)
    stack.work()
    brand_ref = stack.settles(account, location, brand="pending")["brand"]["providerRef"]
    stack.fake.a2p.set_brand(brand_ref, "APPROVED")
    stack.work()
    service = stack.settles(account, location, campaign="pending")["campaign"]["providerRef"]
    errors = [
        {"code": 30892, "description": "Opt-in information is insufficient.", "fields": []},
        {"code": 30886, "description": "Sample messages do not match the use case.", "fields": []},
    ]
    stack.fake.a2p.set_campaign(service, "FAILED", errors)
    stack.work()
    rejected = stack.settles(account, location, status="rejected")
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
    brand_ref = stack.settles(account, location, brand="pending")["brand"]["providerRef"]
    stack.fake.a2p.set_brand(brand_ref, "APPROVED")
    stack.work()
    service = stack.settles(account, location, campaign="pending")["campaign"]["providerRef"]
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
    approved = stack.settles(account, location, campaign="approved")
    assert approved["campaign"]["rawStatus"] == "VERIFIED"


def approved_brand_pending_campaign(stack: Stack, account: str, location: str) -> str:
    """The brand approved (score 42, feedback TAX_ID), the campaign made: its service."""
    stack.work()
    brand_ref = stack.settles(account, location, brand="pending")["brand"]["providerRef"]
    stack.fake.a2p.set_brand(brand_ref, "APPROVED", score=42, feedback=["TAX_ID"])
    stack.work()
    service: str = stack.settles(account, location, campaign="pending")["campaign"]["providerRef"]
    return service


def test_twilio_brand_score_and_rate_limits_are_the_throughput(stack: Stack) -> None:
    """Issue 31: Twilio's ``brand_score`` and the campaign's ``rate_limits`` (the
    reference's ``{"att": {"mps": 600, "msg_class": "A"}, "tmobile": {"brand_tier":
    "TOP"}}``), and a change of them, reach ``throughput``; ``brand_feedback`` TAX_ID is a
    brand reason naming the fields to fix."""
    account = unique_account()
    location = connected(stack, account)
    service = approved_brand_pending_campaign(stack, account, location)
    stack.work()
    document = stack.registration(account, location)
    assert document["throughput"] == {
        "brandScore": 42, "tmobileTier": "TOP", "tmobileDailyCap": None,
        "attMessageClass": "A", "attTpm": 36_000,
    }  # fmt: skip
    feedback = next(r for r in document["brand"]["reasons"] if r["code"] == "TAX_ID")
    assert feedback["fields"] == ["brand.registrationNumber", "brand.companyName"]
    assert feedback["fix"]
    assert document["campaign"]["carriers"] is None  # Twilio reports no per-carrier state

    stack.fake.a2p.set_rate_limits(
        service, {"att": {"mps": 4, "msg_class": "T"}, "tmobile": {"brand_tier": "LOW"}}
    )
    stack.work()

    def lowered() -> bool:
        return stack.registration(account, location)["throughput"]["tmobileTier"] == "LOW"

    wait_for(lowered, timeout=20)
    throughput = stack.registration(account, location)["throughput"]
    assert (throughput["tmobileDailyCap"], throughput["attTpm"]) == (2000, 240)


def resubmit(stack: Stack, account: str, location: str, **campaign: Any) -> dict[str, Any]:
    payload = {**GOOD, "campaign": {**GOOD["campaign"], **campaign}}
    saved = stack.http.put(
        location + "/compliance", json=payload, headers=if_match(stack.http, location, account)
    )
    assert saved.status_code == 200, saved.text
    plan: dict[str, Any] = stack.registration(account, location)["resubmission"]
    submitted = stack.http.post(
        location + "/registration", json={}, headers=if_match(stack.http, location, account)
    )
    assert submitted.status_code == 202, submitted.text
    return plan


def test_a_30892_fix_is_twilios_campaign_update_and_a_30887_fix_a_new_campaign(
    stack: Stack,
) -> None:
    """Issue 31: the answer says beforehand whether a fix goes in place; in place is one
    ``POST …/Compliance/Usa2p/{QE}`` on the same service (no new service nor campaign),
    otherwise a new Messaging Service and campaign."""
    account = unique_account()
    location = connected(stack, account)
    service = approved_brand_pending_campaign(stack, account, location)
    error = {"code": 30892, "description": "A sample uses a URL shortener.", "fields": []}
    stack.fake.a2p.set_campaign(service, "FAILED", [error])
    stack.work()
    stack.settles(account, location, status="rejected")
    services, updates = stack.fake.a2p.count("services"), len(stack.fake.a2p.campaign_updates)
    samples = [GOOD["campaign"]["messageSamples"][0], "Acme Dental: see you on Friday at 9am."]
    assert resubmit(stack, account, location, messageSamples=samples)["mode"] == "in_place"
    stack.work()
    again = stack.settles(account, location, campaign="pending")
    assert again["campaign"]["providerRef"] == service
    assert stack.fake.a2p.count("services") == services
    assert len(stack.fake.a2p.campaign_updates) == updates + 1
    assert stack.fake.a2p.campaign_updates[-1]["form"]["MessageSamples"] == samples
    assert again["resubmission"]["attempts"] == 2

    error = {"code": 30887, "description": "Opt-out message is insufficient.", "fields": []}
    stack.fake.a2p.set_campaign(service, "FAILED", [error])
    stack.work()
    stack.settles(account, location, status="rejected")
    opt_out = "Acme Dental: you are unsubscribed; no more messages will be sent."
    assert resubmit(stack, account, location, optOutMessage=opt_out)["mode"] == "new_campaign"
    stack.work()
    third = stack.settles(account, location, campaign="pending")
    assert third["campaign"]["providerRef"] != service
    assert stack.fake.a2p.count("services") == services + 1
    assert len(stack.fake.a2p.campaign_updates) == updates + 1


TOKEN = "cv|1.0|tcr|10dlc|9957c339-d46f-49b7-a399-2e6d5ebac66d|TwilioCanary"


def test_a_political_brands_token_is_a_twilio_campaign_verify_vetting(stack: Stack) -> None:
    """Issue 31: the token goes to ``POST …/BrandRegistrations/{BN}/Vettings``
    (``VettingProvider=campaign-verify``) once the brand is approved, before the campaign;
    secondary vetting asked over HTTP is an ``aegis`` vetting."""
    account = unique_account()
    political = {**GOOD, "brand": {**GOOD["brand"], "vertical": "POLITICAL"}}
    location = connected(stack, account, {**political, "brand": {
        **political["brand"], "campaignVerifyToken": TOKEN}})  # fmt: skip
    stack.work()
    brand_ref = stack.settles(account, location, brand="pending")["brand"]["providerRef"]
    stack.fake.a2p.set_brand(brand_ref, "APPROVED")
    stack.work()  # the poll sees the brand approved
    stack.settles(account, location, brand="approved")
    stack.work()  # the vetting, then the campaign
    stack.settles(account, location, campaign="pending")
    vettings = [v for v in stack.fake.a2p.vettings.values() if v["brand_sid"] == brand_ref]
    assert [(v["vetting_provider"], v["vetting_id"]) for v in vettings] == [
        ("campaign-verify", TOKEN)
    ]
    document = stack.registration(account, location)
    assert [(v["kind"], v["status"], v["rawStatus"]) for v in document["brand"]["vettings"]] == [
        ("campaign_verify", "pending", "PENDING")
    ]
    assert TOKEN not in json.dumps(document)

    asked = stack.http.post(
        location + "/registration/vetting", json={}, headers=if_match(stack.http, location, account)
    )
    assert asked.status_code == 202, asked.text
    stack.work()

    def aegis() -> bool:
        return any(
            v["vetting_provider"] == "aegis" and v["brand_sid"] == brand_ref
            for v in stack.fake.a2p.vettings.values()
        )

    wait_for(aegis, timeout=20)
