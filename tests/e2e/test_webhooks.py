"""Provider webhooks over HTTP on PostgreSQL: the sandbox's signed events drive the number
lifecycle (hosting verified or failed, reclaimed, registration status); unsigned, badly
signed or stale deliveries are refused; redeliveries are acknowledged and ignored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from providers.sandbox import SIGNATURE_HEADER, SandboxWebhook, sign
from tests.e2e.provider_support import WEBHOOK_SECRET, WEBHOOKS, Service, running_service
from tests.support.common import auth, unique_account, unique_us_number


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    with running_service(database_url) as running:
        yield running


def connection(service: Service, account: str, location: str) -> dict[str, Any]:
    response = service.http.get(location, headers=auth(account))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reclaim_event(number: str) -> SandboxWebhook:
    return SandboxWebhook.new("number.reclaimed", {"phoneNumber": number})


# --- the lifecycle ----------------------------------------------------------------------------


def test_byon_is_requested_then_the_verified_webhook_connects_it(service: Service) -> None:
    account, number = unique_account(), unique_us_number()
    requested = service.connect(account, number, mode="byon")
    assert (requested.status_code, requested.json()["status"]) == (202, "requested")

    # The provider verifies the hosted number and tells the service.
    delivered = service.deliver(service.provider.verify_hosting(number))
    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "applied")
    assert delivered.json()["connectionId"] == requested.json()["id"]

    connected = connection(service, account, requested.headers["Location"])
    assert (connected["status"], connected["active"]) == ("connected", False)


def test_a_failed_hosting_webhook_fails_the_request_and_frees_the_number(
    service: Service,
) -> None:
    account, number = unique_account(), unique_us_number()
    requested = service.connect(account, number, mode="byon")
    service.deliver(service.provider.fail_hosting(number, "The carrier refused the LOA."))
    failed = connection(service, account, requested.headers["Location"])
    assert (failed["status"], failed["failure"]["code"]) == ("failed", "hosting_failed")
    assert service.connect(unique_account(), number, mode="byon").status_code == 202


def test_a_reclaim_webhook_makes_the_connection_reclaimed_inactive_and_frees_the_number(
    service: Service,
) -> None:
    account, number = unique_account(), unique_us_number()
    created = service.connect(account, number)
    location = created.headers["Location"]
    activated = service.http.patch(location, json={"active": True}, headers=auth(account))
    assert activated.json()["active"] is True

    # The provider takes the number back.
    delivered = service.deliver(service.provider.take_back(number, "reclaimed"))
    assert delivered.json()["outcome"] == "applied"

    reclaimed = connection(service, account, location)
    assert (reclaimed["status"], reclaimed["active"]) == ("reclaimed", False)
    # One rule: the number is gone, and agent_1 was never in this account's directory.
    assert reclaimed["degraded"]["reasons"] == ["number_reclaimed", "agent_not_found"]
    assert reclaimed["degraded"]["since"] is not None
    assert reclaimed["reclaimReason"] == "reclaimed"
    # The claim is released: the same number can be connected again.
    again = service.connect(unique_account(), number)
    assert (again.status_code, again.json()["status"]) == (201, "connected")


def test_a_registration_status_webhook_updates_the_registration(service: Service) -> None:
    account, number = unique_account(), unique_us_number()
    created = service.connect(account, number)
    event = service.provider.registration_changed(
        number, "rejected", raw_status="FAILED", reason="Opt-in flow unclear."
    )
    service.deliver(event)
    registration = connection(service, account, created.headers["Location"])["registration"]
    assert (registration["status"], registration["rawStatus"], registration["reason"]) == (
        "rejected",
        "FAILED",
        "Opt-in flow unclear.",
    )


def test_a_redelivered_event_is_acknowledged_and_changes_nothing(service: Service) -> None:
    account, number = unique_account(), unique_us_number()
    created = service.connect(account, number)
    event = service.provider.take_back(number, "expired")
    first = service.deliver(event)
    version = connection(service, account, created.headers["Location"])["version"]
    again = service.deliver(event)  # same event id, fresh signature
    assert (first.json()["outcome"], again.status_code, again.json()["outcome"]) == (
        "applied",
        200,
        "duplicate",
    )
    assert connection(service, account, created.headers["Location"])["version"] == version


def test_an_event_about_an_unknown_number_is_acknowledged_and_ignored(service: Service) -> None:
    response = service.deliver(reclaim_event(unique_us_number()))
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")


# --- refusals -------------------------------------------------------------------------------


def test_an_unsigned_webhook_is_403_and_changes_nothing(service: Service) -> None:
    account, number = unique_account(), unique_us_number()
    created = service.connect(account, number)
    response = service.http.post(WEBHOOKS, content=reclaim_event(number).body())
    assert (response.status_code, response.json()["code"]) == (403, "webhook_signature_invalid")
    assert connection(service, account, created.headers["Location"])["status"] == "connected"


def test_a_webhook_signed_with_another_secret_is_403(service: Service) -> None:
    body = reclaim_event(unique_us_number()).body()
    signature = sign("not-the-secret", body, int(time.time()))
    response = service.http.post(WEBHOOKS, content=body, headers={SIGNATURE_HEADER: signature})
    assert (response.status_code, response.json()["code"]) == (403, "webhook_signature_invalid")


def test_a_tampered_webhook_is_403(service: Service) -> None:
    body = reclaim_event(unique_us_number()).body()
    signature = sign(WEBHOOK_SECRET, body, int(time.time()))
    tampered = body.replace(b"reclaimed", b"released")
    response = service.http.post(WEBHOOKS, content=tampered, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 403


def test_a_webhook_with_a_stale_timestamp_is_403(service: Service) -> None:
    response = service.deliver(reclaim_event(unique_us_number()), at=time.time() - 3600)
    assert (response.status_code, response.json()["code"]) == (
        403,
        "webhook_timestamp_out_of_window",
    )


def test_a_bearer_token_does_not_replace_the_signature(service: Service) -> None:
    response = service.http.post(
        WEBHOOKS, content=reclaim_event(unique_us_number()).body(), headers=auth(unique_account())
    )
    assert response.status_code == 403


def test_a_signed_body_in_the_wrong_shape_is_400(service: Service) -> None:
    body = b'{"id": "evt_x", "type": "number.reclaimed", "data": {}}'
    signature = sign(WEBHOOK_SECRET, body, int(time.time()))
    response = service.http.post(WEBHOOKS, content=body, headers={SIGNATURE_HEADER: signature})
    assert (response.status_code, response.json()["code"]) == (400, "webhook_payload_invalid")


def test_webhooks_of_a_provider_this_deployment_does_not_use_are_404(service: Service) -> None:
    response = service.http.post("/providers/twilio/webhooks", content=b"Sid=HR1")
    assert (response.status_code, response.json()["code"]) == (404, "unknown_provider")


def test_without_a_configured_secret_every_sandbox_webhook_is_403(database_url: str) -> None:
    with running_service(database_url, sandbox_webhook_secret=None) as unconfigured:
        response = unconfigured.deliver(reclaim_event(unique_us_number()))
    assert response.status_code == 403
