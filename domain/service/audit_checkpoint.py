"""Head checkpoints: every connection's chain head at a moment, optionally signed, so that a
reviewer who kept an earlier checkpoint can prove nothing was truncated or rewritten since.

A chain shows an altered, deleted or reordered fact *inside* a connection's record; it
cannot show that the newest facts were removed (the shorter chain is still a valid chain).
A checkpoint closes that gap: it lists, per connection, the newest version and its chain.
Checking it later (``check``) requires each listed connection to still reach that version
with the same chain there, and its chain to verify up to its newest fact.

The document is JSON; its ``signature`` (Ed25519 over the canonical bytes of the rest) is
made with ``AUDIT_SIGNING_KEY`` (32 random bytes, base64) when one is configured.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.service.audit_verify import Verified

FORMAT = "sms-channels/audit-checkpoint/v1"
ALGORITHM = "Ed25519"


class CheckpointError(ValueError):
    """The file is not a checkpoint, or its signature does not verify."""


def signing_key(encoded: str) -> Ed25519PrivateKey:
    """``AUDIT_SIGNING_KEY``: the 32-byte Ed25519 private key, base64 (standard or URL)."""
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_")
    except (binascii.Error, ValueError):
        raise CheckpointError("AUDIT_SIGNING_KEY is not base64.") from None
    if len(raw) != 32:  # an Ed25519 private key's length
        raise CheckpointError("AUDIT_SIGNING_KEY must be 32 bytes (base64 of 32 random bytes).")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A signer's public key given as base64 (``--public-key``); CheckpointError otherwise."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise CheckpointError("The public key is not a base64 Ed25519 key.") from None


def _signed_bytes(document: Mapping[str, Any]) -> bytes:
    return orjson.dumps(
        {k: v for k, v in document.items() if k != "signature"}, option=orjson.OPT_SORT_KEYS
    )


def checkpoint(
    verified: Iterable[Verified],
    *,
    created_at: datetime,
    account_id: str | None,
    key: Ed25519PrivateKey | None,
) -> dict[str, Any]:
    """The checkpoint document of the heads of ``verified`` (connections whose chain is
    broken are left out: a checkpoint vouches only for what verified)."""
    heads = [
        {
            "connectionId": str(v.verification.connection_id),
            "version": v.verification.head_version,
            "chain": v.verification.head,
        }
        for v in verified
        if v.verification.verified
    ]
    document: dict[str, Any] = {
        "format": FORMAT,
        "createdAt": created_at.isoformat(),
        "account": account_id,
        "heads": heads,
    }
    if key is not None:
        document["signature"] = {
            "algorithm": ALGORITHM,
            "publicKey": public_key_text(key.public_key()),
            "value": base64.b64encode(key.sign(_signed_bytes(document))).decode(),
        }
    return document


@dataclass(frozen=True)
class Head:
    connection_id: UUID
    version: int
    chain: str | None


SignatureState = Literal["verified", "unsigned", "self-signed"]


def read_checkpoint(data: bytes, *, public_key: str | None) -> tuple[list[Head], SignatureState]:
    """The heads of a checkpoint file, after checking its signature: with ``public_key``
    (the signer's, kept apart from the file) a signature is required and must verify;
    without one, a signature is checked against the key in the file itself, which proves
    the file is whole but not who made it ("self-signed")."""
    try:
        document = orjson.loads(data)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise CheckpointError(f"Not a checkpoint (expected format {FORMAT}).")
        heads = [
            Head(UUID(h["connectionId"]), int(h["version"]), h["chain"]) for h in document["heads"]
        ]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError("Not a checkpoint: the file cannot be read.") from None
    signature = document.get("signature")
    if signature is None:
        if public_key is not None:
            raise CheckpointError("The checkpoint is not signed, and a public key was given.")
        return heads, "unsigned"
    try:
        key = parse_public_key(public_key or signature["publicKey"])
        key.verify(base64.b64decode(signature["value"]), _signed_bytes(document))
    except (InvalidSignature, KeyError, TypeError, binascii.Error):
        raise CheckpointError("The checkpoint's signature does not verify.") from None
    return heads, "verified" if public_key is not None else "self-signed"


FindingCode = Literal["truncated", "rewritten", "broken"]


@dataclass(frozen=True)
class Finding:
    """A connection that does not stand where the checkpoint saw it: ``code`` (stable) and a
    sentence."""

    connection_id: UUID
    code: FindingCode
    reason: str


def check(heads: Iterable[Head], verified: Mapping[UUID, Verified]) -> list[Finding]:
    """Compare a checkpoint's heads with a pass over the store made with ``watch`` set to
    those heads' versions."""
    findings = []
    for head in heads:
        now = verified.get(head.connection_id)
        if now is None:
            findings.append(Finding(head.connection_id, "truncated", "truncated: no fact is left"))
            continue
        v = now.verification
        if not v.verified:
            findings.append(
                Finding(
                    head.connection_id, "broken", f"broken at version {v.broken_at}: {v.reason}"
                )
            )
        elif v.head_version < head.version:
            findings.append(
                Finding(
                    head.connection_id,
                    "truncated",
                    f"truncated: the checkpoint saw version {head.version}, "
                    f"the record now ends at {v.head_version}",
                )
            )
        elif now.chains_at.get(head.version) != head.chain:
            findings.append(
                Finding(
                    head.connection_id,
                    "rewritten",
                    f"rewritten: version {head.version} no longer has the checkpoint's chain",
                )
            )
    return findings
