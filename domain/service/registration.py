"""Registration commands of the application (a family of ``SmsChannels``, on the store):
the operator's submit and the provider steps the registration worker runs (the provider's
reports themselves are applied by ``domain.service.provider_facts``).

Submitting records on the connection which compliance version was submitted, by whom, and
which brand and campaign registrations it uses (opened, or shared, in the same
transaction); nothing is asked of the provider inside the command. The worker then takes
one step at a time (brand → campaign → number): it asks the provider with a reference
derived from the registration (the provider answers a repeated request with the object it
made the first time) and records the provider's reference as an event before the next step
starts. A crash at any point therefore resumes at the step that has no recorded reference,
and never creates a second brand or campaign.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast
from uuid import UUID

import structlog
from eventsourcing.domain import Aggregate

from domain.compliance.account_rules import MAX_NUMBERS_WITHOUT_POOLING
from domain.compliance.preflight import preflight
from domain.errors import (
    ConnectionNotFoundError,
    FieldProblem,
    InvalidTransitionError,
    PreflightFailedError,
    RegistrationNotRequiredError,
)
from domain.ids import registration_ref_id
from domain.providers import (
    RegistrationAnswer,
    RegistrationReported,
    VettingAnswer,
    VettingProvider,
)
from domain.regions import load_regions
from domain.registration_levels import (
    LEVELS,
    Level,
    LevelState,
    Reason,
    clean_ref,
    provider_status,
)
from domain.registrations import (
    LevelRegistration,
    RegistrationRef,
    SharedLevel,
    digest,
    registration_ids,
)
from domain.service.provider_facts import ProviderFacts, cleaned, if_changed, reported_state
from domain.sms_connections import SmsConnection, Submission

log = structlog.get_logger("domain.registration")

# The number waits for number pooling (T-Mobile's limit per campaign, issue 31).
POOL_REASON = Reason(
    "number_pool_required",
    f"T-Mobile takes at most {MAX_NUMBERS_WITHOUT_POOLING} numbers on a campaign without "
    "number pooling: turn number pooling on, or put this number on another campaign.",
    ("campaign.numberPooling",),
)


@dataclass(frozen=True)
class StepResult:
    """What one worker step did: ``step`` (``brand``, ``campaign``, ``number``) or None
    when nothing was left to do, and the log position after it."""

    step: Level | None
    position: int


# The environment key of the brand registration ids' HMAC key (``Settings``).
REGISTRATION_ID_KEY = "REGISTRATION_ID_KEY"


class RegistrationCommands(ProviderFacts):
    """The registration half of the write model (see the module docstring)."""

    # --- the operator's command ---------------------------------------------------------

    def submit_decision(
        self,
        connection: SmsConnection,
        *,
        by: str,
        others: Sequence[dict[str, Any] | None] = (),
    ) -> list[Aggregate]:
        """Decide a submission of ``connection``'s current payload (used inside the
        application's load → decide → save): InvalidTransitionError unless connected,
        RegistrationNotRequiredError where the region needs none, PreflightFailedError
        while the preflight finds errors (``others``: the account's other payloads, for
        the rules across connections), RegistrationInProgressError /
        RegistrationUnchangedError for an unchanged payload. Returns the brand and campaign
        registrations to save with the connection."""
        if connection.status != "connected":
            raise InvalidTransitionError("submit the registration of", connection.status)
        if not load_regions().require(connection.country).registered_here:
            raise RegistrationNotRequiredError(connection.country)
        _check_preflight(connection, others)
        compliance = connection.compliance or {}
        brand_id, campaign_id = self._registration_ids(connection.account_id, compliance)
        brand = self._shared(brand_id, "brand", connection, digest(compliance.get("brand")))
        in_place = self._in_place(connection, brand_id)
        if in_place is not None:
            # The refused campaign is updated at the provider (``domain.remedies``): the
            # connection keeps its campaign registration, resubmitted in place.
            campaign_id, campaign = in_place.id, in_place
            campaign.resubmit_in_place(digest(compliance))
        else:
            campaign = self._shared(campaign_id, "campaign", connection, digest(compliance))
        connection.submit_registration(
            by=by,
            at=datetime.now(UTC),
            digest=digest(compliance),
            brand_registration_id=brand_id,
            campaign_registration_id=campaign_id,
            brand=brand.state,
            campaign=campaign.state,
        )
        brand.link(connection.id)
        campaign.link(connection.id)
        return [brand, campaign]

    def _in_place(self, connection: SmsConnection, brand_id: UUID) -> LevelRegistration | None:
        """The campaign registration to resubmit in place, when the connection's plan
        says so (same brand, a refused campaign whose fixes the provider updates)."""
        submission = connection.submission
        if submission is None or submission.brand_registration_id != brand_id:
            return None
        if connection.resubmission_plan.mode != "in_place":
            return None
        found = self.find(submission.campaign_registration_id, snapshots=False)
        return found if isinstance(found, LevelRegistration) else None

    def brand_registration_of(self, connection: SmsConnection) -> LevelRegistration | None:
        """The brand registration the connection's submission uses (its vettings), or
        None before any submission."""
        if connection.submission is None:
            return None
        found = self.find(connection.submission.brand_registration_id, snapshots=False)
        return found if isinstance(found, LevelRegistration) else None

    # --- the worker's steps ---------------------------------------------------------------

    def advance_registration(self, connection_id: UUID) -> StepResult:
        """Take the next provider step of the connection's submission, if any, and record
        its outcome. ProviderError subclasses propagate (the worker retries later)."""
        connection = self.live_connection(connection_id)
        if connection is None or connection.submission is None:
            return StepResult(None, self.current_position())
        submission = connection.submission
        brand = self._registration(submission.brand_registration_id)
        payload = self._submitted_payload(connection)
        if brand.needs_provider:
            answer = self.provider.create_brand(
                payload.get("brand") or {}, reference=brand.step_reference
            )
            return StepResult("brand", self._record_created(brand.id, answer))
        vetting = _vetting_due(brand, connection, payload)
        if vetting is not None:
            return self._vetting_step(brand, vetting)
        campaign = self._registration(submission.campaign_registration_id)
        if campaign.needs_provider or campaign.update_due:
            return self._campaign_step(campaign, brand, payload)
        if connection.level("number").provider_ref is None and connection.provider_ref:
            return self._number_step(connection, campaign, payload)
        return StepResult(None, self.current_position())

    def _campaign_step(
        self, campaign: LevelRegistration, brand: LevelRegistration, payload: dict[str, Any]
    ) -> StepResult:
        """Create the campaign at the provider, or send its in-place resubmission."""
        content = payload.get("campaign") or {}
        if campaign.needs_provider:
            answer = self.provider.create_campaign(
                content,
                brand_ref=cast(str, brand.state.provider_ref),
                reference=campaign.step_reference,
            )
            return StepResult("campaign", self._record_created(campaign.id, answer))
        answer = self.provider.update_campaign(
            content,
            ref=cast(str, campaign.state.provider_ref),
            service_ref=campaign.service_ref,
            reference=campaign.step_reference,
        )
        return StepResult("campaign", self._record_updated(campaign.id, answer))

    def _vetting_step(
        self, brand: LevelRegistration, vetting: tuple[str, VettingProvider, str | None]
    ) -> StepResult:
        """Send the brand's vetting once the brand is approved (the campaign waits for a
        political brand's Campaign Verify vetting), then read the brand again."""
        if brand.state.status != "approved":
            return StepResult(None, self.current_position())  # vetted once approved
        kind, vetting_provider, vetting_id = vetting
        vetted = self.provider.vet_brand(
            cast(str, brand.state.provider_ref),
            vetting_provider=vetting_provider,
            vetting_id=vetting_id,
            reference=f"{brand.step_reference}.{kind}",
        )
        position, _ = self._record_vettings(brand.id, {kind: vetted})
        return StepResult("brand", position)

    def _number_step(
        self, connection: SmsConnection, campaign: LevelRegistration, payload: dict[str, Any]
    ) -> StepResult:
        """Register the number to the campaign, unless the campaign has no place left
        without number pooling: then the number waits, ``action_required`` (re-checked each
        pass: a number leaving the campaign frees a place)."""
        if self._pool_full(campaign, connection, payload):
            recorded = self._record_pool_required(connection.id)
            return StepResult("number" if recorded else None, self.current_position())
        submission = cast(Submission, connection.submission)
        answer = self.provider.register_number(
            connection.phone_number,
            cast(str, connection.provider_ref),
            campaign_ref=cast(str, campaign.state.provider_ref),
            service_ref=campaign.service_ref,
            reference=f"{connection.id}.{submission.number}",
        )
        return StepResult("number", self._record_number(connection.id, answer))

    def poll_registration(self, connection_id: UUID) -> int:
        """Ask the provider where each level of the connection's submission still in
        flight stands, and record what changed (the webhooks' safety net). The number of
        levels that changed."""
        connection = self.live_connection(connection_id)
        if connection is None:
            return 0
        changed = 0
        for level in LEVELS:
            state = connection.level(level)
            if state.provider_ref is None or not state.in_flight:
                continue
            answer = self.provider.registration_status(level, state.provider_ref)
            report = RegistrationReported(
                level,
                state.provider_ref,
                answer.status,
                answer.raw_status,
                answer.reasons,
                answer.identity_status,
                answer.carriers,
                answer.throughput,
            )
            changed += bool(self._saved(partial(self.report_decision, report)))
        return changed

    def registration_settled(self, connection_id: UUID) -> bool:
        """True when the connection's submission needs nothing more from the worker: every
        step done and no level in flight (or no submission, or the connection is gone)."""
        connection = self.live_connection(connection_id)
        if connection is None or connection.submission is None:
            return True
        levels = [connection.level(level) for level in LEVELS]
        return all(level.provider_ref and not level.in_flight for level in levels)

    # --- mechanics --------------------------------------------------------------------------

    def _registration_ids(self, account_id: str, compliance: dict[str, Any]) -> tuple[UUID, UUID]:
        """The brand and campaign registrations a payload goes to: keyed with
        ``REGISTRATION_ID_KEY`` (``domain.ids.keyed_brand_registration_id``). A brand
        registered before the key existed keeps its first (``uuid5``) id: while no keyed
        registration of the business exists, one recorded under the first id is the
        brand's, so an upgrade never registers a business a second time."""
        key = (self.env.get(REGISTRATION_ID_KEY) or "").encode()
        keyed = registration_ids(account_id, compliance, key or None)
        if not key or self.find(keyed[0], snapshots=False) is not None:
            return keyed
        first = registration_ids(account_id, compliance)
        return (
            first if isinstance(self.find(first[0], snapshots=False), LevelRegistration) else keyed
        )

    def _shared(
        self, registration_id: UUID, level: SharedLevel, connection: SmsConnection, payload: str
    ) -> LevelRegistration:
        found = self.find(registration_id, snapshots=False)
        if not isinstance(found, LevelRegistration):
            return LevelRegistration.open(
                registration_id=registration_id,
                level=level,
                account_id=connection.account_id,
                digest=payload,
            )
        found.resubmit_if_changed(payload)
        return found

    def _record_created(self, registration_id: UUID, answer: RegistrationAnswer) -> int:
        """Record the object the provider made for a brand or campaign registration (with
        the index entry of its reference), and tell the linked connections."""

        def decide() -> list[Aggregate]:
            registration = self._registration(registration_id)
            if not registration.needs_provider:
                return []  # recorded meanwhile (another worker): nothing more to do
            registration.record_created(
                provider=self.provider.name,
                ref=answer.ref,
                status=provider_status(answer.status, answer.raw_status),
                raw_status=answer.raw_status,
                service_ref=answer.service_ref,
                identity_status=answer.identity_status,
            )
            index = self._index(registration.level, answer.ref, registration.id)
            return [registration, *index, *self.told(registration)]

        return self._saved(decide)

    def _pool_full(
        self, campaign: LevelRegistration, connection: SmsConnection, payload: dict[str, Any]
    ) -> bool:
        """True when the campaign already holds ``MAX_NUMBERS_WITHOUT_POOLING`` numbers
        and does not pool numbers (T-Mobile refuses the next: the number waits for the
        operator instead of failing at the provider)."""
        if (payload.get("campaign") or {}).get("numberPooling") is True:
            return False
        held = 0
        for other_id in campaign.connection_ids:
            if other_id == connection.id:
                continue
            other = self.live_connection(other_id)
            if other is None or other.submission is None:
                continue
            number = other.level("number")
            if (
                other.submission.campaign_registration_id == campaign.id
                and number.provider_ref is not None
                and number.status not in ("rejected", "expired")
            ):
                held += 1
                if held >= MAX_NUMBERS_WITHOUT_POOLING:
                    return True
        return False

    def _record_pool_required(self, connection_id: UUID) -> int:
        """The number's registration waits: ``action_required``, reason
        ``number_pool_required`` (0 when already recorded: the worker's step is then
        nothing)."""

        def decide() -> list[Aggregate]:
            connection = self.live_connection(connection_id)
            if connection is None or connection.level("number").provider_ref is not None:
                return []
            state = LevelState("action_required", None, None, (POOL_REASON,))
            return if_changed([connection], lambda: connection.record_level("number", state))

        return self._saved(decide)

    def _record_vettings(
        self, brand_id: UUID, answers: dict[str, VettingAnswer]
    ) -> tuple[int, int]:
        """Record the brand's vettings as the provider answered them and, when any changed,
        the brand as the provider reads it afterwards (a vetting's score changes the brand's,
        hence the throughput), in one save: no reader sees a vetting's outcome beside the
        score from before it. The brand is read once even when the save is decided again. The
        log position after the write (0: nothing changed) and how many vettings changed."""
        read: list[RegistrationAnswer] = []
        changed = 0

        def decide() -> list[Aggregate]:
            nonlocal changed
            registration = self._registration(brand_id)
            changed = 0
            for kind, answer in answers.items():
                before = registration.version
                registration.record_vetted(
                    kind=kind,
                    ref=answer.ref,
                    status=_vetting_status(answer.status),
                    raw_status=answer.raw_status,
                    vetting_class=answer.vetting_class,
                )
                changed += registration.version != before
            ref = registration.state.provider_ref
            if not changed or ref is None:
                return [registration] if changed else []
            if not read:
                read.append(self.provider.registration_status("brand", ref))
            brand = read[0]
            report = RegistrationReported(
                "brand", ref, brand.status, brand.raw_status, brand.reasons,
                brand.identity_status, brand.carriers, brand.throughput,
            )  # fmt: skip
            told = [a for a in self._reported(registration, report) if a is not registration]
            return [registration, *told]

        position = self._saved(decide)
        return position, changed

    def poll_vettings(self, connection_id: UUID) -> int:
        """Ask the provider where the brand's pending vettings stand (asking again for a
        vetting answers the one made). The number that changed."""
        connection = self.live_connection(connection_id)
        if connection is None or connection.submission is None:
            return 0
        brand = self._registration(connection.submission.brand_registration_id)
        if brand.state.provider_ref is None:
            return 0
        payload = self._submitted_payload(connection)
        answers: dict[str, VettingAnswer] = {}
        for kind, vetting in brand.vettings.items():
            if vetting.status != "pending":
                continue
            vetting_provider, vetting_id = _vetting_request(kind, payload)
            answers[kind] = self.provider.vet_brand(
                brand.state.provider_ref,
                vetting_provider=vetting_provider,
                vetting_id=vetting_id,
                reference=f"{brand.step_reference}.{kind}",
            )
        if not answers:
            return 0
        _, changed = self._record_vettings(brand.id, answers)
        return changed

    def _record_updated(self, registration_id: UUID, answer: RegistrationAnswer) -> int:
        """Record that the provider took an in-place resubmission, and tell the linked
        connections."""

        def decide() -> list[Aggregate]:
            registration = self._registration(registration_id)
            if not registration.update_due:
                return []
            registration.record_updated(
                status=provider_status(answer.status, answer.raw_status),
                raw_status=answer.raw_status,
            )
            return [registration, *self.told(registration)]

        return self._saved(decide)

    def _record_number(self, connection_id: UUID, answer: RegistrationAnswer) -> int:
        def decide() -> list[Aggregate]:
            connection = self.live_connection(connection_id)
            if connection is None or connection.level("number").provider_ref is not None:
                return []
            state = reported_state(
                cast(str, clean_ref(answer.ref)),
                answer.status,
                answer.raw_status,
                answer.reasons,
                None,
                answer.carriers,
                answer.throughput,
            )
            connection.record_level("number", cleaned(state))
            return [connection, *self._index("number", answer.ref, connection.id)]

        return self._saved(decide)

    def _index(self, level: str, ref: str, target_id: UUID) -> list[Aggregate]:
        entry_id = registration_ref_id(self.provider.name, level, ref)
        if self.find(entry_id, snapshots=False) is not None:
            return []
        return [RegistrationRef.index(self.provider.name, level, ref, target_id)]

    def _saved(self, decide: Callable[[], list[Aggregate]]) -> int:
        """Decide and save by the store's retry rule: the log position after the write; 0
        when ``decide`` changed nothing (``poll_registration`` counts on it)."""
        recordings = self.save_retrying(decide)
        return 0 if recordings is None else self.position_after(recordings)

    def _submitted_payload(self, connection: SmsConnection) -> dict[str, Any]:
        """The compliance payload as it stood at the submitted version."""
        submission = connection.submission
        if submission is None or submission.compliance_version == connection.version:
            return connection.compliance or {}
        then = cast(
            SmsConnection,
            self.repository.get(connection.id, version=submission.compliance_version),
        )
        return then.compliance or {}

    def _registration(self, registration_id: UUID) -> LevelRegistration:
        registration = self.find(registration_id, snapshots=False)
        if not isinstance(registration, LevelRegistration):
            raise ConnectionNotFoundError(registration_id)
        return registration


def _check_preflight(connection: SmsConnection, others: Sequence[dict[str, Any] | None]) -> None:
    report = preflight(connection.compliance, country=connection.country, others=others)
    problems = [
        FieldProblem("smsCompliance." + f.field, f.rule, f.message)
        for f in report.findings
        if f.severity == "error"
    ]
    if problems:
        raise PreflightFailedError(problems)


def _vetting_due(
    brand: LevelRegistration, connection: SmsConnection, payload: dict[str, Any]
) -> tuple[str, VettingProvider, str | None] | None:
    """The vetting the brand still needs before the campaign (kind, provider, vetting
    id): a POLITICAL brand's Campaign Verify token, or the secondary vetting the operator
    asked for; None when none is due."""
    brand_payload = payload.get("brand") or {}
    token = brand_payload.get("campaignVerifyToken")
    political = brand_payload.get("vertical") == "POLITICAL"
    if political and isinstance(token, str) and token and "campaign_verify" not in brand.vettings:
        return "campaign_verify", "campaign-verify", token
    if connection.secondary_vetting_requested and "secondary" not in brand.vettings:
        return "secondary", "aegis", None
    return None


def _vetting_request(kind: str, payload: dict[str, Any]) -> tuple[VettingProvider, str | None]:
    if kind == "campaign_verify":
        token = (payload.get("brand") or {}).get("campaignVerifyToken")
        return "campaign-verify", token if isinstance(token, str) else None
    return "aegis", None


def _vetting_status(status: str | None) -> str:
    return status if status in ("pending", "approved", "rejected") else "pending"
