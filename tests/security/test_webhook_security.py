"""Provider webhooks: the signature is required and compared in constant time, a replayed
delivery changes nothing, a timestamp outside the window is refused, and a hostile
signature header is a 403, never a 500."""

from __future__ import annotations

import hmac
import time
from typing import Any

import pytest

from domain.providers import WebhookRejectedError, WebhookRequest
from providers.sandbox import SIGNATURE_HEADER, SandboxWebhook, SandboxWebhookVerifier, sign
from providers.twilio import signature_is_valid
from tests.e2e.provider_support import WEBHOOK_SECRET, WEBHOOKS, Service
from tests.support.common import auth, unique_account, unique_us_number


def registration_event(service: Service) -> tuple[str, str, SandboxWebhook]:
    account = unique_account()
    number = unique_us_number()
    created = service.connect(account, number)
    assert created.status_code == 201, created.text
    event = service.provider.registration_changed(number, "approved", raw_status="VERIFIED")
    return account, created.headers["Location"], event


def post_signed(service: Service, body: bytes, header: str) -> Any:
    return service.http.post(
        WEBHOOKS,
        content=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: header},
    )


def test_a_replayed_delivery_is_acknowledged_and_changes_nothing(service: Service) -> None:
    account, location, event = registration_event(service)
    first = service.deliver(event)
    assert first.json()["outcome"] == "applied", first.text
    version = service.http.get(location, headers=auth(account)).json()["version"]
    replay = service.deliver(event)  # the same event id, freshly signed
    assert (replay.status_code, replay.json()["outcome"]) == (200, "duplicate")
    assert service.http.get(location, headers=auth(account)).json()["version"] == version


def test_a_captured_delivery_replayed_after_the_window_is_403(service: Service) -> None:
    *_, event = registration_event(service)
    body = event.body()
    captured = sign(WEBHOOK_SECRET, body, int(time.time()) - 3600)
    response = post_signed(service, body, captured)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_a_timestamp_from_the_future_is_403(service: Service) -> None:
    *_, event = registration_event(service)
    body = event.body()
    assert (
        post_signed(service, body, sign(WEBHOOK_SECRET, body, int(time.time()) + 3600)).status_code
        == 403
    )


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=,v1=",
        "t=1,v1=" + "0" * 64,
        "t=" + "9" * 5000 + ",v1=ab",
        "t=²,v1=ab",
        "t=١٢٣,v1=ab",
        "t=1700000000,v1=é",
        "v1=" + "a" * 20_000,
        ",,,,",
        "t=-1,v1=ab",
    ],
)
def test_a_hostile_signature_header_is_403(service: Service, header: str) -> None:
    response = service.http.post(
        WEBHOOKS,
        content=b'{"id": "x", "type": "t", "data": {}}',
        headers=[
            (b"Content-Type", b"application/json"),
            (SIGNATURE_HEADER.encode(), header.encode()),
        ],
    )
    assert response.status_code == 403, response.text


HOSTED = {"phoneNumber": "+12125550100", "orderRef": "HO1", "numberRef": "PN1"}


@pytest.mark.parametrize(
    ("event_id", "data"),
    [
        ("evt_\\ud800", HOSTED),  # a lone surrogate in the id
        ("evt_\\udfff\\ud800", HOSTED),
        ("evt_ok", {**HOSTED, "phoneNumber": "+1212555\\udc00"}),  # … in the fact
    ],
)
def test_a_signed_webhook_with_text_outside_the_rule_is_400_not_500(
    service: Service, event_id: str, data: dict[str, str]
) -> None:
    fields = ",".join(f'"{k}":"{v}"' for k, v in data.items())
    body = (
        f'{{"id":"{event_id}","type":"hosted_number.verified",'
        f'"createdAt":"2026-01-01T00:00:00+00:00","data":{{{fields}}}}}'
    ).encode()
    # Without a JSON Content-Type the body reaches the verifier as sent (the middleware's
    # JSON check answers 422 for a JSON one).
    signature = sign(WEBHOOK_SECRET, body, int(time.time()))
    response = service.http.post(WEBHOOKS, content=body, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "webhook_payload_invalid"


def test_a_bearer_token_is_no_substitute_for_the_signature(service: Service) -> None:
    response = service.http.post(
        WEBHOOKS,
        content=b"{}",
        headers={**auth(unique_account()), "Content-Type": "application/json"},
    )
    assert response.status_code == 403


def test_the_sandbox_compares_signatures_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("providers.sandbox.webhooks.hmac.compare_digest", spy)
    body = b'{"id": "e1", "type": "t", "data": {}}'
    now = int(time.time())
    verifier = SandboxWebhookVerifier(WEBHOOK_SECRET, tolerance_seconds=300)
    header = sign(WEBHOOK_SECRET, body, now).replace("v1=", "v1=0")
    with pytest.raises(WebhookRejectedError):
        verifier.verify(WebhookRequest("http://x", {SIGNATURE_HEADER.lower(): header}, body))
    assert compared, "the MAC was not compared with hmac.compare_digest"


def test_twilio_compares_signatures_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[object] = []
    real = hmac.compare_digest
    monkeypatch.setattr(
        "providers.twilio.webhooks.hmac.compare_digest",
        lambda a, b: compared.append(a) or real(a, b),
    )
    assert not signature_is_valid("token", "https://h/p", [("a", "b")], "forged")
    assert compared


@pytest.mark.parametrize("signature", ["é", "\x00", "x" * 10_000])
def test_twilio_refuses_a_non_ascii_signature_without_crashing(signature: str) -> None:
    assert not signature_is_valid("token", "https://h/p", [("a", "b")], signature)


def test_twilio_refuses_a_non_ascii_body_hash_without_crashing() -> None:
    assert not signature_is_valid("token", "https://h/p?bodySHA256=%C3%A9", [], "sig", b"{}")
