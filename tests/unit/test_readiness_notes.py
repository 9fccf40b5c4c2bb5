"""/readyz says when INBOUND_SMS_WEBHOOK_URL is unset, or the provider refuses the
credentials, and stays ready."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.routes.ops import CREDENTIALS_REFUSED, INBOUND_UNSET
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, auth
from tests.support.fake_twilio import ACCOUNT_SID, fake_twilio


def ready(**settings: str) -> TestClient:
    return TestClient(create_app(Settings(persistence="memory", jwt_secret=JWT_SECRET, **settings)))  # type: ignore[arg-type]


def test_readiness_notes_that_the_inbound_url_is_unset() -> None:
    with ready() as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["notes"] == [INBOUND_UNSET]


def test_readiness_has_no_note_once_the_inbound_url_is_set() -> None:
    with ready(inbound_sms_webhook_url="https://ingest.example.test/sms") as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert "notes" not in response.json()


def test_an_empty_inbound_url_is_unset_and_a_non_url_is_refused() -> None:
    assert Settings(inbound_sms_webhook_url="").inbound_sms_webhook_url is None
    with pytest.raises(ValueError, match="INBOUND_SMS_WEBHOOK_URL"):
        Settings(inbound_sms_webhook_url="ftp://x")


def test_readiness_notes_credentials_twilio_refuses_without_the_token() -> None:
    with fake_twilio() as fake:
        app = create_app(
            Settings(
                persistence="memory", jwt_secret=JWT_SECRET, sms_provider="twilio",
                twilio_account_sid=ACCOUNT_SID, twilio_auth_token=SecretStr("wrong-canary"),
                twilio_base_url=fake.url, inbound_sms_webhook_url="https://ingest.example.test/sms",
            )
        )  # fmt: skip
        with TestClient(app) as client:
            assert "notes" not in client.get("/readyz").json()
            search = client.get(
                "/channels/sms/numbers", params={"countryCode": "US"}, headers=auth("acc_1")
            )
            assert (search.status_code, search.json()["code"]) == (502, "provider_rejected")
            response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["notes"] == [CREDENTIALS_REFUSED]
    assert "wrong-canary" not in response.text
