"""Twilio mode needs the public URL Twilio signs (issue 20, item 7): ``serve`` refuses to
start without ``PUBLIC_BASE_URL``, and ``run`` asks the same of the provider (issue 32 item 7)."""

from __future__ import annotations

import pytest

from sms_channels.settings import InsecureSettingsError, Settings
from tests.support.common import JWT_SECRET

PRODUCTION = {
    "database_url": "postgresql://localhost/x",
    "jwt_secret": JWT_SECRET,
    "cipher_key": "k" * 44,
    "registration_id_key": "r" * 32,
    "persistence": "postgres",
    "sms_provider": "twilio",
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_auth_token": "t" * 32,
}


def test_twilio_mode_without_a_public_base_url_is_refused() -> None:
    with pytest.raises(InsecureSettingsError, match="PUBLIC_BASE_URL"):
        Settings(**PRODUCTION).require_production_secrets()


def test_twilio_mode_with_a_public_base_url_starts() -> None:
    Settings(**PRODUCTION, public_base_url="https://sms.example.com").require_production_secrets()


def test_what_the_provider_needs_is_asked_of_run_as_of_serve() -> None:
    dev = Settings(sms_provider="twilio")
    assert dev.missing_for_provider() == [
        "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
        "PUBLIC_BASE_URL",
    ]
    assert Settings().missing_for_provider() == []  # the sandbox needs nothing of the kind
