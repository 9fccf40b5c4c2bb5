"""The provider's facts applied to what they are about: a webhook delivery (at most once per
provider event id, its mark saved with its effect), the reconcile poll's and the
registration worker's findings (a number connected, failed, reclaimed; a registration
level's report), each by the store's retry rule.

A fact finds its connection through the number's claim (the live connection holding the
number) or, for a registration report, through the index of the provider's references
(``RegistrationRef``); a fact that fits nothing changes nothing and is acknowledged. A
report the provider dated earlier than the latest applied about its reference changes
nothing (StaleReportError). Reports are kept honest about the carriers
(``reported_state``) and their free texts go through the text rule before they are stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, cast
from uuid import UUID

import structlog
from eventsourcing.domain import Aggregate

from domain.carriers import CarrierState, Throughput, carrier_reasons, carriers_of, honest_status
from domain.errors import DomainError, StaleReportError
from domain.ids import registration_ref_id
from domain.provider_deliveries import DeliveryOutcome, ProviderDelivery, provider_delivery_id
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
from domain.registration_levels import (
    Level,
    LevelState,
    LevelStatus,
    clean_reasons,
    provider_status,
)
from domain.registrations import LevelRegistration, RegistrationRef
from domain.service.commands import CommandResult, ProviderEventResult
from domain.service.provisioning import HOSTING_FAILED, primary_connection
from domain.service.store import Store
from domain.sms_connections import ReclaimReason, SmsConnection
from domain.text import clean_provider_text

log = structlog.get_logger("domain.application")


class ProviderFacts(Store):
    """The provider's facts, applied (see the module docstring)."""

    # --- webhook deliveries -------------------------------------------------------------------

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
        decided: list[tuple[DeliveryOutcome, SmsConnection | None]] = []

        def decide() -> list[Aggregate]:
            decided.clear()
            if self.find(delivery_id, snapshots=False) is not None:
                return []  # a redelivery: already recorded with its effect
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
            decided.append((outcome, connection))
            delivery = ProviderDelivery.receive(
                provider=event.provider,
                event_id=event.event_id,
                kind=type(event.fact).__name__,
                outcome=outcome,
                connection_id=connection.id if connection is not None else None,
                occurred_at=event.occurred_at,
            )
            return [delivery, *([connection] if connection is not None else []), *others]

        recordings = self.save_retrying(decide)
        position = self.position_after(recordings)
        if not decided:
            return ProviderEventResult("duplicate", None, position)
        outcome, connection = decided[0]
        return ProviderEventResult(outcome, connection.id if connection else None, position)

    def _decide_on_fact(self, event: ProviderEvent) -> tuple[SmsConnection | None, list[Aggregate]]:
        """The connection the event's fact changes (with the other aggregates to save), or
        None when it changes nothing. StaleReportError for a report older than the latest
        applied about its reference."""
        provider, fact = event.provider, event.fact
        if isinstance(fact, Unrecognised):
            return None, []
        if isinstance(fact, RegistrationReported):
            return primary_connection(self.report_decision(fact, event.occurred_at))
        connection = self.holder(fact.phone_number)
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
                return self.released_claim(connection)
            return []
        if isinstance(fact, NumberLost):
            same_holding = fact.ref is None or fact.ref == connection.provider_ref
            if same_holding and connection.status == "connected":
                connection.reclaim(fact.reason)
                return self.released_claim(connection)
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

    # --- the reconcile poll's findings --------------------------------------------------------

    def record_number_connected(
        self, connection_id: UUID, provider: str, provider_ref: str
    ) -> CommandResult:
        """The provider confirmed a number (e.g. a hosted number was verified)."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.mark_connected(provider, provider_ref)
            return []

        return self.provider_change(connection_id, decide)

    def record_provisioning_failed(
        self, connection_id: UUID, code: str, reason: str
    ) -> CommandResult:
        """The provider refused the number; the claim is freed."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.mark_failed(code, reason)
            return self.released_claim(connection)

        return self.provider_change(connection_id, decide)

    def record_reclaimed(self, connection_id: UUID, reason: ReclaimReason) -> CommandResult:
        """The provider reclaimed, expired, or released the number; the claim is freed."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.reclaim(reason)
            return self.released_claim(connection)

        return self.provider_change(connection_id, decide)

    def record_hosting_progress(self, connection_id: UUID, reason: str) -> CommandResult:
        """What a pending hosting order waits for (the SMS request's reason)."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.record_hosting_progress(reason)
            return []

        return self.provider_change(connection_id, decide)

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

        return self.provider_change(connection_id, decide)

    # --- a registration level's report (webhooks and polls) ------------------------------------

    def report_decision(
        self, fact: RegistrationReported, reported_at: datetime | None = None
    ) -> list[Aggregate]:
        """The aggregates a provider's report changes (empty: nothing to change, or a
        reference this service does not know: acknowledged and ignored). ``reported_at``:
        the provider's time of the report (None for the polls and for reports without
        one); StaleReportError when it is earlier than the latest report applied about the
        reference (an out-of-order delivery: nothing changes). A report with a time moves
        the reference's clock even when the status it says is already recorded, so that
        an older report arriving after it cannot undo it."""
        found = self._indexed(fact.level, fact.ref)
        if found is None:
            return []
        entry, target = found
        if entry.is_stale(reported_at):
            raise StaleReportError()
        changed = self._reported(target, fact)
        clock = entry.version
        entry.reported(reported_at)
        return [*changed, entry] if entry.version != clock else changed

    def _reported(self, target: Aggregate, fact: RegistrationReported) -> list[Aggregate]:
        state = reported_state(
            fact.ref,
            fact.status,
            fact.raw_status,
            fact.reasons,
            fact.identity_status,
            fact.carriers,
            fact.throughput,
        )
        if isinstance(target, SmsConnection):
            if target.level("number").provider_ref != fact.ref:
                return []  # about a number registration this connection has since replaced
            now = target.level("number")
            kept = LevelState(
                state.status, state.raw_status, state.provider_ref, state.reasons,
                state.identity_status,
                now.carriers if state.carriers is None else state.carriers,
                now.throughput if state.throughput is None else state.throughput,
            )  # fmt: skip
            return if_changed([target], lambda: target.record_level("number", cleaned(kept)))
        registration = cast(LevelRegistration, target)
        if registration.state.provider_ref != fact.ref:
            # About an earlier attempt (a resubmission has a reference of its own), or ahead
            # of the reference being recorded: the poll of levels in flight reads it then.
            return []
        before = registration.version
        registration.record_status(
            state.status,
            raw_status=state.raw_status,
            reasons=state.reasons,
            identity_status=state.identity_status,
            carriers=state.carriers,
            throughput=state.throughput,
        )
        if registration.version == before:
            return []
        return [registration, *self.told(registration)]

    def told(self, registration: LevelRegistration) -> list[Aggregate]:
        """The linked connections whose current submission uses ``registration``, each
        told where it stands now (those that changed)."""
        told: list[Aggregate] = []
        level: Level = registration.level
        for connection_id in registration.connection_ids:
            connection = self.live_connection(connection_id)
            if connection is None or connection.submission is None:
                continue
            uses = (
                connection.submission.brand_registration_id
                if level == "brand"
                else connection.submission.campaign_registration_id
            )
            if uses != registration.id:
                continue
            told += if_changed(
                [connection], partial(connection.record_level, level, registration.state)
            )
        return told

    def _indexed(self, level: str, ref: str) -> tuple[RegistrationRef, Aggregate] | None:
        """The index entry of ``ref`` and what it finds (None: unknown, or a connection
        that is deleted or found at a level other than the number's)."""
        entry = self.find(registration_ref_id(self.provider.name, level, ref), snapshots=False)
        if not isinstance(entry, RegistrationRef):
            return None
        target = self.find(entry.target_id)
        if target is None:
            return None
        if isinstance(target, SmsConnection) and (target.is_deleted or level != "number"):
            return None
        return entry, target


def if_changed(aggregates: list[Aggregate], change: Callable[[], None]) -> list[Aggregate]:
    """``aggregates`` if ``change()`` changed the first one's version, else []."""
    before = aggregates[0].version
    change()
    return aggregates if aggregates[0].version != before else []


def cleaned(state: LevelState) -> LevelState:
    """``state`` with the provider's free texts through the text rule."""

    def text(value: str | None) -> str | None:
        return None if value is None else clean_provider_text(value, max_length=256)

    return LevelState(
        state.status, text(state.raw_status), state.provider_ref, state.reasons,
        text(state.identity_status), state.carriers, state.throughput,
    )  # fmt: skip


def reported_state(
    ref: str,
    status: str | None,
    raw_status: str | None,
    reasons: Sequence[Mapping[str, Any]],
    identity_status: str | None,
    carriers: tuple[CarrierState, ...] | None,
    throughput: Throughput | None,
) -> LevelState:
    """A level as a provider reported it, kept honest about the carriers
    (``domain.carriers.honest_status``): a carrier's refusal makes the level rejected, and
    that carrier's reasons join the level's, each naming its carrier."""
    found = carriers_of(c.as_dict() for c in carriers) if carriers is not None else None
    status_now = honest_status(provider_status(status, raw_status), found)
    named = [*reasons, *carrier_reasons(found)]
    return LevelState(
        cast(LevelStatus, status_now), raw_status, ref, clean_reasons(named), identity_status,
        found, throughput,
    )  # fmt: skip
