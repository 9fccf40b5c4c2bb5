"""How the application loads and saves connections: with their number claims, under an
expected version (``If-Match``) or retried against a concurrent writer, and how a
provider's fact is applied to the connection holding its number. ``SmsChannels`` (its
subclass) has the commands and reads; these are the steps they share."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from domain.errors import (
    ConnectionDeletedError,
    ConnectionNotFoundError,
    DomainError,
    VersionConflictError,
)
from domain.ids import number_claim_id
from domain.number_claims import NumberClaim
from domain.providers import (
    HostingCompleted,
    HostingFailed,
    NumberLost,
    ProviderEvent,
    ProviderFact,
    RegistrationChanged,
    RegistrationReported,
    Unrecognised,
)
from domain.service.commands import CommandResult, Expected, versions_of
from domain.service.provisioning import HOSTING_FAILED, position_of, primary_connection
from domain.service.registration import RegistrationCommands
from domain.sms_connections import SmsConnection

log = structlog.get_logger("domain.application")

# Commands without an expected version are retried this often when a concurrent writer
# saved the same aggregate version first (the caller asked for "apply to the latest").
MAX_ATTEMPTS = 3


class ConnectionStore(RegistrationCommands):
    """Loading, deciding and saving connections (the base of ``SmsChannels``)."""

    # --- mechanics: provider events -----------------------------------------------------------

    def _decide_on_fact(self, event: ProviderEvent) -> tuple[SmsConnection | None, list[Aggregate]]:
        """The connection the event's fact changes (with the other aggregates to save), or
        None when it changes nothing. StaleReportError for a report older than the latest
        applied about its reference."""
        provider, fact = event.provider, event.fact
        if isinstance(fact, Unrecognised):
            return None, []
        if isinstance(fact, RegistrationReported):
            return primary_connection(self.report_decision(fact, event.occurred_at))
        connection = self._holder(fact.phone_number)
        if connection is None:
            return None, []
        version = connection.version
        try:
            others = self._apply_fact(connection, provider, fact)
        except DomainError as error:
            log.info("provider_event_ignored", connection_id=str(connection.id), code=error.code)
            return None, []
        if connection.version == version:
            return None, []  # already so (e.g. the reconcile poll recorded it first)
        return connection, others

    def _apply_fact(
        self, connection: SmsConnection, provider: str, fact: ProviderFact
    ) -> list[Aggregate]:
        if isinstance(fact, HostingCompleted):
            if connection.hosting_order_ref == fact.order_ref:
                connection.mark_connected(provider, fact.number_ref)
            return []
        if isinstance(fact, HostingFailed):
            if connection.hosting_order_ref == fact.order_ref and connection.status == "requested":
                connection.mark_failed(HOSTING_FAILED, fact.reason)
                return self._released_claim(connection)
            return []
        if isinstance(fact, NumberLost):
            same_holding = fact.ref is None or fact.ref == connection.provider_ref
            if same_holding and connection.status == "connected":
                connection.reclaim(fact.reason)
                return self._released_claim(connection)
            return []
        if isinstance(fact, RegistrationChanged) and connection.submission is None:
            # A status for the whole connection (a registration made outside this service);
            # once submitted here, only the levels' reports count.
            connection.change_registration_status(
                fact.status,
                raw_status=fact.raw_status,
                reason=fact.reason,
                provider_ref=fact.registration_ref,
            )
        return []

    def _holder(self, phone_number: str) -> SmsConnection | None:
        """The live connection holding ``phone_number``'s claim, if any."""
        try:
            claim: NumberClaim = self.repository.get(number_claim_id(phone_number))
        except AggregateNotFoundError:
            return None
        return self._find(claim.holder) if claim.holder is not None else None

    # --- mechanics: loading and saving -----------------------------------------------------

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
            connection: Aggregate = self.repository.get(connection_id)
        except AggregateNotFoundError:
            return None
        return connection if isinstance(connection, SmsConnection) else None

    def _load(self, account_id: str, connection_id: UUID) -> SmsConnection:
        connection = self._find(connection_id)
        if connection is None or connection.account_id != account_id:
            raise ConnectionNotFoundError(connection_id)
        return connection

    def _change(
        self,
        account_id: str,
        connection_id: UUID,
        expected_version: Expected,
        decide: Callable[[SmsConnection], list[Aggregate]],
    ) -> CommandResult:
        def load() -> SmsConnection:
            connection = self._load(account_id, connection_id)
            if connection.is_deleted:
                raise ConnectionDeletedError(connection_id)
            if expected_version is not None and connection.version not in versions_of(
                expected_version
            ):
                # 0 (no version is 0): an If-Match that names no version of ours (weak tags)
                expected = min(versions_of(expected_version), default=0)
                raise VersionConflictError(expected, connection.version)
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
            position = position_of(recordings) if recordings else self.current_position()
            return CommandResult(connection, position)
        raise VersionConflictError(None if retry else version_read, None)
