"""Events at rest are encrypted (AES-GCM); rotating CIPHER_KEY with CIPHER_PREVIOUS_KEYS
keeps the events written under the old key readable, while new events use the new key."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import MapperDeserialisationError
from pydantic import SecretStr

from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account, unique_us_number

CANARY = "agent-CANARY-cipher-4f1d"


def application(url: str, key: str, previous: tuple[str, ...] = ()) -> SmsChannels:
    settings = Settings(
        database_url=url,
        cipher_key=SecretStr(key),
        cipher_previous_keys=[SecretStr(k) for k in previous],
    )
    return build_application(settings, SandboxProvider())


def connect(app: SmsChannels) -> UUID:
    result = app.connect(
        ConnectNumber(
            account_id=unique_account(),
            workspace_id="ws",
            agent_id=CANARY,
            mode="new",
            country="US",
            area_code=None,
            phone_number=unique_us_number(),
            requested_by="u1",
            idempotency_key=None,
            compliance=None,
        )
    )
    return result.connection.id


def test_events_at_rest_do_not_hold_their_values_in_clear(isolated_database_url: str) -> None:
    app = application(isolated_database_url, AESCipher.create_key(32))
    try:
        connect(app)
    finally:
        app.close()
    with psycopg.connect(isolated_database_url) as connection:
        states = [row[0] for row in connection.execute("SELECT state FROM smschannels_events")]
    assert states
    assert not any(CANARY.encode() in bytes(state) for state in states)


def test_after_a_rotation_old_events_stay_readable_and_new_ones_use_the_new_key(
    isolated_database_url: str,
) -> None:
    old, new = AESCipher.create_key(32), AESCipher.create_key(32)
    before = application(isolated_database_url, old)
    try:
        written_before = connect(before)
    finally:
        before.close()

    rotated = application(isolated_database_url, new, previous=(old,))
    try:
        assert rotated.repository.get(written_before).agent_id == CANARY
        written_after = connect(rotated)
    finally:
        rotated.close()

    # The new event needs only the new key; the old one needs the old key.
    new_only = application(isolated_database_url, new)
    try:
        assert new_only.repository.get(written_after).agent_id == CANARY
        with pytest.raises(MapperDeserialisationError):
            new_only.repository.get(written_before)
    finally:
        new_only.close()


def test_without_the_key_the_events_cannot_be_read(isolated_database_url: str) -> None:
    writer = application(isolated_database_url, AESCipher.create_key(32))
    try:
        written = connect(writer)
    finally:
        writer.close()
    stranger = application(isolated_database_url, AESCipher.create_key(32))
    try:
        with pytest.raises(MapperDeserialisationError):
            stranger.repository.get(written)
    finally:
        stranger.close()
