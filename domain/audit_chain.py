"""Tamper evidence: the hash chain over a connection's facts, and its verification.

Each fact (event) of a connection carries ``chain``: SHA-256 over the previous fact's chain
and a canonical encoding of this fact (the connection's id, the fact's version, its topic
and every value it recorded, its time and actor included). The chain is computed when the
fact is recorded and stored inside the event's state, so it is encrypted like the rest.

Verification works on stored events (topic, version, state as stored), not on decoded
domain objects: it hashes the state exactly as it was written, before any upcasting, so a
later change of an event's shape never breaks the chain of facts recorded earlier. It reports
the first broken version and why: a version missing from the sequence, a state that cannot
be decrypted or decoded, a chain that does not match the fact (altered, reordered, or copied
from another connection or position), or an unchained fact after the chain began.

Facts recorded before chains existed carry none: a connection's chain starts at its first
chained fact, from ``GENESIS``, and the verification says from which version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

import orjson

GENESIS = "0" * 64
CHAIN = "chain"  # the event attribute (and stored state key) holding the hash
# Stored-state keys that are not part of the fact: the chain itself, and the mapper's own.
_NOT_HASHED = frozenset({CHAIN, "class_version", "originator_id", "originator_version"})

BrokenReason = Literal["missing_version", "undecodable", "chain_mismatch", "unchained_fact"]
REASONS: dict[BrokenReason, str] = {
    "missing_version": "a version is missing from the sequence (a fact was deleted)",
    "undecodable": "the stored fact cannot be decrypted or decoded (altered or damaged)",
    "chain_mismatch": (
        "the fact does not match its chain (altered, reordered, or copied from another "
        "connection or position)"
    ),
    "unchained_fact": "a fact without a chain after the chain began (inserted afterwards)",
}


def _default(value: object) -> object:
    """What orjson does not encode natively: decimals (as text). (No fact holds a set: the
    event store's transcoder could not write one.)"""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no canonical form")


def fact_bytes(*, connection_id: UUID, version: int, topic: str, state: Mapping[str, Any]) -> bytes:
    """The fact's canonical bytes: sorted keys, no whitespace, UTC times as recorded."""
    document: dict[str, Any] = {
        "connection": str(connection_id),
        "version": version,
        "topic": topic,
        "fact": {k: v for k, v in state.items() if k not in _NOT_HASHED},
    }
    return orjson.dumps(
        document, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_default
    )


def link(
    previous: str, *, connection_id: UUID, version: int, topic: str, state: Mapping[str, Any]
) -> str:
    """The chain of a fact that follows a fact whose chain is ``previous``."""
    body = fact_bytes(connection_id=connection_id, version=version, topic=topic, state=state)
    return hashlib.sha256(previous.encode("ascii") + b"\n" + body).hexdigest()


class StoredFact(Protocol):
    """A stored event as the recorder returns it."""

    @property
    def originator_id(self) -> Any: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


@dataclass(frozen=True)
class Verification:
    """The answer of a verification: ``verified`` with the head, or the first broken version
    and the reason (a stable code and a sentence)."""

    connection_id: UUID
    verified: bool
    facts: int  # stored facts read
    head: str | None  # the last chain (None when no fact is chained yet)
    head_version: int  # the version of the last fact read
    chain_starts_at: int | None  # the first chained version (None: none chained yet)
    broken_at: int | None = None
    code: BrokenReason | None = None

    @property
    def reason(self) -> str | None:
        return REASONS[self.code] if self.code is not None else None


class ChainVerifier:
    """Feed one connection's stored facts in version order; ``result()`` says whether they
    form an unbroken chain. ``decode`` turns a stored state into its dict (decrypt,
    decompress, decode) and may raise anything for a damaged state."""

    def __init__(self, connection_id: UUID, decode: Callable[[bytes], dict[str, Any]]) -> None:
        self.connection_id = connection_id
        self._decode = decode
        self._expected = 1
        self._previous: str | None = None  # None until the chain begins
        self._starts_at: int | None = None
        self._facts = 0
        self._broken: tuple[int, BrokenReason] | None = None

    @property
    def broken(self) -> bool:
        return self._broken is not None

    def feed(self, fact: StoredFact) -> None:
        if self._broken is not None:
            return
        version = fact.originator_version
        self._facts += 1
        if version != self._expected:
            self._broken = (self._expected, "missing_version")
            return
        self._expected += 1
        try:
            state = self._decode(fact.state)
        except Exception:  # any failure to read a stored state is damage
            self._broken = (version, "undecodable")
            return
        chain = state.get(CHAIN)
        if chain is None:
            if self._previous is not None:
                self._broken = (version, "unchained_fact")
            return
        if self._previous is None:
            self._previous, self._starts_at = GENESIS, version
        expected = link(
            self._previous,
            connection_id=self.connection_id,
            version=version,
            topic=fact.topic,
            state=state,
        )
        if chain != expected:
            self._broken = (version, "chain_mismatch")
            return
        self._previous = chain

    def result(self) -> Verification:
        broken_at, code = self._broken if self._broken is not None else (None, None)
        return Verification(
            connection_id=self.connection_id,
            verified=self._broken is None,
            facts=self._facts,
            head=self._previous,  # None until the chain starts
            head_version=self._expected - 1,
            chain_starts_at=self._starts_at,
            broken_at=broken_at,
            code=code,
        )


def verify_facts(
    connection_id: UUID, facts: Iterable[StoredFact], decode: Callable[[bytes], dict[str, Any]]
) -> Verification:
    """Verify one connection's stored facts, given in version order."""
    verifier = ChainVerifier(connection_id, decode)
    for fact in facts:
        verifier.feed(fact)
        if verifier.broken:
            break
    return verifier.result()
