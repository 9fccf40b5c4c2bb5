"""The store every command family builds on: how aggregates are found, how a connection is
loaded in the caller's scope, and the one rule for saving against concurrent writers.

The retry rule (``Store.save_retrying``): a decision is made on fresh state and saved in one
transaction with everything it changed; when a concurrent writer saved one of those
aggregates first (the event store refuses the version), the decision is made again on fresh
state, at most ``SAVE_ATTEMPTS`` times in all, then the command fails with
``VersionConflictError`` (nothing recorded). One budget for every command, worker step,
provider fact and directory write. A command under an expected version (``If-Match``)
checks it on every attempt: once the connection itself moved, the precondition no longer
holds and the loser hears the version it read (a write to another aggregate saved with it,
a claim or a shared registration, is decided again like any other).

A connection is loaded in a scope: the account, and (``sees``) the workspaces a token may
see; outside it the connection does not exist (ConnectionNotFoundError), so no command or
read needs a separate workspace check or a second load.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Recording

from domain.errors import ConnectionDeletedError, ConnectionNotFoundError, VersionConflictError
from domain.ids import number_claim_id
from domain.number_claims import NumberClaim
from domain.providers import NumberProvider
from domain.service.commands import CommandResult, Expected, versions_of
from domain.service.provisioning import position_of
from domain.sms_connections import SmsConnection
from domain.snapshots import SNAPSHOT_INTERVAL, SNAPSHOT_TRANSCODINGS

log = structlog.get_logger("domain.application")

# How many times a decision is made (and saved) before a concurrent writer wins: the one
# budget of the retry rule (module docstring).
SAVE_ATTEMPTS = 3

# A workspace scope: does the caller see this workspace id? None: every workspace of the
# account (an unrestricted token, the workers, the operator).
Sees = Callable[[str], bool] | None


class Store(Application[UUID]):
    """Finding, loading and saving aggregates (the base of every command family)."""

    provider: NumberProvider
    # Connections load from their newest snapshot (``domain.snapshots``).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {SmsConnection: SNAPSHOT_INTERVAL}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings, and those of the value objects snapshots hold."""
        super().register_transcodings(transcoder)
        for transcoding in SNAPSHOT_TRANSCODINGS:
            transcoder.register(transcoding)

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: Any = project_aggregate,
    ) -> None:
        """The library's snapshot, best effort: it is taken after the save committed, so a
        failure here must not fail (or, as a conflict, retry) the command; the next interval
        takes another, and loads replay a few more events meanwhile."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)
        except Exception as error:  # an optimisation: never the command's failure
            log.warning(
                "snapshot_not_taken",
                aggregate_id=str(aggregate_id),
                version=version,
                error_type=type(error).__name__,
            )

    # --- finding ----------------------------------------------------------------------------

    def find(self, aggregate_id: UUID, *, snapshots: bool = True) -> Aggregate | None:
        """The aggregate, whatever its class; None when there is none. Only connections are
        snapshotted (``snapshotting_intervals``): for the aggregates that never are (claims,
        directory agents, registrations, refs, deliveries) ``snapshots=False`` reads their
        events alone, one query instead of the snapshot's and then the events'. Either way
        the aggregate is the same (without a snapshot every event is replayed)."""
        if not snapshots:
            events = self.repository.event_store.get(originator_id=aggregate_id)
            replayed: Aggregate | None = project_aggregate(None, events)
            return replayed
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found

    def recorded(self, aggregate_id: UUID) -> bool:
        """Whether anything was ever recorded under the id: one query for at most one row
        (a look-up that usually finds nothing, such as a new Idempotency-Key's connection,
        costs that instead of a load's two)."""
        return any(True for _ in self.repository.event_store.get(aggregate_id, limit=1))

    def find_connection(self, connection_id: UUID) -> SmsConnection | None:
        """The connection in any state (deleted included); None when the id is not one."""
        found = self.find(connection_id)
        return found if isinstance(found, SmsConnection) else None

    def live_connection(self, connection_id: UUID) -> SmsConnection | None:
        """The connection unless it is deleted (or not a connection)."""
        connection = self.find_connection(connection_id)
        return None if connection is None or connection.is_deleted else connection

    def load(self, account_id: str, connection_id: UUID, *, sees: Sees = None) -> SmsConnection:
        """The connection in any state, in the caller's scope: ConnectionNotFoundError when
        absent, another account's, or (``sees``) of a workspace the caller does not see."""
        connection = self.find_connection(connection_id)
        if connection is None or connection.account_id != account_id:
            raise ConnectionNotFoundError(connection_id)
        if sees is not None and not sees(connection.workspace_id):
            raise ConnectionNotFoundError(connection_id)
        return connection

    def holder(self, phone_number: str) -> SmsConnection | None:
        """The live connection holding ``phone_number``'s claim, if any."""
        claim = self.find(number_claim_id(phone_number), snapshots=False)
        if not isinstance(claim, NumberClaim) or claim.holder is None:
            return None
        return self.find_connection(claim.holder)

    def claim(self, phone_number: str, connection_id: UUID) -> NumberClaim:
        """The number's claim taken by ``connection_id`` (NumberAlreadyConnectedError while
        another live connection holds it)."""
        claim = self.find(number_claim_id(phone_number), snapshots=False)
        if not isinstance(claim, NumberClaim):
            return NumberClaim.take_new(phone_number, connection_id)
        claim.take(connection_id)
        return claim

    def released_claim(self, connection: SmsConnection) -> list[Aggregate]:
        """The connection's number claim, released (to be saved with the connection)."""
        claim = self.find(number_claim_id(connection.phone_number), snapshots=False)
        if not isinstance(claim, NumberClaim):
            raise AggregateNotFoundError(number_claim_id(connection.phone_number))
        claim.release(connection.id)
        return [claim]

    def current_position(self) -> int:
        """The newest notification id in the log (0 when the log is empty)."""
        return self.recorder.max_notification_id() or 0

    # --- saving -----------------------------------------------------------------------------

    def save_retrying(
        self,
        decide: Callable[[], Sequence[Aggregate]],
        attempts: int = SAVE_ATTEMPTS,
        *,
        lost: Callable[[], Exception] = lambda: VersionConflictError(None, None),
    ) -> list[Recording[UUID]] | None:
        """The retry rule (module docstring): ``decide`` loads fresh state and returns the
        aggregates to save together; on a concurrent write, decide again, ``attempts``
        times in all, then raise ``lost()``. The recordings of the write ([] when the
        aggregates had no new events); None when ``decide`` returned nothing to save."""
        for _ in range(attempts):
            changed = decide()
            if not changed:
                return None
            try:
                return self.save(*changed)
            except RecordConflictError:
                continue  # a concurrent writer won: decide again on fresh state
        raise lost()

    def position_after(self, recordings: list[Recording[UUID]] | None) -> int:
        """The log position of a write (the current one when it recorded nothing)."""
        return position_of(recordings) if recordings else self.current_position()

    def change(
        self,
        account_id: str,
        connection_id: UUID,
        expected_version: Expected,
        decide: Callable[[SmsConnection], list[Aggregate]],
        *,
        sees: Sees = None,
    ) -> CommandResult:
        """A command on a live connection in the caller's scope: load → check the expected
        version → decide (the other aggregates to save with it) → save, by the retry rule.
        ConnectionDeletedError for a deleted one; VersionConflictError when ``If-Match``
        names no version of ours, or the connection moved since it was read."""
        read: list[SmsConnection] = []
        versions_read: list[int] = []

        def attempt() -> list[Aggregate]:
            connection = self.load(account_id, connection_id, sees=sees)
            if connection.is_deleted:
                raise ConnectionDeletedError(connection_id)
            if expected_version is not None:
                if versions_read and connection.version != versions_read[0]:
                    # A concurrent writer moved the connection: the If-Match no longer holds.
                    raise VersionConflictError(versions_read[0], None)
                if connection.version not in versions_of(expected_version):
                    # 0 (no version is 0): an If-Match that names no version of ours
                    expected = min(versions_of(expected_version), default=0)
                    raise VersionConflictError(expected, connection.version)
            read[:] = [connection]
            versions_read.append(connection.version)
            return [connection, *decide(connection)]

        recordings = self.save_retrying(attempt)
        return CommandResult(read[0], self.position_after(recordings))

    def provider_change(
        self, connection_id: UUID, decide: Callable[[SmsConnection], list[Aggregate]]
    ) -> CommandResult:
        """A provider's fact on a connection (any account; deleted ones too, whose
        aggregate refuses what does not fit): load → decide → save, by the retry rule."""
        read: list[SmsConnection] = []

        def attempt() -> list[Aggregate]:
            connection = self.find_connection(connection_id)
            if connection is None:
                raise ConnectionNotFoundError(connection_id)
            read[:] = [connection]
            return [connection, *decide(connection)]

        recordings = self.save_retrying(attempt)
        return CommandResult(read[0], self.position_after(recordings))
