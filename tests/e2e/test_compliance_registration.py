"""Registration status over HTTP: provider facts only, shown raw, and "changed since
submission" after an operator edit. The provider's reports are fed to the application the
server runs on, as its webhook handler would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.main import create_app
from domain.application import SmsChannels
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import (
    JWT_SECRET,
    auth,
    if_match,
    live_server,
    unique_account,
    unique_us_number,
)
from tests.support.compliance_payloads import GOOD


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[tuple[httpx.Client, SmsChannels]]:
    settings = Settings(database_url=database_url, jwt_secret=JWT_SECRET)
    application = build_application(settings, SandboxProvider())
    with (
        live_server(create_app(settings, application)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client, application


# What the provider reported of the number's throughput: nothing yet (issue 31).
UNKNOWN_THROUGHPUT = dict.fromkeys(
    ("brandScore", "tmobileTier", "tmobileDailyCap", "attMessageClass", "attTpm")
)


def connected(http: httpx.Client, account: str) -> tuple[str, UUID]:
    body: dict[str, Any] = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": "ws",
        "agentId": "agent",
        "smsCompliance": GOOD,
    }
    created = http.post("/channels/sms/connect", json=body, headers=auth(account))
    assert created.status_code == 201, created.text
    return created.headers["Location"], UUID(created.json()["id"])


def test_the_providers_status_is_shown_with_its_raw_status_and_reason(
    served: tuple[httpx.Client, SmsChannels],
) -> None:
    http, application = served
    account = unique_account()
    url, connection_id = connected(http, account)
    application.record_registration_status(
        connection_id, "rejected", raw_status="FAILED", reason="Sample messages unclear"
    )
    registration = http.get(url + "/compliance", headers=auth(account)).json()["registration"]
    assert registration == {
        "status": "rejected",
        "rawStatus": "FAILED",
        "reason": "Sample messages unclear",
        "changedSinceSubmission": False,
        "throughput": UNKNOWN_THROUGHPUT,
    }


def test_an_edit_after_submission_marks_it_changed_and_keeps_the_status(
    served: tuple[httpx.Client, SmsChannels],
) -> None:
    http, application = served
    account = unique_account()
    url, connection_id = connected(http, account)
    application.record_registration_status(connection_id, "pending", raw_status="IN_REVIEW")
    edited = {**GOOD, "brand": {**GOOD["brand"], "city": "Oakland"}}
    response = http.put(url + "/compliance", json=edited, headers=if_match(http, url, account))
    assert response.json()["registration"] == {
        "status": "pending",
        "rawStatus": "IN_REVIEW",
        "reason": None,
        "changedSinceSubmission": True,
        "throughput": UNKNOWN_THROUGHPUT,
    }
    connection = http.get(url, headers=auth(account)).json()
    assert (connection["registrationStatus"], connection["registration"]["status"]) == (
        "pending",
        "pending",
    )


def test_an_operator_cannot_set_the_registration_status(
    served: tuple[httpx.Client, SmsChannels],
) -> None:
    http, _ = served
    account = unique_account()
    url, _ = connected(http, account)
    with_status = {**GOOD, "registrationStatus": "approved"}
    put = http.put(url + "/compliance", json=with_status, headers=if_match(http, url, account))
    patch = http.patch(url, json={"registrationStatus": "approved"}, headers=auth(account))
    assert (put.status_code, patch.status_code) == (422, 422)
    assert http.get(url, headers=auth(account)).json()["registrationStatus"] == "not_submitted"
