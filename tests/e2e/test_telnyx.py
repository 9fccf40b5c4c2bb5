"""SMS_PROVIDER=telnyx end to end: the API, the projections and the registration worker on
PostgreSQL, built from settings alone (bootstrap picks the Telnyx adapter and its Ed25519
webhook verifier), against the fake Telnyx on 127.0.0.1.

connect (a number order with the messaging profile) → submit → brand pending → approved →
campaign (``campaignBuilder``) → number assigned → a signed campaign update → provisioned
→ ``approved``; a bring-your-own number completed by a signed hosted-number-order event; a
refusal's codes and carriers on the connection; duplicates and out-of-order deliveries
harmless; a forged delivery 403. The worker runs pass by pass on a clock the test moves."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from sms_channels.settings import Settings
from tests.e2e.provider_support import RegistrationStack, registration_stack
from tests.support.common import JWT_SECRET, auth, if_match, unique_account
from tests.support.compliance_payloads import GOOD
from tests.support.fake_telnyx import (
    API_KEY,
    MESSAGING_PROFILE_ID,
    PUBLIC_KEY,
    FakeTelnyx,
    fake_telnyx,
)

PUBLIC = "https://sms.example.com"
WEBHOOKS = "/providers/telnyx/webhooks"
_lines = iter(range(100, 200))
SAMPLE = "Acme Dental: your cleaning is tomorrow at 9am. Reply STOP to opt out."
SAMPLE_2 = "Acme Dental: reply YES to confirm Friday's visit, STOP to opt out."


class Stack(RegistrationStack[FakeTelnyx]):
    """The Telnyx stack; ``deliver`` posts a signed webhook as Telnyx does."""

    def deliver(self, signed: tuple[bytes, dict[str, str]]) -> httpx.Response:
        body, headers = signed
        return self.http.post(WEBHOOKS, content=body, headers=headers)


def telnyx_settings(database_url: str, fake: FakeTelnyx) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        sms_provider="telnyx",
        telnyx_api_key=SecretStr(API_KEY),
        telnyx_public_key=PUBLIC_KEY,
        telnyx_messaging_profile_id=MESSAGING_PROFILE_ID,
        telnyx_base_url=fake.base_url,
        telnyx_timeout_seconds=2,
        telnyx_10dlc_mock=True,
        telnyx_order_wait_seconds=2,
        public_base_url=PUBLIC,
    )


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    with (
        fake_telnyx() as fake,
        registration_stack(
            database_url, telnyx_settings(database_url, fake), fake, Stack, http_timeout=30
        ) as stack,
    ):
        yield stack


def fresh_number(stack: Stack) -> str:
    number = f"+1312555{next(_lines):04d}"
    stack.fake.offer(number)
    return number


def submitted(stack: Stack, account: str) -> tuple[str, str]:
    number = fresh_number(stack)
    return stack.submitted(account, number), number


def at_campaign(stack: Stack, account: str, location: str) -> str:
    stack.work()  # brand step; the campaign waits for the brand's approval
    brand = stack.settles(account, location, brand="pending")["brand"]["providerRef"]
    stack.fake.set_brand(brand, "OK", "VERIFIED")
    stack.work()  # campaign and number steps
    document = stack.settles(account, location, campaign="pending", number="pending")
    campaign: str = document["campaign"]["providerRef"]
    return campaign


def test_connect_buys_with_the_messaging_profile(stack: Stack) -> None:
    account = unique_account()
    number = fresh_number(stack)
    created = stack.connect(account, number)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "connected"
    [held] = [n for n in stack.fake.numbers.values() if n["phone_number"] == number]
    assert held["messaging_profile_id"] == MESSAGING_PROFILE_ID
    assert held["customer_reference"] == f"sms-channels:{created.json()['id']}"


def test_connect_submit_then_telnyx_approves_brand_campaign_and_number(stack: Stack) -> None:
    account = unique_account()
    location, number = submitted(stack, account)
    campaign = at_campaign(stack, account, location)
    document = stack.registration(account, location)
    assert document["number"]["providerRef"] == f"{campaign}/{number}"
    assert document["number"]["rawStatus"] == "PENDING_ASSIGNMENT"
    accepted = stack.deliver(stack.fake.campaign_event(campaign, "MNO_REVIEW", "ACCEPTED"))
    assert (accepted.status_code, accepted.json()["outcome"]) == (200, "applied"), accepted.text
    assert stack.settles(account, location, campaign="pending")["campaign"]["rawStatus"] == (
        "MNO_ACCEPTED"
    )
    stack.fake.set_campaign(campaign, "MNO_PROVISIONED")
    stack.work()  # the poll reads the provisioned campaign and the assigned number
    approved = stack.settles(account, location, status="approved")
    assert approved["campaign"]["rawStatus"] == "MNO_PROVISIONED"
    assert approved["number"]["rawStatus"] == "ASSIGNED"
    assert stack.http.get(location, headers=auth(account)).json()["registrationStatus"] == (
        "approved"
    )


def test_a_carrier_refusal_shows_its_code_and_carriers_and_a_resubmission_appeals_it(
    stack: Stack,
) -> None:
    account = unique_account()
    location, _ = submitted(stack, account)
    campaign = at_campaign(stack, account, location)
    stack.fake.set_campaign(
        campaign,
        "MNO_REJECTED",
        "1011: Website unreachable",
        {"10017": "APPROVED", "10035": "REJECTED"},
    )
    stack.work()
    rejected = stack.settles(account, location, status="rejected")
    codes = [r["code"] for r in rejected["campaign"]["reasons"]]
    assert codes == ["1011", "appealable"]
    carriers = {c["carrier"]: c["status"] for c in rejected["campaign"]["carriers"]}
    assert carriers == {"att": "approved", "tmobile": "rejected"}
    assert rejected["notPermittedOn"] == ["tmobile"]
    assert rejected["resubmission"]["mode"] == "in_place"

    fixed = {**GOOD, "campaign": {**GOOD["campaign"], "messageSamples": [SAMPLE, SAMPLE_2]}}
    saved = stack.http.put(
        location + "/compliance", json=fixed, headers=if_match(stack.http, location, account)
    )
    assert saved.status_code == 200, saved.text
    resubmitted = stack.http.post(
        location + "/registration", json={}, headers=if_match(stack.http, location, account)
    )
    assert resubmitted.status_code == 202, resubmitted.text
    stack.work()  # the in-place step: Telnyx's appeal
    appealed = stack.settles(account, location, campaign="pending")
    assert appealed["campaign"]["providerRef"] == campaign
    assert appealed["campaign"]["rawStatus"] == "TCR_ACCEPTED"
    assert [c for c, _ in stack.fake.appeals] == [campaign]
    assert stack.fake.campaigns[campaign]["sample1"] == SAMPLE


def test_duplicate_and_out_of_order_campaign_updates_change_nothing(stack: Stack) -> None:
    account = unique_account()
    location, _ = submitted(stack, account)
    campaign = at_campaign(stack, account, location)
    now = int(time.time())
    later = stack.fake.campaign_event(campaign, "MNO_REVIEW", "REJECTED", "1011: Site down", now)
    earlier = stack.fake.campaign_event(campaign, "TELNYX_REVIEW", "ACCEPTED", "", now - 60)
    assert stack.deliver(later).json()["outcome"] == "applied"
    rejected = stack.settles(account, location, campaign="rejected")
    assert rejected["campaign"]["rawStatus"] == "MNO_REJECTED"
    again = stack.fake.signed(later[0], now + 5)  # Telnyx redelivers with a fresh signature
    assert stack.deliver(again).json()["outcome"] == "duplicate"
    late = stack.deliver(earlier)
    assert late.status_code == 200
    assert late.json()["outcome"] == "stale"
    assert stack.registration(account, location)["campaign"]["rawStatus"] == "MNO_REJECTED"


def test_byon_completes_with_a_signed_hosted_number_order_event(stack: Stack) -> None:
    account = unique_account()
    number = f"+1312555{next(_lines):04d}"
    requested = stack.connect(account, number, mode="byon")
    assert requested.status_code == 202, requested.text
    [order_id] = [
        i
        for i, o in stack.fake.hosted_orders.items()
        if o["phone_numbers"][0]["phone_number"] == number
    ]
    stack.fake.set_hosting(order_id, "successful")
    delivered = stack.deliver(stack.fake.hosting_event(order_id, "successful"))
    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "applied")
    connection = stack.http.get(requested.headers["Location"], headers=auth(account)).json()
    assert connection["status"] == "connected"


def test_a_delivery_signed_with_another_key_is_403(stack: Stack) -> None:
    body, headers = FakeTelnyx.signed(b'{"campaignId": "x", "type": "VERIFIED"}')
    headers["telnyx-signature-ed25519"] = "A" * 86 + "=="
    response = stack.http.post(WEBHOOKS, content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (403, "webhook_signature_invalid")
    stale = FakeTelnyx.signed(b"{}", int(time.time()) - 301)
    refused = stack.http.post(WEBHOOKS, content=stale[0], headers=stale[1])
    assert (refused.status_code, refused.json()["code"]) == (403, "webhook_timestamp_out_of_window")
