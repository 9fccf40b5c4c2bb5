"""The provider reconcile worker: the safety net under the connect flow and the webhooks.

Each pass:

1. follows the event log for connection lifecycle events only (requested, hosting started,
   connected, failed, reclaimed, deleted) to know which connections are pending or
   connected, and with which number and refs (state kept in memory, rebuilt from the log at
   start: cheap, no table to migrate, and never ahead of the log);
2. settles pending requests: polls open hosting orders (``byon``), and finishes or fails
   requests left without a provider outcome for longer than the bound (a crash or an
   outage between the claim and the record);
3. compares with what the provider holds: a connected number the provider no longer holds
   is recorded ``NumberReclaimed``; a number held under one of our connections that no
   longer holds it (deleted while the provider was down, a crash) is released.

Guarantees: every decision is re-checked by the application against the connection's
current state before anything is recorded, through the same idempotent commands as the
webhooks, so a webhook and the poll reporting one fact change the connection once,
whichever comes second changes nothing, and several workers at once are safe (if
wasteful). Still, one is active at a time (``leadership``, a PostgreSQL session lock,
``workers.leadership``): the others follow the log as standbys, try the lock every
``STANDBY_POLL_SECONDS`` and take over when the active one goes, so the provider is
polled once per interval however many reconcile processes run. A provider outage ends the
pass early; the next pass tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.application import SmsChannels
from domain.errors import DomainError
from domain.providers import HeldNumber, ProviderUnavailableError
from domain.service.commands import CommandResult
from domain.sms_connections import SmsConnection
from workers.following import read_topics, run_passes
from workers.leadership import STANDBY_POLL_SECONDS

log = structlog.get_logger("workers.reconcile")

# The connection events the worker follows (the log is read by their topics).
_ENDED = (
    SmsConnection.ProvisioningFailed,
    SmsConnection.NumberReclaimed,
    SmsConnection.ConnectionDeleted,
)
_FOLLOWED = (
    SmsConnection.NumberRequested,
    SmsConnection.HostingStarted,
    SmsConnection.NumberConnected,
    SmsConnection.RegistrationSubmitted,
    *_ENDED,
)
TOPICS = tuple(get_topic(cls) for cls in _FOLLOWED)


@dataclass
class Tracked:
    """What the worker knows of one live connection (from the log)."""

    phone_number: str
    mode: str
    requested_at: datetime
    status: str = "requested"
    provider_ref: str | None = None
    order_ref: str | None = None


@dataclass
class PassReport:
    """What one pass did (also the worker's log line)."""

    connected: int = 0
    failed: int = 0
    hosting_started: int = 0
    hosting_progressed: int = 0
    reclaimed: int = 0
    released: int = 0
    registration_changes: int = 0
    provider_unavailable: bool = False
    standby: bool = False


class Reconciler:
    """Runs reconcile passes for one application (and its provider)."""

    def __init__(
        self,
        application: SmsChannels,
        *,
        pending_after: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_size: int = 1000,
        leadership: Callable[[], bool] = lambda: True,
    ) -> None:
        self.application = application
        self._leadership = leadership
        self.standby = False  # whether the last pass found another worker active
        self.pending_after = pending_after
        self._clock = clock
        self._batch_size = batch_size
        self._position = 0
        self._tracked: dict[UUID, Tracked] = {}
        self._registering: set[UUID] = set()

    def run_once(self) -> PassReport:
        """One pass: catch up with the log, settle pending requests, compare holdings."""
        report = PassReport()
        self._catch_up()
        self.standby = report.standby = not self._leadership()
        if self.standby:
            return report  # another reconcile worker is active
        try:
            self._settle_pending(report)
            self._compare_holdings(report)
            self._poll_registrations(report)
        except ProviderUnavailableError:
            report.provider_unavailable = True
        log.info("reconcile_pass", position=self._position, **vars(report))
        return report

    def run_forever(self, stop: threading.Event, interval_seconds: float) -> None:
        """Passes every ``interval_seconds`` until ``stop`` is set (see ``run_passes``)."""
        run_passes(
            self.run_once,
            stop,
            interval_seconds,
            "reconcile",
            standby=lambda: self.standby,
            standby_seconds=STANDBY_POLL_SECONDS,
        )

    # --- 1. the log -------------------------------------------------------------------------

    def _catch_up(self) -> None:
        recorder = self.application.recorder
        for notification in read_topics(recorder, self._position, TOPICS, self._batch_size):
            self._track(notification)
            self._position = notification.id

    def _track(self, notification: Notification) -> None:
        event = self.application.mapper.to_domain_event(notification)
        connection_id = UUID(str(notification.originator_id))
        if isinstance(event, _ENDED):
            self._tracked.pop(connection_id, None)
            self._registering.discard(connection_id)
        elif isinstance(event, SmsConnection.RegistrationSubmitted):
            self._registering.add(connection_id)
        elif isinstance(event, SmsConnection.NumberRequested):
            self._tracked[connection_id] = Tracked(
                phone_number=event.phone_number, mode=event.mode, requested_at=event.timestamp
            )
        elif (tracked := self._tracked.get(connection_id)) is None:
            return
        elif isinstance(event, SmsConnection.HostingStarted):
            tracked.order_ref = event.order_ref
        elif isinstance(event, SmsConnection.NumberConnected):
            tracked.status = "connected"
            tracked.provider_ref = event.provider_ref

    # --- 2. pending requests --------------------------------------------------------------

    def _settle_pending(self, report: PassReport) -> None:
        cutoff = self._clock() - self.pending_after
        for connection_id, tracked in list(self._tracked.items()):
            if tracked.status != "requested":
                continue
            if tracked.mode == "byon" and tracked.order_ref:
                polled = self._attempt(self.application.poll_hosting, connection_id)
                if polled is not None and polled.connection.status == "requested":
                    report.hosting_progressed += 1  # still pending: what it waits for changed
                else:
                    self._count(report, polled)
            elif tracked.requested_at < cutoff:
                result = self._attempt(
                    lambda cid: self.application.settle_interrupted_request(
                        cid, requested_before=cutoff
                    ),
                    connection_id,
                )
                self._count(report, result)

    # --- 3. holdings ------------------------------------------------------------------------

    def _compare_holdings(self, report: PassReport) -> None:
        held = {number.phone_number: number for number in self.application.provider.held_numbers()}
        for connection_id, tracked in list(self._tracked.items()):
            if tracked.status != "connected":
                continue
            number = held.get(tracked.phone_number)
            if number is None or number.ref != tracked.provider_ref:
                # Confirmed one by one: the list is a snapshot, the lookup is the truth.
                result = self._attempt(self.application.confirm_holding, connection_id)
                self._count(report, result)
        for number in held.values():
            if self._ours_and_kept(number):
                continue
            try:
                report.released += self.application.release_orphan(number)
            except ProviderUnavailableError:
                raise
            except DomainError as error:  # e.g. the provider refused: next pass retries
                log.warning("reconcile_release_skipped", ref=number.ref, code=error.code)

    def _ours_and_kept(self, number: HeldNumber) -> bool:
        """True when the log says a live connection keeps this number (the common case:
        no need to load the connection)."""
        try:
            connection_id = UUID(number.reference or "")
        except ValueError:
            return True  # not bought by this service: never touched
        tracked = self._tracked.get(connection_id)
        return tracked is not None and (
            tracked.status == "requested" or tracked.provider_ref == number.ref
        )

    # --- 4. registrations in flight -------------------------------------------------------

    def _poll_registrations(self, report: PassReport) -> None:
        """Ask the provider about the levels still in flight (what webhooks did not
        report); a settled submission is no longer polled."""
        for connection_id in sorted(self._registering):
            try:
                report.registration_changes += self.application.poll_registration(connection_id)
            except ProviderUnavailableError:
                raise
            except DomainError as error:
                log.info("reconcile_skipped", connection_id=str(connection_id), code=error.code)
            if self.application.registration_settled(connection_id):
                self._registering.discard(connection_id)

    # --- mechanics -----------------------------------------------------------------------

    @staticmethod
    def _attempt(
        command: Callable[[UUID], CommandResult | None], connection_id: UUID
    ) -> CommandResult | None:
        """Run one command; a domain refusal (the connection moved on meanwhile) is logged
        and skipped. ProviderUnavailableError ends the pass (raised)."""
        try:
            return command(connection_id)
        except ProviderUnavailableError:
            raise
        except DomainError as error:
            log.info("reconcile_skipped", connection_id=str(connection_id), code=error.code)
            return None

    @staticmethod
    def _count(report: PassReport, result: CommandResult | None) -> None:
        if result is None:
            return
        status = result.connection.status
        if status == "connected":
            report.connected += 1
        elif status == "failed":
            report.failed += 1
        elif status == "reclaimed":
            report.reclaimed += 1
        elif status == "requested":
            report.hosting_started += 1
