"""The three adapters of the provider port, each with the provider it talks to and the means
to play that provider: the sandbox (its own controls), Twilio (the fake Twilio) and Telnyx
(the fake Telnyx). A ``World`` answers in one vocabulary — offer a number, decide a hosting
order, take a number back, decide a registration object, lose the answer of the next create —
so that the contract suite (``test_provider_contract``) drives every adapter through the same
scenarios and expects the same domain facts. A new provider is done when it has a World here
and passes the suite."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from domain.providers import NumberProvider, WebhookRequest, WebhookVerifier
from domain.registration_levels import Level
from providers.sandbox import SandboxProvider, SandboxWebhook, SandboxWebhookVerifier, sign
from providers.sandbox.ledger import MemoryLedger
from providers.sandbox.registrations import MemoryRegistrations
from providers.telnyx import TelnyxConfig, TelnyxProvider, TelnyxWebhookVerifier
from providers.twilio import TwilioConfig, TwilioProvider, TwilioWebhookVerifier, compute_signature
from tests.support.fake_telnyx import (
    API_KEY,
    MESSAGING_PROFILE_ID,
    PUBLIC_KEY,
    FakeTelnyx,
    fake_telnyx,
)
from tests.support.fake_telnyx import Scripted as TelnyxScripted
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, available, fake_twilio
from tests.support.fake_twilio import Scripted as TwilioScripted

NUMBER = "+14155550142"
OTHER = "+14155550143"
HOSTED = "+14155550177"
WEBHOOK_URL = "https://sms.example.com/providers/{name}/webhooks"
SANDBOX_SECRET = "contract-sandbox-webhook-secret-0123456789"
TIMEOUT = 0.5


@dataclass
class World:
    """An adapter and the provider behind it, played through one vocabulary."""

    name: str
    make: Callable[[], NumberProvider]  # a fresh adapter instance on the same provider
    verifier: WebhookVerifier
    offer: Callable[[str], None]
    complete_hosting: Callable[[str, str], WebhookRequest]  # (number, order ref)
    fail_hosting: Callable[[str, str, str], WebhookRequest]  # (number, order ref, reason)
    take_back: Callable[[str], None]
    decide: Callable[[Level, str, str, str | None], None]  # level, ref, status, code
    lose_next_create: Callable[[Level], None]
    count: Callable[[Level], int]
    provider: NumberProvider | None = None

    @property
    def adapter(self) -> NumberProvider:
        if self.provider is None:
            self.provider = self.make()
        return self.provider


# --- sandbox --------------------------------------------------------------------------------


@contextmanager
def sandbox_world() -> Iterator[World]:
    ledger, registrations = MemoryLedger(), MemoryRegistrations()

    def make() -> NumberProvider:
        return SandboxProvider(ledger, registrations=registrations)

    def signed(event: SandboxWebhook) -> WebhookRequest:
        body = event.body()
        header = sign(SANDBOX_SECRET, body, int(time.time()))
        return WebhookRequest(
            WEBHOOK_URL.format(name="sandbox"), {"x-sandbox-signature": header}, body
        )

    def complete(number: str, order_ref: str) -> WebhookRequest:
        return signed(SandboxProvider(ledger, registrations=registrations).verify_hosting(number))

    def fail(number: str, order_ref: str, reason: str) -> WebhookRequest:
        sandbox = SandboxProvider(ledger, registrations=registrations)
        return signed(sandbox.fail_hosting(number, reason))

    def take_back(number: str) -> None:
        SandboxProvider(ledger, registrations=registrations).take_back(number, "reclaimed")

    def decide(level: Level, ref: str, status: str, code: str | None) -> None:
        registrations.set_status(ref, status, code, "Refused by the carrier." if code else None)

    def lose_next_create(level: Level) -> None:
        return None  # no network: a create's answer cannot be lost on the way

    def count(level: Level) -> int:
        return registrations.count(level)

    yield World(
        "sandbox",
        make,
        SandboxWebhookVerifier(SANDBOX_SECRET),
        lambda number: None,  # the sandbox offers every fictional 555-01XX number
        complete,
        fail,
        take_back,
        decide,
        lose_next_create,
        count,
    )


# --- Twilio ---------------------------------------------------------------------------------

_TWILIO_CREATES: dict[str, str] = {
    "brand": "/v1/a2p/BrandRegistrations",
    "campaign": "/Compliance/Usa2p",
    "number": "/PhoneNumbers",
}
_TWILIO_STATUSES: dict[str, dict[str, str]] = {
    "brand": {"approved": "APPROVED", "rejected": "FAILED"},
    "campaign": {"approved": "VERIFIED", "rejected": "FAILED"},
}


@contextmanager
def twilio_world() -> Iterator[World]:
    with fake_twilio() as fake:

        def make() -> NumberProvider:
            config = TwilioConfig(
                account_sid=ACCOUNT_SID,
                auth_token=AUTH_TOKEN,
                base_url=fake.url,
                numbers_base_url=fake.url,
                messaging_base_url=fake.url,
                trusthub_base_url=fake.url,
                timeout_seconds=TIMEOUT,
                max_attempts=2,
                backoff_seconds=0.0,
                a2p_mock=True,
                hosting_address_sid="AD" + "0" * 32,
                hosting_email="owner@example.com",
                hosting_contact_phone="+14155552671",
            )
            return TwilioProvider(config, sleep=lambda _: None, jitter=lambda: 1.0)

        url = WEBHOOK_URL.format(name="twilio")

        def callback(params: dict[str, str]) -> WebhookRequest:
            signature = compute_signature(AUTH_TOKEN, url, sorted(params.items()))
            headers = {
                "x-twilio-signature": signature,
                "content-type": "application/x-www-form-urlencoded",
            }
            return WebhookRequest(url, headers, urllib.parse.urlencode(params).encode())

        def complete(number: str, order_ref: str) -> WebhookRequest:
            number_sid = fake.hold(number)
            with fake.lock:
                fake.orders[order_ref].update(
                    status="completed", incoming_phone_number_sid=number_sid
                )
            return callback(
                {
                    "HostedNumberOrderSid": order_ref,
                    "Status": "completed",
                    "PhoneNumber": number,
                    "IncomingPhoneNumberSid": number_sid,
                }
            )

        def fail(number: str, order_ref: str, reason: str) -> WebhookRequest:
            with fake.lock:
                fake.orders[order_ref].update(status="failed", failure_reason=reason)
            return callback(
                {
                    "HostedNumberOrderSid": order_ref,
                    "Status": "failed",
                    "PhoneNumber": number,
                    "FailureReason": reason,
                }
            )

        def take_back(number: str) -> None:
            with fake.lock:
                for sid in [s for s, n in fake.numbers.items() if n["phone_number"] == number]:
                    del fake.numbers[sid]

        def decide(level: Level, ref: str, status: str, code: str | None) -> None:
            errors = [{"code": int(code), "description": "Refused by the carrier."}] if code else []
            if level == "brand":
                fake.a2p.set_brand(ref, _TWILIO_STATUSES["brand"][status], errors)
            elif level == "campaign":
                fake.a2p.set_campaign(ref, _TWILIO_STATUSES["campaign"][status], errors)
            # A number in a campaign's service registers with the campaign itself.

        def lose_next_create(level: Level) -> None:
            fake.answer_next(
                TwilioScripted(
                    201, hang=True, after=True, method="POST", path_contains=_TWILIO_CREATES[level]
                )
            )

        def count(level: Level) -> int:
            if level == "brand":
                return fake.a2p.count("brands")
            if level == "campaign":
                return fake.a2p.count("campaigns")
            return sum(len(numbers) for numbers in fake.a2p.service_numbers.values())

        yield World(
            "twilio",
            make,
            TwilioWebhookVerifier(AUTH_TOKEN),
            lambda number: _twilio_offer(fake, number),
            complete,
            fail,
            take_back,
            decide,
            lose_next_create,
            count,
        )


def _twilio_offer(fake: FakeTwilio, number: str) -> None:
    with fake.lock:
        fake.inventory["US"].append(available(number))


# --- Telnyx ---------------------------------------------------------------------------------

_TELNYX_CREATES: dict[str, str] = {
    "brand": "/10dlc/brand",
    "campaign": "/10dlc/campaignBuilder",
    "number": "/10dlc/phone_number_campaigns",
}


@contextmanager
def telnyx_world() -> Iterator[World]:
    with fake_telnyx() as fake:

        def make() -> NumberProvider:
            config = TelnyxConfig(
                api_key=API_KEY,
                messaging_profile_id=MESSAGING_PROFILE_ID,
                base_url=fake.base_url,
                timeout_seconds=TIMEOUT,
                max_attempts=2,
                backoff_seconds=0.0,
                mock_brands=True,
                order_wait_seconds=1.0,
                order_poll_seconds=0.0,
                webhook_url=WEBHOOK_URL.format(name="telnyx"),
            )
            return TelnyxProvider(config, sleep=lambda _: None, jitter=lambda: 1.0)

        def request(body: bytes, headers: dict[str, str]) -> WebhookRequest:
            lowered = {k.lower(): v for k, v in headers.items()}
            return WebhookRequest(WEBHOOK_URL.format(name="telnyx"), lowered, body)

        def complete(number: str, order_ref: str) -> WebhookRequest:
            order_id = order_ref.removeprefix("hosted:")
            fake.set_hosting(order_id, "successful")
            return request(*fake.hosting_event(order_id, "successful"))

        def fail(number: str, order_ref: str, reason: str) -> WebhookRequest:
            order_id = order_ref.removeprefix("hosted:")
            fake.set_hosting(order_id, "failed", "failed_ownership_verification")
            return request(*fake.hosting_event(order_id, "failed"))

        def take_back(number: str) -> None:
            with fake.lock:
                for key in [k for k, n in fake.numbers.items() if n["phone_number"] == number]:
                    del fake.numbers[key]

        def decide(level: Level, ref: str, status: str, code: str | None) -> None:
            reasons = f"{code}: Refused by the carrier." if code else None
            if level == "brand":
                if status == "approved":
                    fake.set_brand(ref, "OK", "VERIFIED")
                else:
                    fake.set_brand(ref, "REGISTRATION_FAILED", failure_reasons=reasons)
            elif level == "campaign":
                decided = "MNO_PROVISIONED" if status == "approved" else "MNO_REJECTED"
                fake.set_campaign(ref, decided, reasons)
            elif status != "approved":
                fake.set_assignment(ref.rpartition("/")[2], "FAILED_ASSIGNMENT", reasons)

        def lose_next_create(level: Level) -> None:
            fake.answer_next(
                TelnyxScripted(
                    200, hang=True, after=True, method="POST", path_contains=_TELNYX_CREATES[level]
                )
            )

        def count(level: Level) -> int:
            kinds = {"brand": "brands", "campaign": "campaigns", "number": "assignments"}
            return fake.count(kinds[level])

        yield World(
            "telnyx",
            make,
            TelnyxWebhookVerifier(PUBLIC_KEY),
            lambda number: _telnyx_offer(fake, number),
            complete,
            fail,
            take_back,
            decide,
            lose_next_create,
            count,
        )


def _telnyx_offer(fake: FakeTelnyx, number: str) -> None:
    fake.offer(number)


WORLDS: dict[str, Callable[[], Any]] = {
    "sandbox": sandbox_world,
    "twilio": twilio_world,
    "telnyx": telnyx_world,
}
