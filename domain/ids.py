"""Deterministic ids. These namespaces are part of the stored data: never change them."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID, uuid4, uuid5

ACCOUNTS_NAMESPACE = UUID("6f1c8f0e-3a55-4f0e-9d0b-5b7f2f4a1c10")
NUMBER_CLAIMS_NAMESPACE = UUID("0b6f7d3e-8d8e-4c1f-a2b8-6a8f7d1e2c33")
SMS_REQUESTS_NAMESPACE = UUID("9a3e5c71-1d4b-4b7a-8f0e-2c6d9e8b7a55")


def connection_id_for(account_id: str, workspace_id: str, idempotency_key: str | None) -> UUID:
    """The id of the connection a connect command creates: ``uuid5(account, workspace,
    key)`` when the client sent an Idempotency-Key (so a retry finds the first result), else
    a random one. The workspace is part of it: a key only ever finds a connection of the
    workspace the request names, so a token restricted to other workspaces learns nothing
    from replaying a key it does not own."""
    if idempotency_key is None:
        return uuid4()
    account = uuid5(ACCOUNTS_NAMESPACE, account_id)
    return uuid5(uuid5(account, workspace_id), idempotency_key)


def legacy_connection_id(account_id: str, idempotency_key: str) -> UUID:
    """The id connect commands derived before the workspace was part of it (``uuid5(account,
    key)``): replays of keys used before that change still find their connection."""
    return uuid5(uuid5(ACCOUNTS_NAMESPACE, account_id), idempotency_key)


def number_claim_id(e164: str) -> UUID:
    """The id of the claim aggregate that guards one phone number."""
    return uuid5(NUMBER_CLAIMS_NAMESPACE, e164)


def sms_request_id(connection_id: UUID) -> UUID:
    """The id of the SMS request (Settings → SMS Requests) a connection's number request makes."""
    return uuid5(SMS_REQUESTS_NAMESPACE, str(connection_id))


REGISTRATIONS_NAMESPACE = UUID("3c1d9a47-5e2b-4f61-9b8a-7d0e4c2f1a66")
REGISTRATION_REFS_NAMESPACE = UUID("d84b2f10-6a3c-4e97-8c15-1f9e0b7a3d22")


def brand_registration_id(account_id: str, identity: str) -> UUID:
    """The brand registration of one business of one account as first derived:
    ``uuid5(account, identity)`` (identity: the EIN, or a sole proprietor's own identity
    fields). Unkeyed, so anyone who sees the id can recover an EIN by trying the 10⁹ of
    them: new brands get ``keyed_brand_registration_id``; this one stays what brands
    recorded before it keep (``RegistrationCommands.brand_registration_id`` finds them)."""
    return uuid5(uuid5(REGISTRATIONS_NAMESPACE, account_id), "brand|" + identity)


def keyed_brand_registration_id(key: bytes, account_id: str, identity: str) -> UUID:
    """The brand registration of one business of one account: HMAC-SHA256 under the
    deployment's ``REGISTRATION_ID_KEY`` of (account, identity), as a version-8 UUID.
    Connections with the same brand share it; without the key nothing about the EIN can be
    learnt from it. The key is part of the stored data's meaning: never change it."""
    message = f"{len(account_id)}:{account_id}|brand|{identity}".encode()
    raw = bytearray(hmac.new(key, message, hashlib.sha256).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8: custom
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 9562 variant
    return UUID(bytes=bytes(raw))


def campaign_registration_id(brand_id: UUID, content: str) -> UUID:
    """The campaign registration of one brand and one campaign content (canonical JSON):
    connections with the same brand and campaign share it."""
    return uuid5(brand_id, "campaign|" + content)


def registration_ref_id(provider: str, level: str, ref: str) -> UUID:
    """The index entry that finds what a provider reference of ``level`` belongs to."""
    return uuid5(REGISTRATION_REFS_NAMESPACE, f"{provider}|{level}|{ref}")
