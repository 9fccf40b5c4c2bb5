"""Head checkpoints in memory: the document lists verified heads only, its Ed25519 signature
covers every other member, a changed or re-keyed file is refused, and ``check`` names each
connection that was truncated, rewritten or broke since."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from uuid import uuid4

import orjson
import pytest

from domain.audit_chain import REASONS, Verification
from domain.service.audit_checkpoint import (
    FORMAT,
    CheckpointError,
    Head,
    check,
    checkpoint,
    parse_public_key,
    public_key_text,
    read_checkpoint,
    signing_key,
)
from domain.service.audit_verify import Verified

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def verified(
    version: int, chain: str | None, *, ok: bool = True, at: int | None = None
) -> Verified:
    connection_id = uuid4()
    result = Verification(
        connection_id=connection_id,
        verified=ok,
        facts=version,
        head=chain if ok else None,
        head_version=version,
        chain_starts_at=1 if chain else None,
        broken_at=None if ok else 2,
        code=None if ok else "chain_mismatch",
    )
    return Verified(result, "acc", {at: chain} if at is not None else {})


def key_text() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_the_document_lists_only_verified_heads_with_their_version_and_chain() -> None:
    good, legacy, broken = verified(5, "a" * 64), verified(3, None), verified(4, "b" * 64, ok=False)
    document = checkpoint([good, legacy, broken], created_at=NOW, account_id="acc", key=None)
    assert document == {
        "format": FORMAT,
        "createdAt": "2026-12-01T12:00:00+00:00",
        "account": "acc",
        "heads": [
            {"connectionId": str(good.verification.connection_id), "version": 5, "chain": "a" * 64},
            {"connectionId": str(legacy.verification.connection_id), "version": 3, "chain": None},
        ],
    }


def test_a_signed_checkpoint_verifies_with_its_signers_key_and_not_another() -> None:
    key = signing_key(key_text())
    document = checkpoint([verified(2, "c" * 64)], created_at=NOW, account_id=None, key=key)
    data = orjson.dumps(document)
    public = document["signature"]["publicKey"]
    heads, state = read_checkpoint(data, public_key=public)
    assert (len(heads), heads[0].version, state) == (1, 2, "verified")
    assert read_checkpoint(data, public_key=None)[1] == "self-signed"
    other = checkpoint([], created_at=NOW, account_id=None, key=signing_key(key_text()))
    with pytest.raises(CheckpointError, match="does not verify"):
        read_checkpoint(data, public_key=other["signature"]["publicKey"])


@pytest.mark.parametrize("member", ["createdAt", "account", "heads"])
def test_any_changed_member_breaks_the_signature(member: str) -> None:
    key = signing_key(key_text())
    document = checkpoint([verified(2, "c" * 64)], created_at=NOW, account_id="acc", key=key)
    document[member] = {"createdAt": "2020-01-01", "account": "acc_x", "heads": []}[member]
    with pytest.raises(CheckpointError, match="does not verify"):
        read_checkpoint(orjson.dumps(document), public_key=document["signature"]["publicKey"])


def test_an_unsigned_checkpoint_is_refused_when_a_signers_key_is_given() -> None:
    data = orjson.dumps(checkpoint([], created_at=NOW, account_id=None, key=None))
    assert read_checkpoint(data, public_key=None) == ([], "unsigned")
    with pytest.raises(CheckpointError, match="not signed"):
        read_checkpoint(data, public_key=key_text())


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[]", b'{"format": "other"}', orjson.dumps({"format": FORMAT, "heads": [{}]})],
)
def test_what_is_not_a_checkpoint_is_refused(data: bytes) -> None:
    with pytest.raises(CheckpointError, match="Not a checkpoint"):
        read_checkpoint(data, public_key=None)


@pytest.mark.parametrize("text", ["%%%", base64.b64encode(b"short").decode()])
def test_a_signing_key_must_be_base64_of_32_bytes(text: str) -> None:
    with pytest.raises(CheckpointError, match="AUDIT_SIGNING_KEY"):
        signing_key(text)


def test_check_names_truncation_rewriting_and_breaks_and_passes_the_rest() -> None:
    same = verified(6, "d" * 64, at=4)
    grown = verified(9, "e" * 64, at=4)
    rewritten = verified(6, "f" * 64, at=4)
    shorter = verified(3, "g" * 64)
    broken = verified(6, "h" * 64, ok=False)
    gone = uuid4()
    heads = [
        Head(same.verification.connection_id, 4, "d" * 64),
        Head(grown.verification.connection_id, 4, "e" * 64),
        Head(rewritten.verification.connection_id, 4, "0" * 64),
        Head(shorter.verification.connection_id, 4, "g" * 64),
        Head(broken.verification.connection_id, 4, "h" * 64),
        Head(gone, 2, "i" * 64),
    ]
    now = {v.verification.connection_id: v for v in (same, grown, rewritten, shorter, broken)}
    found = {f.connection_id: f.reason.split(":")[0] for f in check(heads, now)}
    assert found == {
        rewritten.verification.connection_id: "rewritten",
        shorter.verification.connection_id: "truncated",
        broken.verification.connection_id: "broken at version 2",
        gone: "truncated",
    }


def test_a_url_safe_signing_key_without_padding_is_read_as_the_same_key() -> None:
    raw = os.urandom(32)
    standard = signing_key(base64.b64encode(raw).decode())
    url_safe = signing_key(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    assert public_key_text(standard.public_key()) == public_key_text(url_safe.public_key())


@pytest.mark.parametrize("size", [31, 33, 64])
def test_a_signing_key_of_any_other_length_is_refused_with_its_reason(size: int) -> None:
    with pytest.raises(CheckpointError) as refused:
        signing_key(base64.b64encode(os.urandom(size)).decode())
    assert str(refused.value) == "AUDIT_SIGNING_KEY must be 32 bytes (base64 of 32 random bytes)."


def test_each_refusal_says_exactly_why() -> None:
    key = signing_key(key_text())
    signed = checkpoint([], created_at=NOW, account_id=None, key=key)
    unsigned = orjson.dumps(checkpoint([], created_at=NOW, account_id=None, key=None))
    cases: list[tuple[bytes, str | None, str]] = [
        (b"[]", None, f"Not a checkpoint (expected format {FORMAT})."),
        (b"not json", None, "Not a checkpoint: the file cannot be read."),
        (unsigned, key_text(), "The checkpoint is not signed, and a public key was given."),
        (orjson.dumps(signed), "%%%", "The public key is not a base64 Ed25519 key."),
        (
            orjson.dumps({**signed, "signature": {"value": "AAAA"}}),
            None,
            "The checkpoint's signature does not verify.",
        ),
    ]
    for data, public_key, message in cases:
        with pytest.raises(CheckpointError) as refused:
            read_checkpoint(data, public_key=public_key)
        assert str(refused.value) == message


def test_a_public_key_with_characters_outside_base64_is_refused() -> None:
    key = signing_key(key_text())
    document = checkpoint([], created_at=NOW, account_id=None, key=key)
    public = document["signature"]["publicKey"]
    with pytest.raises(CheckpointError, match="not a base64 Ed25519 key"):
        read_checkpoint(orjson.dumps(document), public_key=public[:-4] + "!" + public[-3:])
    assert read_checkpoint(orjson.dumps(document), public_key=public) == ([], "verified")


def test_the_signature_block_names_its_algorithm_and_signers_key() -> None:
    key = signing_key(key_text())
    document = checkpoint([], created_at=NOW, account_id="acc", key=key)
    assert set(document["signature"]) == {"algorithm", "publicKey", "value"}
    assert document["signature"]["algorithm"] == "Ed25519"
    assert document["signature"]["publicKey"] == public_key_text(key.public_key())
    signed = {k: v for k, v in document.items() if k != "signature"}
    key.public_key().verify(
        base64.b64decode(document["signature"]["value"]),
        orjson.dumps(signed, option=orjson.OPT_SORT_KEYS),
    )


def test_a_checkpoints_heads_are_read_back_as_written() -> None:
    good, legacy = verified(5, "a" * 64), verified(3, None)
    data = orjson.dumps(checkpoint([good, legacy], created_at=NOW, account_id=None, key=None))
    heads, state = read_checkpoint(data, public_key=None)
    assert state == "unsigned"
    assert heads == [
        Head(good.verification.connection_id, 5, "a" * 64),
        Head(legacy.verification.connection_id, 3, None),
    ]


def test_check_explains_each_finding_in_full() -> None:
    shorter = verified(3, "g" * 64)
    rewritten = verified(6, "f" * 64, at=4)
    broken = verified(6, "h" * 64, ok=False)
    gone = uuid4()
    heads = [
        Head(shorter.verification.connection_id, 4, "g" * 64),
        Head(rewritten.verification.connection_id, 4, "0" * 64),
        Head(broken.verification.connection_id, 4, "h" * 64),
        Head(gone, 2, "i" * 64),
    ]
    now = {v.verification.connection_id: v for v in (shorter, rewritten, broken)}
    assert [(f.connection_id, f.reason) for f in check(heads, now)] == [
        (
            shorter.verification.connection_id,
            "truncated: the checkpoint saw version 4, the record now ends at 3",
        ),
        (
            rewritten.verification.connection_id,
            "rewritten: version 4 no longer has the checkpoint's chain",
        ),
        (broken.verification.connection_id, f"broken at version 2: {REASONS['chain_mismatch']}"),
        (gone, "truncated: no fact is left"),
    ]


def test_a_head_at_exactly_the_checkpoints_version_with_its_chain_passes() -> None:
    same = verified(4, "d" * 64, at=4)
    head = Head(same.verification.connection_id, 4, "d" * 64)
    assert check([head], {same.verification.connection_id: same}) == []


def test_a_public_key_with_a_stray_character_is_refused_not_cleaned() -> None:
    key = signing_key(key_text())
    document = checkpoint([], created_at=NOW, account_id=None, key=key)
    public = document["signature"]["publicKey"]
    with pytest.raises(CheckpointError, match="not a base64 Ed25519 key"):
        read_checkpoint(orjson.dumps(document), public_key=public[:10] + "!" + public[10:])


def test_a_url_safe_signing_key_uses_the_url_alphabet() -> None:
    raw = b"\xfb\xff\xbf" * 10 + b"\xfb\xff"  # base64 of these bytes is full of + and /
    url_safe = base64.urlsafe_b64encode(raw).decode()
    assert "-" in url_safe
    assert "_" in url_safe
    standard = signing_key(base64.b64encode(raw).decode())
    assert public_key_text(signing_key(url_safe).public_key()) == public_key_text(
        standard.public_key()
    )


@pytest.mark.parametrize("text", ["A", "é" * 44])
def test_a_signing_key_that_cannot_be_decoded_is_refused_as_not_base64(text: str) -> None:
    with pytest.raises(CheckpointError) as refused:
        signing_key(text)
    assert str(refused.value) == "AUDIT_SIGNING_KEY is not base64."


def test_check_goes_on_past_a_connection_with_no_fact_left() -> None:
    gone = uuid4()
    shorter = verified(3, "g" * 64)
    heads = [Head(gone, 2, "i" * 64), Head(shorter.verification.connection_id, 4, "g" * 64)]
    found = check(heads, {shorter.verification.connection_id: shorter})
    assert [f.connection_id for f in found] == [gone, shorter.verification.connection_id]


def test_each_finding_names_its_stable_code() -> None:
    shorter, rewritten = verified(3, "g" * 64), verified(6, "f" * 64, at=4)
    broken, gone = verified(6, "h" * 64, ok=False), uuid4()
    heads = [
        Head(shorter.verification.connection_id, 4, "g" * 64),
        Head(rewritten.verification.connection_id, 4, "0" * 64),
        Head(broken.verification.connection_id, 4, "h" * 64),
        Head(gone, 2, "i" * 64),
    ]
    now = {v.verification.connection_id: v for v in (shorter, rewritten, broken)}
    assert [f.code for f in check(heads, now)] == ["truncated", "rewritten", "broken", "truncated"]


def test_a_public_key_is_parsed_from_base64_or_refused() -> None:
    key = signing_key(key_text())
    text = public_key_text(key.public_key())
    assert public_key_text(parse_public_key(text)) == text
    with pytest.raises(CheckpointError) as refused:
        parse_public_key("%%%")
    assert str(refused.value) == "The public key is not a base64 Ed25519 key."
