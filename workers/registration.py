"""The registration worker: carries each submitted 10DLC registration through the provider,
step by step (brand → campaign → number), and polls the levels still in flight.

Which connections to work on comes from the event log (``RegistrationSubmitted`` starts
tracking a connection, ``ConnectionDeleted`` stops it), followed in memory from the start
of the log at start-up, as the reconcile worker does: no table to migrate, never ahead of
the log. The worker wakes on the event store's NOTIFY (sent on commit): a submission, a
secondary vetting asked for, or a level of a tracked registration changing (a provider's
report: the next step may be possible now) is worked on at once, not at the next pass
(``run_woken``). The pass every interval (``run_once``) stays the safety net and does
what is due by the clock: retries after a backoff, and the polls of the levels in flight
(every ``poll_interval_seconds``, woken or not).

Each step is ``SmsChannels.advance_registration``: the provider is asked with a reference
derived from the registration, and the answer's reference is recorded as an event before
the next step starts, so a crash or a kill at any point resumes at the first step
without a recorded reference and creates nothing twice.

Faults: a provider error in a step (outage, not ready, not supported) leaves the
submission as it is (``submitted``/``pending``, never an error to the operator) and the
connection is retried with exponential backoff; other connections go on. One worker is
active at a time (``leadership``: a PostgreSQL session lock, ``workers.leadership``): a
provider step looks its object up before creating it, which is not atomic, so two workers at
once could both create. The others are standbys and take over when the active one goes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import structlog
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.application import SmsChannels
from domain.providers import ProviderError
from domain.sms_connections import SmsConnection
from workers.following import Wakeup, read_topics, run_passes
from workers.leadership import STANDBY_POLL_SECONDS

log = structlog.get_logger("workers.registration")

_SUBMITTED = get_topic(SmsConnection.RegistrationSubmitted)
_DELETED = get_topic(SmsConnection.ConnectionDeleted)
# A secondary vetting asked for after the submission settled: the connection is worked again.
_VETTING = get_topic(SmsConnection.SecondaryVettingRequested)
# A level of a registration changed (a provider's report, or a step's outcome): a tracked
# connection is worked on at once (its next step may be possible now).
_CHANGED = get_topic(SmsConnection.RegistrationLevelChanged)
TOPICS = (_SUBMITTED, _DELETED, _VETTING, _CHANGED)
MAX_STEPS_PER_PASS = 5  # brand, its Campaign Verify vetting, campaign (or its update), number,
# and a secondary vetting asked for after the submission settled
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


@dataclass
class Tracked:
    """A connection with a submission that may still need the provider."""

    failures: int = 0
    retry_at: float = 0.0
    polled_at: float = 0.0


@dataclass
class PassReport:
    """What one pass did (also the worker's log line)."""

    steps: int = 0
    polled_changes: int = 0
    provider_errors: int = 0
    tracked: int = 0
    settled: list[UUID] = field(default_factory=list)


class RegistrationWorker:
    """Runs registration passes for one application (and its provider)."""

    def __init__(
        self,
        application: SmsChannels,
        *,
        poll_interval_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        batch_size: int = 1000,
        leadership: Callable[[], bool] = lambda: True,
        wakeup: Wakeup | None = None,
    ) -> None:
        """``wakeup``: the event store's NOTIFY (None: passes on the interval only, as in
        memory)."""
        self.application = application
        self.wakeup = wakeup
        self._leadership = leadership
        self.poll_interval = poll_interval_seconds
        self._clock = clock
        self._batch_size = batch_size
        self._position = 0
        self.tracked: dict[UUID, Tracked] = {}
        self.standby = False  # whether the last pass found another worker active

    def run_once(self) -> PassReport:
        """One pass: catch up with the log, then advance and poll each due connection."""
        return self._pass(woken=False)

    def run_woken(self) -> PassReport:
        """A pass after a commit woke the worker: catch up with the log, then work on the
        connections it names (submitted, vetting asked for, a level changed) if due; the
        others wait for the interval's pass."""
        return self._pass(woken=True)

    def _pass(self, *, woken: bool) -> PassReport:
        report = PassReport()
        named = self._catch_up()
        self.standby = not self._leadership()
        if self.standby:
            report.tracked = len(self.tracked)
            return report  # a standby: another worker is active
        for connection_id, tracked in list(self.tracked.items()):
            if woken and connection_id not in named:
                continue
            if tracked.retry_at <= self._clock():
                self._work_on(connection_id, tracked, report)
        report.tracked = len(self.tracked)
        busy = report.steps or report.polled_changes or report.provider_errors
        (log.info if busy else log.debug)(
            "registration_pass",
            position=self._position,
            woken=woken,
            steps=report.steps,
            polled_changes=report.polled_changes,
            provider_errors=report.provider_errors,
            tracked=report.tracked,
        )
        return report

    def run_forever(self, stop: threading.Event, interval_seconds: float) -> None:
        """Passes every ``interval_seconds`` until ``stop`` (see ``run_passes``), and a
        ``run_woken`` pass at each commit in between when the worker has a ``wakeup``."""
        run_passes(
            self.run_once,
            stop,
            interval_seconds,
            "registration",
            standby=lambda: self.standby,
            standby_seconds=STANDBY_POLL_SECONDS,
            wakeup=self.wakeup,
            on_wake=self.run_woken,
        )

    # --- the log ----------------------------------------------------------------------------

    def _catch_up(self) -> set[UUID]:
        """Follow the log to its head; the tracked connections its new facts name."""
        named = set()
        recorder = self.application.recorder
        for notification in read_topics(recorder, self._position, TOPICS, self._batch_size):
            named.add(self._track(notification))
            self._position = notification.id
        return named & set(self.tracked)

    def _track(self, notification: Notification) -> UUID:
        connection_id = UUID(str(notification.originator_id))
        if notification.topic == _DELETED:
            self.tracked.pop(connection_id, None)
        elif notification.topic != _CHANGED:  # a change names a tracked connection only
            self.tracked[connection_id] = Tracked()
        return connection_id

    # --- one connection -------------------------------------------------------------------

    def _work_on(self, connection_id: UUID, tracked: Tracked, report: PassReport) -> None:
        try:
            for _ in range(MAX_STEPS_PER_PASS):
                step = self.application.advance_registration(connection_id)
                if step.step is None:
                    break
                report.steps += 1
            if self._clock() - tracked.polled_at >= self.poll_interval:
                tracked.polled_at = self._clock()
                report.polled_changes += self.application.poll_registration(connection_id)
                report.polled_changes += self.application.poll_vettings(connection_id)
        except ProviderError as error:
            self._back_off(connection_id, tracked, error)
            report.provider_errors += 1
            return
        except Exception as error:  # one connection's trouble never blocks the others
            # A domain refusal or an unexpected error: logged by type (never its text, which
            # could hold provider data), retried later with the same backoff.
            log.warning(
                "registration_step_failed",
                connection_id=str(connection_id),
                error_type=type(error).__name__,
                code=getattr(error, "code", None),
            )
            self._back_off(connection_id, tracked, error)
            return
        tracked.failures = 0
        if self.application.registration_settled(connection_id):
            self.tracked.pop(connection_id, None)
            report.settled.append(connection_id)

    def _back_off(self, connection_id: UUID, tracked: Tracked, error: Exception) -> None:
        tracked.failures += 1
        delay = min(BACKOFF_BASE_SECONDS * 2 ** (tracked.failures - 1), BACKOFF_MAX_SECONDS)
        retry_after = getattr(error, "retry_after_seconds", 0)
        tracked.retry_at = self._clock() + max(delay, float(retry_after))
        log.warning(
            "registration_step_deferred",
            connection_id=str(connection_id),
            code=getattr(error, "code", type(error).__name__),
            failures=tracked.failures,
        )
