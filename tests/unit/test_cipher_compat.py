"""The service encrypts events with `cryptography`'s AES-GCM; events written by the
library's default (pycryptodome) cipher, or by earlier versions of the service, stay readable."""

from __future__ import annotations

from eventsourcing.cipher import AESCipher as PycryptodomeCipher
from eventsourcing.cryptography import AESCipher as CryptographyCipher
from eventsourcing.utils import Environment

from sms_channels.database import eventsourcing_env
from sms_channels.settings import Settings


def test_the_configured_cipher_is_cryptographys_aes_gcm() -> None:
    key = PycryptodomeCipher.create_key(32)
    env = eventsourcing_env(Settings(persistence="memory", cipher_key=key))
    assert env["CIPHER_TOPIC"] == "eventsourcing.cryptography:AESCipher"


def test_events_encrypted_by_either_cipher_decrypt_with_the_other() -> None:
    env = Environment(env={"CIPHER_KEY": PycryptodomeCipher.create_key(32)})
    old, new = PycryptodomeCipher(env), CryptographyCipher(env)
    assert new.decrypt(old.encrypt(b"written before")) == b"written before"
    assert old.decrypt(new.encrypt(b"written after")) == b"written after"
