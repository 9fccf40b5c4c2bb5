"""Cipher-key rotation for events at rest. eventsourcing's AESCipher holds one key; this
cipher encrypts with ``CIPHER_KEY`` and decrypts with it or any of ``CIPHER_PREVIOUS_KEYS``,
so events written before a rotation stay readable. Selected (as ``CIPHER_TOPIC``) only when
previous keys are configured; without them the plain AESCipher is used, byte-compatible."""

from __future__ import annotations

from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

PREVIOUS_KEYS = "CIPHER_PREVIOUS_KEYS"


class KeyringCipher(Cipher):
    """AES-GCM with a current key (writes) and previous keys (reads only). GCM
    authenticates: a key that did not encrypt a record fails its tag check, so trying the
    keys in turn cannot return garbage."""

    def __init__(self, environment: Environment) -> None:
        self._current = AESCipher(environment)
        previous = [k.strip() for k in (environment.get(PREVIOUS_KEYS) or "").split(",")]
        self._previous = [
            AESCipher(Environment(env={AESCipher.CIPHER_KEY: key})) for key in previous if key
        ]

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._current.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return self._current.decrypt(ciphertext)
        except ValueError:
            for cipher in self._previous:
                try:
                    return cipher.decrypt(ciphertext)
                except ValueError:
                    continue
            raise
