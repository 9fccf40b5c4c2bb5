"""The application service: one method per command, each load → decide → save, returning
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
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import structlog
from eventsourcing.application import project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    InterfaceError,
    JSONTranscoder,
    OperationalError,
    RecordConflictError,
)

from domain.agent_directory import (
    Admits,
    AgentInfo,
    agent_version,
    find_agent,
    remove_agent,
    upsert_agent,
)
from domain.errors import (
    AgentRequiredError,
    ConnectionNotFoundError,
    DomainError,
    IdempotencyKeyReusedError,
    InvalidNumberSearchError,
    NumberAlreadyConnectedError,
    RecordedRequestUnavailableError,
    StaleReportError,
    UnknownAgentError,
    VersionConflictError,
)
from domain.ids import connection_id_for, legacy_connection_id, number_claim_id
from domain.number_claims import NumberClaim
from domain.phone import check_area_code
from domain.provider_deliveries import (
    DeliveryOutcome,
    ProviderDelivery,
    provider_delivery_id,
)
from domain.providers import (
    AvailableNumber,
    HeldNumber,
    NumberProvider,
    NumberUnavailableError,
    ProviderError,
    ProviderEvent,
    ProviderUnavailableError,
    ProvisionedNumber,
    ProvisioningInterruptedError,
)
from domain.regions import require_region
from domain.service.commands import (
    CommandResult,
    ConnectNumber,
    Expected,
    NewNumber,
    ProviderEventResult,
    versions_of,
)
from domain.service.compliance_history import (
    ComplianceHistory,
    compliance_history,
    registration_view,
)
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
from domain.service.registration_history import RegistrationFact
from domain.service.store import MAX_ATTEMPTS, ConnectionStore
from domain.sms_connections import ReclaimReason, SmsConnection
from domain.snapshots import SNAPSHOT_INTERVAL, SNAPSHOT_TRANSCODINGS
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


class SmsChannels(ConnectionStore):
    """The SMS channels write model (tables ``smschannels_*`` on PostgreSQL)."""

    name = "SmsChannels"
    # Connections load from their newest snapshot (``domain.snapshots``).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {SmsConnection: SNAPSHOT_INTERVAL}

    def __init__(self, provider: NumberProvider, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.provider = provider

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

    def close(self) -> None:
        """Close the event store's connections and the provider adapter's."""
        try:
            self.provider.close()
        finally:
            super().close()

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

    def compliance_history(
        self, connection_id: UUID, *, account_id: str | None
    ) -> ComplianceHistory:
        """Every compliance version of the connection, replayed from its events
        (``domain.service.compliance_history``); ``account_id`` None: the operator's scope."""
        return compliance_history(self, connection_id, account_id=account_id)

    def registration_view(
        self, connection_id: UUID, *, account_id: str
    ) -> tuple[SmsConnection, list[RegistrationFact]]:
        """The live connection and its registration facts, from one read of its events."""
        return registration_view(self, connection_id, account_id=account_id)

    def find_agent(self, account_id: str, agent_id: str) -> AgentInfo | None:
        """The directory's entry for an agent of the account (None: unknown or removed)."""
        return find_agent(self, account_id, agent_id)

    def agent_version(self, account_id: str, agent_id: str) -> int | None:
        """The version of the agent's directory entry (its ETag), None when unknown."""
        return agent_version(self, account_id, agent_id)

    def upsert_agent(
        self, account_id: str, agent_id: str, info: AgentInfo, admits: Admits | None = None
    ) -> int | None:
        """Record an agent's details (``domain.agent_directory.upsert_agent``)."""
        return upsert_agent(self, account_id, agent_id, info, admits)

    def remove_agent(
        self, account_id: str, agent_id: str, admits: Admits | None = None
    ) -> int | None:
        """Record that an agent was deleted (``domain.agent_directory.remove_agent``)."""
        return remove_agent(self, account_id, agent_id, admits)

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
        self, account_id: str, connection_id: UUID, number: NewNumber
    ) -> CommandResult:
        """Connect ``number`` in place of a reclaimed or failed connection: the new
        connection gets the old one's workspace, agent and compliance payload (as its first
        compliance version), and the old one records ``replaced_by`` in the same
        transaction as the new request. InvalidTransitionError for any other state, or once
        replaced; a replay with the same Idempotency-Key answers the first result."""
        old = self.get_connection(account_id, connection_id)
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

    def update_settings(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        agent_id: str | None = None,
        active: bool | None = None,
        expected_version: Expected = None,
        workspace_id: str | None = None,
    ) -> CommandResult:
        """Move to another workspace (with ``agent_id``, an agent the directory lists in it:
        UnknownAgentError otherwise), assign an agent, and/or switch the channel on or off,
        in one event-log write."""
        if workspace_id is not None:
            self._check_agent_of(account_id, workspace_id, agent_id)

        def decide(connection: SmsConnection) -> list[Aggregate]:
            if workspace_id is not None and agent_id is not None:
                connection.move(workspace_id, agent_id, by=by)
            elif agent_id is not None:
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
        expected_version: Expected = None,
    ) -> CommandResult:
        """Replace the compliance payload as entered (the ``set-sms-compliance`` mutation)."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.update_compliance(payload, by=by)
            return []

        return self._change(account_id, connection_id, expected_version, decide)

    def submit_registration(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        expected_version: Expected,
        others: Sequence[dict[str, Any] | None] = (),
    ) -> CommandResult:
        """Submit the connection's current compliance payload for 10DLC registration (see
        ``RegistrationCommands.submit_decision`` for the refusals). The provider steps
        happen later, in the registration worker."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            return self.submit_decision(connection, by=by, others=others)

        for _ in range(MAX_ATTEMPTS - 1):
            try:
                return self._change(account_id, connection_id, expected_version, decide)
            except VersionConflictError:
                # A shared brand or campaign registration was written concurrently (another
                # connection submitted): decide again, unless this connection itself moved.
                current = self._load(account_id, connection_id).version
                if expected_version is not None and current not in versions_of(expected_version):
                    raise
        return self._change(account_id, connection_id, expected_version, decide)

    def request_secondary_vetting(
        self, account_id: str, connection_id: UUID, *, by: str, expected_version: Expected
    ) -> CommandResult:
        """Ask for the brand's secondary vetting (the registration worker sends it to the
        provider; the vetting's status and the brand's new score are recorded as the
        provider reports them). InvalidTransitionError until the brand is approved."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.request_secondary_vetting(by)
            return []

        return self._change(account_id, connection_id, expected_version, decide)

    def delete(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        expected_version: Expected = None,
    ) -> CommandResult:
        """Delete the connection, free its number's claim, then release the number (or
        cancel the hosting order) at the provider.

        The release comes after the commit: a crash or a provider outage in between leaves
        a number held at the provider by no live connection, which the reconcile sweep
        releases. The reverse order could leave a live connection whose number is gone.
        A failed release therefore does not fail the delete (it is already committed)."""
        held_refs: list[str] = []

        def decide(connection: SmsConnection) -> list[Aggregate]:
            held_refs.clear()  # a retried decision starts again
            if connection.holds_number:
                ref = connection.provider_ref or connection.hosting_order_ref
                if ref:
                    held_refs.append(ref)
            connection.delete(by=by)
            return self._released_claim(connection)

        result = self._change(account_id, connection_id, expected_version, decide)
        for ref in held_refs:
            self._release_quietly(ref, connection_id)
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

    def record_provider_event(self, event: ProviderEvent) -> ProviderEventResult:
        """Apply a verified webhook event, at most once per (provider, event id).

        The connection is found through the number's claim (the live connection holding
        the number) and must match the event's refs. The delivery mark is saved in the same
        transaction as the change, so a redelivery is ``duplicate`` and changes nothing. An
        event that fits no connection, or that the reconcile poll already recorded, is
        ``ignored``: acknowledged, so that the provider stops redelivering it. A report the
        provider dated earlier than the latest applied about its reference is ``stale``:
        recorded (the delivery mark keeps it, with its time), not applied.
        """
        delivery_id = provider_delivery_id(event.provider, event.event_id)
        for _ in range(MAX_ATTEMPTS):
            if self._find_any(delivery_id) is not None:
                return ProviderEventResult("duplicate", None, self.current_position())
            outcome: DeliveryOutcome
            try:
                connection, others = self._decide_on_fact(event)
            except StaleReportError:
                # Delivered out of order: recorded (the delivery mark says so), not applied.
                connection, others, outcome = None, [], "stale"
            else:
                # Applied when anything changed: a connection, or only a shared registration
                # (whose status the next connection of that brand or campaign must see).
                applied = connection is not None or bool(others)
                outcome = "applied" if applied else "ignored"
            delivery = ProviderDelivery.receive(
                provider=event.provider,
                event_id=event.event_id,
                kind=type(event.fact).__name__,
                outcome=outcome,
                connection_id=connection.id if connection is not None else None,
                occurred_at=event.occurred_at,
            )
            changed = [*([connection] if connection is not None else []), *others]
            try:
                recordings = self.save(delivery, *changed)
            except RecordConflictError:
                continue  # a concurrent delivery or command: decide again on fresh state
            return ProviderEventResult(
                outcome, connection.id if connection else None, position_of(recordings)
            )
        raise VersionConflictError(None, None)

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
        connection = self._find(connection_id)
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
        return self._provider_change(
            connection.id, only_connection(mark_hosting(order.provider, order.ref))
        )

    def poll_hosting(self, connection_id: UUID) -> CommandResult | None:
        """Record the outcome of a ``byon`` connection's hosting order if the provider says
        it finished (the webhook's safety net), or what it waits for when that changed
        (``HostingProgressed``). None while nothing changed."""
        connection = self._find(connection_id)
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

    def record_hosting_progress(self, connection_id: UUID, reason: str) -> CommandResult:
        """What a pending hosting order waits for (the SMS request's reason)."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.record_hosting_progress(reason)
            return []

        return self._provider_change(connection_id, decide)

    def confirm_holding(self, connection_id: UUID) -> CommandResult | None:
        """Record ``NumberReclaimed`` if the provider no longer holds a connected number (or
        holds it under another ref). None when it still holds it."""
        connection = self._find(connection_id)
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
        connection = self._find(connection_id)
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
        for _ in range(MAX_ATTEMPTS):
            existing = self._first_result(command, connection_id)
            if existing is not None:
                return self._replayed(existing, command)
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
                claim = self._claim(command.phone_number, connection_id)
            except NumberAlreadyConnectedError:
                pending = self._interrupted_request(command)
                if pending is None:
                    raise
                return self._replayed(pending, command)
            self.provider.check_available()
            try:
                self.save(connection, claim, *replaced)
            except RecordConflictError:
                continue  # a racing connect won the id or the claim: look again
            return self._provision(connection, claim)
        raise NumberAlreadyConnectedError()

    def _replaced(self, old_id: UUID | None, new_id: UUID, by: str) -> list[Aggregate]:
        """The connection ``new_id`` replaces (loaded afresh, its replacement recorded), to
        be saved with the new request; nothing when not replacing."""
        if old_id is None:
            return []
        old = self._find(old_id)
        if old is None:
            raise ConnectionNotFoundError(old_id)
        old.record_replacement(new_id, by)
        return [old]

    def _interrupted_request(self, command: ConnectNumber) -> SmsConnection | None:
        """The connection holding the number's claim when it is this very request cut short
        by a provider outage (same account, workspace, agent and mode; no provider outcome)."""
        holder = self._holder(command.phone_number)
        if holder is None or not awaits_provider(holder):
            return None
        asked = (command.account_id, command.workspace_id, command.agent_id, command.mode)
        held = (holder.account_id, holder.workspace_id, holder.agent_id, holder.mode)
        return holder if asked == held else None

    def _check_agent_of(self, account_id: str, workspace_id: str, agent_id: str | None) -> None:
        if not agent_id:
            raise AgentRequiredError()
        agent = find_agent(self, account_id, agent_id)
        if agent is None or agent.workspace_id != workspace_id:
            raise UnknownAgentError(workspace_id)

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
            result = self._provider_change(connection.id, only_connection(decide))
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
        existing = self._find(connection_id)
        if existing is None:
            legacy = self._find(legacy_connection_id(command.account_id, key))
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
        claim: NumberClaim = self.repository.get(number_claim_id(existing.phone_number))
        return self._provision(existing, claim)
