"""Connecting numbers (a family of ``SmsChannels``, on the store): the number search, the
connect and its replacement, the provider calls that provision a number, and the reconcile
worker's settlements (``workers/reconcile.py``).

the event-log position of what it recorded (for read-your-writes).

Provider side effects (buying, hosting, releasing a number) are ordered so that a crash or a
retry at any point neither buys twice nor leaves a bought number unrecorded:

1. the connection and its number claim are saved together (``requested``) *before* the
   provider is called, so at most one connection can be buying a number, and a bought
   number always has a record that names it;
2. the provider is asked, with the connection id as the number's reference;
3. the outcome is recorded: ``NumberConnected`` / ``HostingStarted``, or, when the provider
   refused, ``ProvisioningFailed`` with the claim freed in the same transaction.

When the provider is unreachable *during* step 2 the request stays ``requested`` with its
claim (the purchase may have happened): a replay with the same Idempotency-Key resumes it,
and the reconcile worker settles it after a bound (connected if the provider holds the
number under this connection's reference, failed and freed otherwise). A provider known to
be down *before* step 1 refuses the connect with nothing recorded.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InterfaceError, OperationalError, RecordConflictError

from domain.errors import (
    ConnectionNotFoundError,
    DomainError,
    IdempotencyKeyReusedError,
    InvalidNumberSearchError,
    NumberAlreadyConnectedError,
    RecordedRequestUnavailableError,
)
from domain.ids import connection_id_for, legacy_connection_id, number_claim_id
from domain.number_claims import NumberClaim
from domain.phone import check_area_code
from domain.providers import (
    AvailableNumber,
    HeldNumber,
    NumberUnavailableError,
    ProviderError,
    ProviderUnavailableError,
    ProvisionedNumber,
    ProvisioningInterruptedError,
)
from domain.regions import require_region
from domain.service.commands import CommandResult, ConnectNumber, NewNumber
from domain.service.provider_facts import ProviderFacts
from domain.service.provisioning import (
    HOSTING_FAILED,
    INTERRUPTED,
    as_uuid,
    awaits_provider,
    failure_error,
    interrupted,
    mark_connected,
    mark_hosting,
    only_connection,
    position_of,
)
from domain.service.store import Sees
from domain.sms_connections import SmsConnection
from domain.text import clean_provider_text

log = structlog.get_logger("domain.application")

# Number search bounds (the wizard shows one page; Twilio's own maximum is 1000).
MAX_SEARCH_LIMIT = 100
# Twilio's ``Contains``: 2 to 16 digits or letters (letters match their keypad digit), with
# ``*`` matching any one digit. Anything else is refused rather than passed on.
_CONTAINS = re.compile(r"[0-9A-Za-z*]{2,16}")
# The event store is away (the library's classes): after a request was recorded, the answer
# names it (RecordedRequestUnavailableError) instead of a bare 503.
_STORE_UNAVAILABLE = (OperationalError, InterfaceError)


class Connecting(ProviderFacts):
    """Numbers searched, connected, provisioned and settled (see the module docstring)."""

    # --- numbers at the provider -----------------------------------------------------------

    def search_numbers(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]:
        """Numbers the provider offers. Checks every parameter first (InvalidCountryError,
        InvalidAreaCodeError, InvalidNumberSearchError naming the parameter); an empty
        inventory is an empty list. Records nothing. The country must be supported
        (UnsupportedCountryError) and take area codes if one is given."""
        check_area_code(area_code)
        require_region(country).check_area_code(area_code)
        if contains is not None and not _CONTAINS.fullmatch(contains):
            raise InvalidNumberSearchError(
                "contains", "contains must be 2 to 16 digits, letters or '*'."
            )
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise InvalidNumberSearchError(
                "limit", f"limit must be between 1 and {MAX_SEARCH_LIMIT}."
            )
        return self.provider.search(country, area_code, contains, limit)

    # --- operator commands ---------------------------------------------------------------

    def connect(self, command: ConnectNumber) -> CommandResult:
        """Request a number, claim it, and provision it at the provider.

        Order: check the input (422, nothing recorded) → check the claim (409, nothing
        recorded) → check the provider is not known to be down (503, nothing recorded) →
        save connection + claim → provider call → record the outcome. A replay with the
        same Idempotency-Key returns the first result, or resumes a request that a provider
        outage or a crash left ``requested``; it never creates a second connection. A retry
        without the key of such an interrupted request (same account, workspace, agent,
        number and mode) resumes it too, instead of answering "already connected".
        """
        return self._connect(command, replacing=None)

    def replace_number(
        self, account_id: str, connection_id: UUID, number: NewNumber, *, sees: Sees = None
    ) -> CommandResult:
        """Connect ``number`` in place of a reclaimed or failed connection: the new
        connection gets the old one's workspace, agent and compliance payload (as its first
        compliance version), and the old one records ``replaced_by`` in the same
        transaction as the new request. InvalidTransitionError for any other state, or once
        replaced; a replay with the same Idempotency-Key answers the first result."""
        old = self.load(account_id, connection_id, sees=sees)
        if old.is_deleted:
            raise ConnectionNotFoundError(connection_id)
        command = ConnectNumber(
            account_id=account_id,
            workspace_id=old.workspace_id,
            agent_id=old.agent_id,
            mode=number.mode,
            country=number.country,
            area_code=number.area_code,
            phone_number=number.phone_number,
            requested_by=number.requested_by,
            idempotency_key=number.idempotency_key,
            compliance=old.compliance,
        )
        return self._connect(command, replacing=connection_id)

    # --- reconcile (called by workers/reconcile.py) ----------------------------------------

    def settle_interrupted_request(
        self, connection_id: UUID, *, requested_before: datetime
    ) -> CommandResult | None:
        """Finish or fail a request left ``requested`` without a provider outcome (a crash
        or an outage between the claim and the record), if it was requested before
        ``requested_before``. None when there is nothing to settle.

        ``new``: connected if the provider holds the number under this connection's
        reference (the purchase went through), else failed with the claim freed. Never buys:
        a purchase long after the operator asked would surprise them.
        ``byon``: the hosting order is (re)started; the provider returns an open order for
        the number rather than a second one.
        """
        connection = self.find_connection(connection_id)
        if connection is None or not interrupted(connection, requested_before):
            return None
        if connection.mode == "new":
            held = self.provider.holding(connection.phone_number)
            if held is not None and held.reference == str(connection.id):
                return self.record_number_connected(connection.id, self.provider.name, held.ref)
            return self.record_provisioning_failed(
                connection.id,
                INTERRUPTED,
                "The request was interrupted before the number was bought.",
            )
        try:
            order = self.provider.start_hosting(
                connection.country, connection.phone_number, reference=str(connection.id)
            )
        except ProviderUnavailableError:
            raise  # try again on the next pass
        except ProviderError as error:
            return self.record_provisioning_failed(connection.id, error.code, error.message)
        return self.provider_change(
            connection.id, only_connection(mark_hosting(order.provider, order.ref))
        )

    def poll_hosting(self, connection_id: UUID) -> CommandResult | None:
        """Record the outcome of a ``byon`` connection's hosting order if the provider says
        it finished (the webhook's safety net), or what it waits for when that changed
        (``HostingProgressed``). None while nothing changed."""
        connection = self.find_connection(connection_id)
        if connection is None or connection.status != "requested":
            return None
        order_ref = connection.hosting_order_ref
        if connection.mode != "byon" or not order_ref:
            return None
        status = self.provider.hosting_status(order_ref)
        if status.state == "completed" and status.number_ref:
            return self.record_number_connected(
                connection.id, self.provider.name, status.number_ref
            )
        if status.state == "failed":
            reason = status.reason or "The provider refused to host the number."
            return self.record_provisioning_failed(connection.id, HOSTING_FAILED, reason)
        if status.reason and clean_provider_text(status.reason) != connection.hosting_reason:
            return self.record_hosting_progress(connection.id, status.reason)
        return None

    def confirm_holding(self, connection_id: UUID) -> CommandResult | None:
        """Record ``NumberReclaimed`` if the provider no longer holds a connected number (or
        holds it under another ref). None when it still holds it."""
        connection = self.find_connection(connection_id)
        if connection is None or connection.status != "connected" or not connection.provider_ref:
            return None
        held = self.provider.holding(connection.phone_number)
        if held is not None and held.ref == connection.provider_ref:
            return None
        return self.record_reclaimed(connection.id, "reclaimed")

    def release_orphan(self, held: HeldNumber) -> bool:
        """Release a number the provider holds under one of this service's connections when
        that connection no longer holds it (deleted, failed, or reclaimed and bought again
        elsewhere); True if released. Numbers with no reference, or whose reference is not
        a connection of this store, are never touched: they are not ours to give back."""
        connection_id = as_uuid(held.reference)
        if connection_id is None:
            return False
        connection = self.find_connection(connection_id)
        if connection is None:
            return False
        if connection.holds_number and connection.status == "requested":
            return False  # still being provisioned: the pending path settles it
        if connection.holds_number and connection.provider_ref == held.ref:
            return False
        self.provider.release(held.ref)
        log.info("orphan_released", connection_id=str(connection_id), ref=held.ref)
        return True

    # --- mechanics: connecting --------------------------------------------------------------

    def _connect(self, command: ConnectNumber, replacing: UUID | None) -> CommandResult:
        require_region(command.country).check_area_code(command.area_code)
        connection_id = connection_id_for(
            command.account_id, command.workspace_id, command.idempotency_key
        )
        found: list[SmsConnection] = []  # an earlier request to answer with instead
        requested: list[tuple[SmsConnection, NumberClaim]] = []

        def decide() -> list[Aggregate]:
            found.clear()
            requested.clear()
            existing = self._first_result(command, connection_id)
            if existing is not None:
                found.append(existing)
                return []
            replaced = self._replaced(replacing, connection_id, command.requested_by)
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
            try:
                claim = self.claim(command.phone_number, connection_id)
            except NumberAlreadyConnectedError:
                pending = self._interrupted_request(command)
                if pending is None:
                    raise
                found.append(pending)
                return []
            self.provider.check_available()
            requested.append((connection, claim))
            return [connection, claim, *replaced]

        # A racing connect that won the id or the claim is found on the next attempt.
        self.save_retrying(decide, lost=NumberAlreadyConnectedError)
        if found:
            return self._replayed(found[0], command)
        connection, claim = requested[0]
        return self._provision(connection, claim)

    def _replaced(self, old_id: UUID | None, new_id: UUID, by: str) -> list[Aggregate]:
        """The connection ``new_id`` replaces (loaded afresh, its replacement recorded), to
        be saved with the new request; nothing when not replacing."""
        if old_id is None:
            return []
        old = self.find_connection(old_id)
        if old is None:
            raise ConnectionNotFoundError(old_id)
        old.record_replacement(new_id, by)
        return [old]

    def _interrupted_request(self, command: ConnectNumber) -> SmsConnection | None:
        """The connection holding the number's claim when it is this very request cut short
        by a provider outage (same account, workspace, agent and mode; no provider outcome)."""
        holder = self.holder(command.phone_number)
        if holder is None or not awaits_provider(holder):
            return None
        asked = (command.account_id, command.workspace_id, command.agent_id, command.mode)
        held = (holder.account_id, holder.workspace_id, holder.agent_id, holder.mode)
        return holder if asked == held else None

    # --- mechanics: provisioning ------------------------------------------------------------

    def _provision(self, connection: SmsConnection, claim: NumberClaim) -> CommandResult:
        """Call the provider for a saved ``requested`` connection and record the outcome;
        an event-store failure on the way names the connection (it is recorded)."""
        try:
            return self._provision_recorded(connection, claim)
        except _STORE_UNAVAILABLE as error:
            log.warning("provisioning_unrecorded", connection_id=str(connection.id))
            raise RecordedRequestUnavailableError(connection.id) from error

    def _provision_recorded(self, connection: SmsConnection, claim: NumberClaim) -> CommandResult:
        decide: Callable[[SmsConnection], None]
        bought: str | None = None
        try:
            if connection.mode == "new":
                number = self._buy(connection)
                bought = number.ref
                decide = mark_connected(number)
            else:
                order = self.provider.start_hosting(
                    connection.country, connection.phone_number, reference=str(connection.id)
                )
                decide = mark_hosting(order.provider, order.ref)
        except ProviderUnavailableError as error:
            # The call may have taken effect: keep the claim and the request pending. A
            # replay resumes it; the reconcile worker settles it after its bound.
            log.warning("provisioning_pending", connection_id=str(connection.id))
            raise ProvisioningInterruptedError(connection.id, error.retry_after_seconds) from error
        except ProviderError as error:
            self._record_refusal(connection, claim, error)
            raise
        return self._record_outcome(connection, decide, bought)

    def _buy(self, connection: SmsConnection) -> ProvisionedNumber:
        """Purchase the number, treating "unavailable" as success when the provider already
        holds it under this connection's reference (an earlier attempt of this very request
        bought it: a retry after a timeout, or a concurrent replay)."""
        reference = str(connection.id)
        try:
            return self.provider.purchase(
                connection.country, connection.phone_number, reference=reference
            )
        except NumberUnavailableError:
            held = self.provider.holding(connection.phone_number)
            if held is not None and held.reference == reference:
                return ProvisionedNumber(self.provider.name, held.ref)
            raise

    def _record_outcome(
        self,
        connection: SmsConnection,
        decide: Callable[[SmsConnection], None],
        bought: str | None,
    ) -> CommandResult:
        """Save the provider's outcome. On a concurrent change, decide again on the fresh
        connection; if it moved on (deleted, or failed by the reconcile worker), give back
        what was just bought: nothing may stay held without a live connection."""
        decide(connection)
        try:
            return CommandResult(connection, position_of(self.save(connection)), created=True)
        except RecordConflictError:
            pass
        try:
            result = self.provider_change(connection.id, only_connection(decide))
        except DomainError:
            if bought is not None:
                self._release_quietly(bought, connection.id)
            raise
        return CommandResult(result.connection, result.position, created=True)

    def _record_refusal(
        self, connection: SmsConnection, claim: NumberClaim, error: ProviderError
    ) -> None:
        connection.mark_failed(error.code, error.message)
        claim.release(connection.id)
        try:
            self.save(connection, claim)
        except RecordConflictError:
            # Settled meanwhile (deleted, failed): then the refusal changes nothing.
            with contextlib.suppress(DomainError):
                self.record_provisioning_failed(connection.id, error.code, error.message)

    def _release_quietly(self, ref: str, connection_id: UUID) -> None:
        try:
            self.provider.release(ref)
        except ProviderError as error:
            # Committed already: the reconcile sweep releases it once the provider answers.
            log.warning(
                "release_deferred", connection_id=str(connection_id), ref=ref, code=error.code
            )

    def _first_result(self, command: ConnectNumber, connection_id: UUID) -> SmsConnection | None:
        """The connection an earlier connect with this Idempotency-Key made in this
        workspace (also under the id derived before workspaces were part of it), if any.
        Without a key the id is random: nothing to find, no read."""
        key = command.idempotency_key
        if key is None:
            return None
        existing = self.find_connection(connection_id) if self.recorded(connection_id) else None
        if existing is None:
            legacy_id = legacy_connection_id(command.account_id, key)
            legacy = self.find_connection(legacy_id) if self.recorded(legacy_id) else None
            if legacy is not None and legacy.workspace_id == command.workspace_id:
                existing = legacy
        return existing

    def _replayed(self, existing: SmsConnection, command: ConnectNumber) -> CommandResult:
        if existing.account_id != command.account_id:  # cannot happen: ids are per account
            raise ConnectionNotFoundError(existing.id)
        asked = (command.phone_number, command.mode, command.agent_id)
        if (existing.phone_number, existing.mode, existing.requested_agent_id) != asked:
            raise IdempotencyKeyReusedError()
        if existing.status == "failed":
            raise failure_error(existing)
        try:
            if awaits_provider(existing):
                return self._resume(existing)
            return CommandResult(existing, self.current_position(), created=False)
        except _STORE_UNAVAILABLE as error:
            raise RecordedRequestUnavailableError(existing.id) from error

    def _resume(self, existing: SmsConnection) -> CommandResult:
        """The first attempt was cut short (provider outage, crash): resume it. The claim
        is still this connection's, so nobody else can be buying the number. A provider
        still down answers as the interruption did: naming the pending connection."""
        try:
            self.provider.check_available()
        except ProviderUnavailableError as error:
            raise ProvisioningInterruptedError(existing.id, error.retry_after_seconds) from error
        claim = self.find(number_claim_id(existing.phone_number), snapshots=False)
        if not isinstance(claim, NumberClaim):
            raise AggregateNotFoundError(number_claim_id(existing.phone_number))
        return self._provision(existing, claim)
