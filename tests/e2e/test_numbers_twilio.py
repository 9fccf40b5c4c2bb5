"""SMS_PROVIDER=twilio end to end: the service built from settings alone (bootstrap picks the
Twilio adapter and its webhook verifier) against the fake Twilio on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from api.main import create_app
from domain.ids import connection_id_for
from providers.twilio import compute_signature
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, auth, live_server, unique_account
from tests.support.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilio,
    Scripted,
    available,
    fake_twilio,
)

PUBLIC = "https://sms.example.com"
WEBHOOK_PATH = "/providers/twilio/webhooks"
OFFERED = ["+18089251571", "+18089251572", "+18089251573", "+18089251574"]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with fake_twilio() as server:
        server.inventory["US"] = [available(n) for n in OFFERED]
        yield server


@contextmanager
def twilio_service(database_url: str, fake: FakeTwilio, **overrides: Any) -> Iterator[httpx.Client]:
    settings = Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        sms_provider="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_base_url=fake.url,
        twilio_numbers_base_url=fake.url,
        twilio_timeout_seconds=2,
        twilio_hosting_address_sid="AD" + "1" * 32,
        twilio_hosting_email="owner@example.com",
        twilio_hosting_contact_phone="+12344444444",
        public_base_url=PUBLIC,
        **overrides,
    )
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def http(database_url: str, fake: FakeTwilio) -> Iterator[httpx.Client]:
    with twilio_service(database_url, fake) as client:
        yield client


def connect(http: httpx.Client, account: str, number: str, mode: str = "new") -> httpx.Response:
    body = {
        "mode": mode,
        "countryCode": "US",
        "phoneNumber": number,
        "workspaceId": "ws",
        "agentId": "agent",
    }
    return http.post("/channels/sms/connect", json=body, headers=auth(account))


def twilio_callback(
    http: httpx.Client, form: list[tuple[str, str]], token: str = AUTH_TOKEN
) -> httpx.Response:
    # Twilio signs the public URL it called, which the service knows from PUBLIC_BASE_URL.
    signature = compute_signature(token, PUBLIC + WEBHOOK_PATH, form)
    return http.post(
        WEBHOOK_PATH,
        content=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )


def test_search_then_connect_buys_at_twilio(http: httpx.Client, fake: FakeTwilio) -> None:
    numbers = http.get(
        "/channels/sms/numbers",
        params={"countryCode": "US", "areaCode": "808"},
        headers=auth(unique_account()),
    ).json()["numbers"]
    assert [n["phoneNumber"] for n in numbers] == OFFERED
    created = connect(http, unique_account(), OFFERED[0])
    assert (created.status_code, created.json()["status"]) == (201, "connected")
    assert any(n["phone_number"] == OFFERED[0] for n in fake.numbers.values())


def test_twilio_refusing_the_number_is_409(http: httpx.Client) -> None:
    response = connect(http, unique_account(), "+14155550199")  # not on offer at Twilio
    assert (response.status_code, response.json()["code"]) == (409, "number_unavailable")


def test_twilio_down_is_503_with_retry_after_and_then_connects_record_nothing(
    database_url: str, fake: FakeTwilio
) -> None:
    # A service of its own: it remembers the outage for the Retry-After.
    with twilio_service(database_url, fake) as http:
        # Longer than the adapter waits in a request: one attempt, then the caller is told.
        fake.answer_next(Scripted(503, None, {"Retry-After": "17"}))
        search = http.get(
            "/channels/sms/numbers", params={"countryCode": "US"}, headers=auth(unique_account())
        )
        assert (search.status_code, search.headers["Retry-After"]) == (503, "17")
        purchases = len(fake.requests_to("POST", "/IncomingPhoneNumbers.json"))
        account = unique_account()
        connect_response = http.post(
            "/channels/sms/connect",
            json={
                "mode": "new",
                "countryCode": "US",
                "phoneNumber": OFFERED[2],
                "workspaceId": "ws",
                "agentId": "a",
            },
            headers={**auth(account), "Idempotency-Key": "k-1"},
        )
        assert connect_response.status_code == 503
        assert len(fake.requests_to("POST", "/IncomingPhoneNumbers.json")) == purchases
        missing = http.get(
            f"/channels/sms/connections/{connection_id_for(account, 'ws', 'k-1')}",
            headers=auth(account),
        )
        assert missing.status_code == 404


def test_byon_completes_with_a_signed_hosted_number_order_callback(
    http: httpx.Client, fake: FakeTwilio
) -> None:
    account = unique_account()
    requested = connect(http, account, OFFERED[3], mode="byon")
    assert requested.status_code == 202, requested.text
    [order] = [o for o in fake.orders.values() if o["phone_number"] == OFFERED[3]]
    form = [
        ("Sid", order["sid"]),
        ("Status", "completed"),
        ("PhoneNumber", OFFERED[3]),
        ("IncomingPhoneNumberSid", "PN" + "3" * 32),
    ]
    delivered = twilio_callback(http, form)
    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "applied")
    status = http.get(requested.headers["Location"], headers=auth(account)).json()["status"]
    assert status == "connected"


def test_a_callback_signed_with_another_token_is_403(http: httpx.Client) -> None:
    response = twilio_callback(http, [("Sid", "HR" + "0" * 32), ("Status", "completed")], "x")
    assert (response.status_code, response.json()["code"]) == (403, "webhook_signature_invalid")


def _log_size(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT count(*) FROM smschannels_events").fetchone()
    assert row is not None
    return int(row[0])


def test_a_replay_with_a_fresh_idempotency_token_does_not_grow_the_log(
    http: httpx.Client, database_url: str
) -> None:
    form = [("Sid", "HR" + "7" * 32), ("Status", "in-review"), ("PhoneNumber", OFFERED[2])]
    signature = compute_signature(AUTH_TOKEN, PUBLIC + WEBHOOK_PATH, form)

    def deliver(token: str) -> httpx.Response:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": token,
        }
        return http.post(WEBHOOK_PATH, content=urlencode(form), headers=headers)

    assert deliver("tok-first").status_code == 200
    before = _log_size(database_url)
    replay = deliver("tok-fresh")
    assert (replay.status_code, replay.json()["outcome"]) == (200, "duplicate")
    assert _log_size(database_url) == before


def full_webhook_buckets(database_url: str) -> None:
    """The webhook buckets are per source address and shared by every API process on the
    database: the tests below (all from 127.0.0.1) start from full ones."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS http_rate_buckets (bucket text, key text, tokens float,"
            " granted boolean, updated_at timestamptz, PRIMARY KEY (bucket, key))"
        )
        connection.execute("DELETE FROM http_rate_buckets WHERE bucket LIKE 'webhooks%'")


def test_webhooks_are_rate_limited_per_source(database_url: str, fake: FakeTwilio) -> None:
    full_webhook_buckets(database_url)
    with twilio_service(database_url, fake, rate_limit_webhooks_per_minute=2) as client:
        answers = [twilio_callback(client, [("Sid", f"SM{i}")]).status_code for i in range(3)]
    assert answers[:2] == [200, 200]
    assert answers[2] == 429


def test_unsigned_webhooks_do_not_spend_the_signed_deliveries_bucket(
    database_url: str, fake: FakeTwilio
) -> None:
    full_webhook_buckets(database_url)
    with twilio_service(
        database_url,
        fake,
        rate_limit_webhooks_per_minute=2,
        rate_limit_refused_webhooks_per_minute=3,
    ) as client:
        forged = [
            twilio_callback(client, [("Sid", f"SM{i}")], token="wrong").status_code
            for i in range(5)
        ]
        signed = [twilio_callback(client, [("Sid", f"SN{i}")]).status_code for i in range(2)]
    assert forged == [403, 403, 403, 429, 429]  # their own small bucket
    assert signed == [200, 200]  # the provider's two tokens untouched
