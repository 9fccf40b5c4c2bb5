"""Verifying connections' hash chains against the event store, one connection or all.

A verification reads stored events (never the aggregate, which a damaged record may not
rebuild) and answers with damage rather than an error: ``verify_connection`` for one
connection (the tenant's ``…/compliance/history/verify``), ``verify_all`` for every
connection of the store, or of one account, in one pass over the log (``audit verify
--all``). Checking against an earlier checkpoint is in ``domain.service.audit_checkpoint``.

Ownership is read from the facts themselves (the account of the first fact, the workspace
of the newest fact that names one). When the first fact is missing or unreadable the owner
is unknown: a tenant's read is then answered from ``owner`` (the caller's lookup in a read
model), and is "not found" without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.utils import get_topic

from domain.audit_chain import ChainVerifier, StoredFact, Verification
from domain.errors import ConnectionNotFoundError
from domain.sms_connections import SmsConnection

Owner = tuple[str, str]  # (account, workspace)
OwnerLookup = Callable[[UUID], Owner | None]
PAGE = 500  # notifications read per query in a whole-store pass


@cache
def connection_topics() -> tuple[str, ...]:
    """The stored topics of every fact of a connection (the classes do not change while the
    process runs: worked out once)."""
    return tuple(
        sorted(
            get_topic(value)
            for value in vars(SmsConnection).values()
            if isinstance(value, type)
            and issubclass(value, SmsConnection.Event)
            and value not in (SmsConnection.Event, SmsConnection.Created)
        )
    )


def state_decoder(mapper: Mapper[Any]) -> Callable[[bytes], dict[str, Any]]:
    """Stored state → its dict, as the mapper wrote it (decrypt, decompress, decode)."""

    def decode(state: bytes) -> dict[str, Any]:
        if mapper.cipher is not None:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor is not None:
            state = mapper.compressor.decompress(state)
        decoded = mapper.transcoder.decode(state)
        if not isinstance(decoded, dict):
            raise TypeError("a stored fact is an object")
        return decoded

    return decode


class Watched(ChainVerifier):
    """A chain verifier that also remembers the owner and the chain at given versions."""

    def __init__(
        self,
        connection_id: UUID,
        decode: Callable[[bytes], dict[str, Any]],
        watch: frozenset[int] = frozenset(),
    ) -> None:
        self.watch = watch
        self.chains_at: dict[int, str | None] = {}
        self.account_id: str | None = None
        self.workspace_id: str | None = None

        def observed(state: bytes) -> dict[str, Any]:
            decoded = decode(state)
            self._observe(decoded)
            return decoded

        super().__init__(connection_id, observed)

    def _observe(self, state: Mapping[str, Any]) -> None:
        if self.account_id is None and isinstance(state.get("account_id"), str):
            self.account_id = state["account_id"]
        if isinstance(state.get("workspace_id"), str):
            self.workspace_id = state["workspace_id"]

    @property
    def owner(self) -> Owner | None:
        """(account, workspace) as the facts seen name them; None unless both are known."""
        if self.account_id is None or self.workspace_id is None:
            return None
        return self.account_id, self.workspace_id

    def feed(self, fact: StoredFact) -> None:
        super().feed(fact)
        if fact.originator_version in self.watch and not self.broken:
            self.chains_at[fact.originator_version] = self.result().head


def verify_connection(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    connection_id: UUID,
    *,
    account_id: str | None,
    sees: Callable[[str], bool] = lambda _workspace: True,
    owner: OwnerLookup | None = None,
) -> Verification:
    """Verify one connection. ``account_id``/``sees`` scope a tenant's read (another
    account's connection, one in a workspace the caller does not see, an unknown id, or the
    id of something that is not a connection, is not found); ``None`` is the operator's
    scope."""
    stored = recorder.select_events(connection_id)
    if not stored or stored[0].topic not in connection_topics():
        raise ConnectionNotFoundError(connection_id)
    decode = state_decoder(mapper)
    verifier = Watched(connection_id, decode)
    for fact in stored:
        verifier.feed(fact)  # nothing more is read once it is broken
    if account_id is not None:
        found = _owner(verifier, stored, decode, owner)
        if found is None or found[0] != account_id or not sees(found[1]):
            raise ConnectionNotFoundError(connection_id)
    return verifier.result()


def _owner(
    verifier: Watched,
    stored: Sequence[Any],
    decode: Callable[[bytes], dict[str, Any]],
    lookup: OwnerLookup | None,
) -> Owner | None:
    """Where the connection is now. Unbroken: from its facts. Broken: the read model's
    place when there is one (the facts after the break are not trusted), else the facts
    that can still be read, to the newest."""
    if not verifier.broken:
        return verifier.owner
    if lookup is not None and (place := lookup(verifier.connection_id)) is not None:
        return place
    readable = Watched(verifier.connection_id, decode)
    for fact in stored:
        try:
            readable._observe(decode(fact.state))
        except Exception:  # noqa: S112  # damage: skip what cannot be read
            continue
    return readable.owner


@dataclass(frozen=True)
class Verified:
    """One connection's verification in a whole-store pass, with its owner (None when the
    record is too damaged to tell) and the chains at the versions asked for."""

    verification: Verification
    account_id: str | None
    chains_at: Mapping[int, str | None]


def verify_all(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    *,
    account_id: str | None = None,
    watch: Mapping[UUID, int] | None = None,
) -> Iterator[Verified]:
    """Every connection of the store (or of ``account_id``; a connection whose owner cannot
    be read is included, since its damage is the answer), in one pass over the log: memory
    grows with the number of connections, not of facts. ``watch`` asks for the chain at a
    version of some connections (a checkpoint's heads)."""
    decode = state_decoder(mapper)
    watch = watch or {}
    verifiers: dict[UUID, Watched] = {}
    start = 0
    topics = connection_topics()
    while True:
        page = recorder.select_notifications(start, PAGE, topics=topics, inclusive_of_start=False)
        for notification in page:
            connection_id = UUID(str(notification.originator_id))
            verifier = verifiers.get(connection_id)
            if verifier is None:
                wanted = (
                    frozenset({watch[connection_id]}) if connection_id in watch else frozenset()
                )
                verifier = verifiers[connection_id] = Watched(connection_id, decode, wanted)
            verifier.feed(notification)
            start = notification.id
        if len(page) < PAGE:
            break
    for _, verifier in sorted(verifiers.items(), key=lambda item: str(item[0])):
        if account_id is not None and verifier.account_id not in (None, account_id):
            continue
        yield Verified(verifier.result(), verifier.account_id, dict(verifier.chains_at))
