"""The application service: one method per command, each load → decide → save, returning
the event-log position of what it recorded (for read-your-writes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError, Recording

from domain.errors import (
    ConnectionDeletedError,
    ConnectionNotFoundError,
    IdempotencyKeyReusedError,
    NumberAlreadyConnectedError,
    VersionConflictError,
)
from domain.ids import connection_id_for, number_claim_id
from domain.number_claims import NumberClaim
from domain.providers import (
    ComplianceRestrictedError,
    NumberProvider,
    NumberUnavailableError,
    ProviderError,
    ProviderUnavailableError,
)
from domain.sms_connections import Mode, ReclaimReason, SmsConnection

# Commands without an expected version are retried this often when a concurrent writer
# saved the same aggregate version first (the caller asked for "apply to the latest").
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ConnectNumber:
    """The connect command (wizard step Connect + Destination)."""

    account_id: str
    workspace_id: str
    agent_id: str
    mode: Mode
    country: str
    area_code: str | None
    phone_number: str
    requested_by: str
    idempotency_key: str | None = None
    compliance: dict[str, Any] | None = None


@dataclass(frozen=True)
class CommandResult:
    """The connection after a command, and the log position that includes the change."""

    connection: SmsConnection
    position: int
    created: bool = False


class SmsChannels(Application[UUID]):
    """The SMS channels write model (tables ``smschannels_*`` on PostgreSQL)."""

    name = "SmsChannels"

    def __init__(self, provider: NumberProvider, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.provider = provider

    # --- reads of the write model --------------------------------------------------------

    def get_connection(self, account_id: str, connection_id: UUID) -> SmsConnection:
        """The live connection; ConnectionNotFoundError if absent, another account's, or
        deleted."""
        connection = self._load(account_id, connection_id)
        if connection.is_deleted:
            raise ConnectionNotFoundError(connection_id)
        return connection

    def get_connection_for_audit(self, account_id: str, connection_id: UUID) -> SmsConnection:
        """The connection in any state, deleted included (audit keeps deleted ones)."""
        return self._load(account_id, connection_id)

    def current_position(self) -> int:
        """The newest notification id in the log (0 when the log is empty)."""
        return self.recorder.max_notification_id() or 0

    # --- operator commands ---------------------------------------------------------------

    def connect(self, command: ConnectNumber) -> CommandResult:
        """Request a number, claim it, and provision it at the provider.

        Order: claim (saved with the new connection) → provider call → record the outcome,
        so a number is bought only while this connection holds its claim. A replay with the
        same Idempotency-Key returns the first result and creates nothing.
        """
        connection_id = connection_id_for(command.account_id, command.idempotency_key)
        for _ in range(MAX_ATTEMPTS):
            existing = self._find(connection_id)
            if existing is not None:
                return self._replayed(existing, command)
            connection = SmsConnection.request(
                connection_id=connection_id,
                account_id=command.account_id,
                workspace_id=command.workspace_id,
                agent_id=command.agent_id,
                mode=command.mode,
                country=command.country,
                area_code=command.area_code,
                phone_number=command.phone_number,
                requested_by=command.requested_by,
            )
            if command.compliance is not None:
                connection.update_compliance(command.compliance, by=command.requested_by)
            claim = self._claim(command.phone_number, connection_id)
            try:
                self.save(connection, claim)
            except RecordConflictError:
                continue  # a racing connect won the id or the claim: look again
            return self._provision(connection, claim)
        raise NumberAlreadyConnectedError()

    def update_settings(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        agent_id: str | None = None,
        active: bool | None = None,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Assign an agent and/or switch the channel on or off, in one event-log write."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            if agent_id is not None:
                connection.assign_agent(agent_id, by=by)
            if active is True:
                connection.activate(by=by)
            elif active is False:
                connection.deactivate(by=by)
            return []

        return self._change(account_id, connection_id, expected_version, decide)

    def update_compliance(
        self,
        account_id: str,
        connection_id: UUID,
        payload: object,
        *,
        by: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Replace the compliance payload as entered (the ``set-sms-compliance`` mutation)."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.update_compliance(payload, by=by)
            return []

        return self._change(account_id, connection_id, expected_version, decide)

    def delete(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Delete the connection, free its number's claim, then release it at the provider.

        The release comes after the commit: a crash in between leaves a number held at the
        provider by no connection, which the provider reconcile finds (never the reverse)."""
        held_ref: list[str] = []

        def decide(connection: SmsConnection) -> list[Aggregate]:
            if connection.holds_number and connection.provider_ref:
                held_ref.append(connection.provider_ref)
            connection.delete(by=by)
            return self._released_claim(connection)

        result = self._change(account_id, connection_id, expected_version, decide)
        for ref in held_ref:
            self.provider.release(ref)
        return result

    # --- provider facts ------------------------------------------------------------------

    def record_number_connected(
        self, connection_id: UUID, provider: str, provider_ref: str
    ) -> CommandResult:
        """The provider confirmed a number (e.g. a hosted number was verified)."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.mark_connected(provider, provider_ref)
            return []

        return self._provider_change(connection_id, decide)

    def record_provisioning_failed(
        self, connection_id: UUID, code: str, reason: str
    ) -> CommandResult:
        """The provider refused the number; the claim is freed."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.mark_failed(code, reason)
            return self._released_claim(connection)

        return self._provider_change(connection_id, decide)

    def record_reclaimed(self, connection_id: UUID, reason: ReclaimReason) -> CommandResult:
        """The provider reclaimed, expired, or released the number; the claim is freed."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.reclaim(reason)
            return self._released_claim(connection)

        return self._provider_change(connection_id, decide)

    def record_registration_status(
        self,
        connection_id: UUID,
        status: str,
        *,
        raw_status: str | None = None,
        reason: str | None = None,
        provider_ref: str | None = None,
    ) -> CommandResult:
        """The provider reported the brand/campaign registration status."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.change_registration_status(
                status, raw_status=raw_status, reason=reason, provider_ref=provider_ref
            )
            return []

        return self._provider_change(connection_id, decide)

    # --- mechanics -----------------------------------------------------------------------

    def _provision(self, connection: SmsConnection, claim: NumberClaim) -> CommandResult:
        try:
            if connection.mode == "new":
                number = self.provider.purchase(connection.country, connection.phone_number)
                connection.mark_connected(number.provider, number.ref)
            else:
                order = self.provider.start_hosting(connection.country, connection.phone_number)
                connection.record_hosting_started(order.provider, order.ref)
        except ProviderError as error:
            connection.mark_failed(error.code, error.message)
            claim.release(connection.id)
            self.save(connection, claim)
            raise
        return CommandResult(connection, _position(self.save(connection)), created=True)

    def _replayed(self, existing: SmsConnection, command: ConnectNumber) -> CommandResult:
        if existing.account_id != command.account_id:  # cannot happen: ids are per account
            raise ConnectionNotFoundError(existing.id)
        if (existing.phone_number, existing.mode) != (command.phone_number, command.mode):
            raise IdempotencyKeyReusedError()
        if existing.status == "failed":
            raise _failure_error(existing)
        return CommandResult(existing, self.current_position(), created=False)

    def _claim(self, phone_number: str, connection_id: UUID) -> NumberClaim:
        try:
            claim: NumberClaim = self.repository.get(number_claim_id(phone_number))
        except AggregateNotFoundError:
            return NumberClaim.take_new(phone_number, connection_id)
        claim.take(connection_id)
        return claim

    def _released_claim(self, connection: SmsConnection) -> list[Aggregate]:
        claim: NumberClaim = self.repository.get(number_claim_id(connection.phone_number))
        claim.release(connection.id)
        return [claim]

    def _find(self, connection_id: UUID) -> SmsConnection | None:
        try:
            connection: SmsConnection = self.repository.get(connection_id)
        except AggregateNotFoundError:
            return None
        return connection

    def _load(self, account_id: str, connection_id: UUID) -> SmsConnection:
        connection = self._find(connection_id)
        if connection is None or not isinstance(connection, SmsConnection):
            raise ConnectionNotFoundError(connection_id)
        if connection.account_id != account_id:
            raise ConnectionNotFoundError(connection_id)
        return connection

    def _change(
        self,
        account_id: str,
        connection_id: UUID,
        expected_version: int | None,
        decide: Callable[[SmsConnection], list[Aggregate]],
    ) -> CommandResult:
        def load() -> SmsConnection:
            connection = self._load(account_id, connection_id)
            if connection.is_deleted:
                raise ConnectionDeletedError(connection_id)
            if expected_version is not None and connection.version != expected_version:
                raise VersionConflictError(expected_version, connection.version)
            return connection

        return self._save_decision(load, decide, retry=expected_version is None)

    def _provider_change(
        self, connection_id: UUID, decide: Callable[[SmsConnection], list[Aggregate]]
    ) -> CommandResult:
        def load() -> SmsConnection:
            connection = self._find(connection_id)
            if connection is None:
                raise ConnectionNotFoundError(connection_id)
            return connection

        return self._save_decision(load, decide, retry=True)

    def _save_decision(
        self,
        load: Callable[[], SmsConnection],
        decide: Callable[[SmsConnection], list[Aggregate]],
        *,
        retry: bool,
    ) -> CommandResult:
        for _ in range(MAX_ATTEMPTS if retry else 1):
            connection = load()
            version_read = connection.version
            others = decide(connection)
            try:
                recordings = self.save(connection, *others)
            except RecordConflictError:
                continue
            position = _position(recordings) if recordings else self.current_position()
            return CommandResult(connection, position)
        raise VersionConflictError(None if retry else version_read, None)


def _position(recordings: list[Recording[UUID]]) -> int:
    return max(recording.notification.id for recording in recordings)


def _failure_error(connection: SmsConnection) -> ProviderError:
    """The error the first attempt of a connect answered with, for an idempotent replay."""
    code = connection.failure_code
    if code == NumberUnavailableError.code:
        return NumberUnavailableError()
    if code == ComplianceRestrictedError.code:
        return ComplianceRestrictedError(connection.failure_reason or "")
    return ProviderUnavailableError()
