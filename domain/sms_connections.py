"""The SmsConnection aggregate: one connected (or requested) number of one account.

Public methods check the rules and then trigger an event; the ``@event`` methods only
assign, because they run again on every replay. Who acted and when is on every event (the
library stamps ``timestamp`` when the event is created, before it is applied).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Literal, cast, get_args
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as LibrarySnapshot
from eventsourcing.utils import get_topic

from domain.audit_chain import CHAIN, GENESIS, link
from domain.carriers import (
    Carrier,
    CarrierState,
    Throughput,
    carriers_dicts,
    carriers_of,
    combined,
    merged_throughput,
    not_permitted_on,
    throughput_dict,
    throughput_of,
)
from domain.compliance.shape import changed_fields, check_compliance
from domain.errors import (
    AgentRequiredError,
    ConnectionDeletedError,
    InvalidRegistrationStatusError,
    InvalidTransitionError,
    NotConnectedError,
    RegistrationInProgressError,
    RegistrationUnchangedError,
)
from domain.ids import sms_request_id
from domain.phone import check_area_code, check_e164
from domain.registration_levels import (
    IN_FLIGHT,
    LEVELS,
    NOT_SUBMITTED,
    SUBMITTED,
    Level,
    LevelState,
    LevelStatus,
    derive_status,
    reasons_of,
)
from domain.registrations import digest
from domain.remedies import (
    APPEAL_CODE,
    APPEAL_FIELDS,
    IN_PLACE_FIELDS,
    ResubmissionPlan,
    changes_in_place,
    resubmission_plan,
)
from domain.text import check_id, clean_provider_text

REF_MAX_LENGTH = 256

Mode = Literal["new", "byon"]
Status = Literal["requested", "connected", "failed", "reclaimed", "deleted"]
RegistrationStatus = LevelStatus
ReclaimReason = Literal["reclaimed", "expired", "released"]
REGISTRATION_STATUSES: tuple[str, ...] = get_args(RegistrationStatus)

# States in which the connection holds its number's claim.
HOLDING_STATES: frozenset[str] = frozenset({"requested", "connected"})
# States whose number can be replaced by a new connection (replace-number).
REPLACEABLE_STATES: frozenset[str] = frozenset({"reclaimed", "failed"})


class SmsConnection(Aggregate):
    """An SMS number connected to a workspace and an agent of one account.

    Invariants: an agent is always assigned; active implies connected; a deleted connection
    accepts no command; the registration status changes only on provider facts.

    Every fact is sealed into the connection's hash chain when it is triggered (``_seal``):
    its ``chain`` attribute is stored with it; replay keeps the head in ``_chain_head``.
    """

    _chain_head: str | None = None  # the newest fact's chain (None: none chained yet)

    class Snapshot(LibrarySnapshot):
        """The library's snapshot (``domain.snapshots``), restoring the one tuple the
        state holds outside a value object (JSON reads it back as a list)."""

        def mutate(self, _: None) -> SmsConnection:
            connection = cast("SmsConnection", super().mutate(_))
            connection.changed_since_submission_fields = tuple(
                connection.changed_since_submission_fields
            )
            return connection

    class Event(Aggregate.Event):
        """Every fact of a connection. ``chain`` is not a dataclass field (so events recorded
        before chains existed load unchanged): it is set by ``_seal`` and stored with the
        event's state."""

        chain: ClassVar[str | None] = None

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            if self.chain is not None:
                aggregate._chain_head = self.chain
            return aggregate

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        super().trigger_event(event_class, **kwargs)
        self._seal(self.pending_events[-1])

    def _seal(self, fact: Any) -> None:
        """Link a new fact to the chain: its hash over the previous head and the fact's state
        as the mapper will store it."""
        chain = link(
            self._chain_head or GENESIS,
            connection_id=self.id,
            version=fact.originator_version,
            topic=get_topic(type(fact)),
            state=vars(fact),  # read, not kept: ``fact_bytes`` copies what it hashes
        )
        object.__setattr__(fact, CHAIN, chain)
        self._chain_head = chain

    # --- events (explicit classes: a renamed event fails the type check; the names are
    # part of the stored topics, ``domain.sms_connections:SmsConnection.<Name>``) ---------

    class NumberRequested(Created):
        account_id: str
        workspace_id: str
        agent_id: str
        mode: Mode
        country: str
        area_code: str | None
        phone_number: str
        request_id: UUID
        requested_by: str

    class HostingStarted(Event):
        provider: str
        order_ref: str

    class HostingProgressed(Event):
        reason: str  # what the pending hosting order waits for, as the provider says

    class NumberConnected(Event):
        provider: str
        provider_ref: str

    class ProvisioningFailed(Event):
        code: str
        reason: str

    class NumberReclaimed(Event):
        reason: ReclaimReason

    class RegistrationStatusChanged(Event):
        status: RegistrationStatus
        raw_status: str | None
        reason: str | None
        provider_ref: str | None

    class RegistrationSubmitted(Event):
        number: int
        compliance_version: int
        submitted_by: str
        submitted_at: datetime
        digest: str
        brand_registration_id: UUID
        campaign_registration_id: UUID
        brand: dict[str, Any]
        campaign: dict[str, Any]
        registration_status: RegistrationStatus

    class RegistrationLevelChanged(Event):
        # 2: ``carriers`` and ``throughput`` (issue 31; earlier changes read None: not
        # reported).
        class_version = 2

        level: Level
        status: LevelStatus
        raw_status: str | None
        provider_ref: str | None
        reasons: list[dict[str, Any]]
        identity_status: str | None
        registration_status: RegistrationStatus
        carriers: list[dict[str, Any]] | None
        throughput: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["carriers"] = None
            state["throughput"] = None

    class SecondaryVettingRequested(Event):
        """The operator asked for the brand's secondary vetting (issue 31)."""

        requested_by: str

    class AgentAssigned(Event):
        agent_id: str
        assigned_by: str

    class WorkspaceChanged(Event):
        workspace_id: str
        agent_id: str
        changed_by: str

    class ActiveChanged(Event):
        active: bool
        changed_by: str

    class ComplianceUpdated(Event):
        compliance: dict[str, Any]
        changed_fields: list[str]
        updated_by: str

    class Replaced(Event):
        replacement_id: UUID
        replaced_by: str

    class ConnectionDeleted(Event):
        deleted_by: str

    # --- commands --------------------------------------------------------------------------

    @classmethod
    def request(
        cls,
        *,
        connection_id: UUID,
        account_id: str,
        workspace_id: str,
        agent_id: str,
        mode: Mode,
        country: str,
        area_code: str | None,
        phone_number: str,
        requested_by: str,
    ) -> SmsConnection:
        """Start a connection for ``phone_number`` (status ``requested``)."""
        if not agent_id:
            raise AgentRequiredError()
        check_id(account_id, "acc")
        check_id(workspace_id, "workspaceId")
        check_id(agent_id, "agentId")
        check_id(requested_by, "sub")
        check_area_code(area_code)
        check_e164(phone_number, country)
        connection = cls._create(
            cls.NumberRequested,
            id=connection_id,
            account_id=account_id,
            workspace_id=workspace_id,
            agent_id=agent_id,
            mode=mode,
            country=country,
            area_code=area_code,
            phone_number=phone_number,
            request_id=sms_request_id(connection_id),
            requested_by=requested_by,
        )
        connection._seal(connection.pending_events[-1])
        return connection

    @event(NumberRequested)
    def __init__(
        self,
        account_id: str,
        workspace_id: str,
        agent_id: str,
        mode: Mode,
        country: str,
        area_code: str | None,
        phone_number: str,
        request_id: UUID,
        requested_by: str,
    ) -> None:
        self.account_id = account_id
        self.workspace_id = workspace_id
        self.agent_id = agent_id
        self.requested_agent_id = agent_id  # as asked: what an idempotent replay must repeat
        self.mode = mode
        self.country = country
        self.area_code = area_code
        self.phone_number = phone_number
        self.request_id = request_id
        self.requested_by = requested_by
        self.status: Status = "requested"
        self.active = False
        self.provider: str | None = None
        self.provider_ref: str | None = None
        self.hosting_order_ref: str | None = None
        self.hosting_reason: str | None = None  # what a pending hosting order waits for
        self.failure_code: str | None = None
        self.failure_reason: str | None = None
        self.reclaim_reason: ReclaimReason | None = None
        self.compliance: dict[str, Any] | None = None
        # As reported for the whole connection (RegistrationStatusChanged: a registration
        # made outside this service, e.g. in the provider's console).
        self.reported_registration_status: RegistrationStatus = "not_submitted"
        self.registration_raw_status: str | None = None
        self.registration_reason: str | None = None
        self.registration_ref: str | None = None
        self._changed_since_reported = False
        self.replaced_by: UUID | None = None
        # A submission made here, and where its three levels stand.
        self.submission: Submission | None = None
        self.levels: dict[str, LevelState] = {}
        self._derived_registration_status: RegistrationStatus = "not_submitted"
        # The compliance fields edited since the current submission (what decides whether
        # a resubmission can be made in place, ``domain.remedies``).
        self.changed_since_submission_fields: tuple[str, ...] = ()
        # The operator asked for the brand's secondary vetting (the worker sends it).
        self.secondary_vetting_requested = False

    # --- queries -------------------------------------------------------------------------

    @property
    def holds_number(self) -> bool:
        """True while the connection keeps its number's claim (requested or connected)."""
        return self.status in HOLDING_STATES

    @property
    def is_deleted(self) -> bool:
        return self.status == "deleted"

    @property
    def registration_status(self) -> RegistrationStatus:
        """The connection's registration status: derived from the levels of its submission
        (``domain.registration_levels.derive_status``), or as the provider reported it for
        the whole connection when nothing was submitted here."""
        if self.submission is None:
            return self.reported_registration_status
        return self._derived_registration_status

    @property
    def changed_since_submission(self) -> bool:
        """True when the compliance payload differs from the one submitted (or, for a
        status reported from outside, was edited since that report)."""
        if self.submission is None:
            return self._changed_since_reported
        return _digest(self.compliance) != self.submission.digest

    @property
    def registration_carriers(self) -> tuple[CarrierState, ...] | None:
        """What each carrier decided about the submission's campaign and number (the
        worst of the two per carrier); None when the provider reports no carrier."""
        return combined(self.level("campaign").carriers, self.level("number").carriers)

    @property
    def not_permitted_on(self) -> list[Carrier]:
        """The carriers that refused (or suspended, expired) the campaign or number."""
        return not_permitted_on(self.registration_carriers)

    @property
    def registration_throughput(self) -> Throughput:
        """What the provider reported the number may send (brand score from the brand,
        carriers' limits from the campaign); fields unknown are None."""
        return merged_throughput(*(self.level(name).throughput for name in LEVELS))

    @property
    def resubmission_plan(self) -> ResubmissionPlan:
        """What submitting the payload again will do (``domain.remedies``): decided from
        the refusal's reasons and, once the payload was edited, from the fields edited
        (a change outside what the provider updates in place needs a new campaign)."""
        brand, campaign = self.level("brand"), self.level("campaign")
        plan = resubmission_plan(
            brand_status=brand.status,
            brand_codes=[r.code for r in brand.reasons],
            campaign_status=campaign.status,
            campaign_ref=campaign.provider_ref,
            campaign_codes=[r.code for r in campaign.reasons],
            attempts=self.submission.number if self.submission else 0,
        )
        edited = self.changed_since_submission_fields
        appeal = APPEAL_CODE in [r.code for r in campaign.reasons]
        allowed = APPEAL_FIELDS if appeal else IN_PLACE_FIELDS
        if plan.mode == "in_place" and edited and not changes_in_place(edited, allowed):
            return replace(plan, mode="new_campaign")
        return plan

    def level(self, level: Level) -> LevelState:
        """Where ``level`` of the current submission stands."""
        return self.levels.get(level, NOT_SUBMITTED)

    def _check_live(self) -> None:
        if self.is_deleted:
            raise ConnectionDeletedError(self.id)

    # --- provider facts ------------------------------------------------------------------

    def record_hosting_started(self, provider: str, order_ref: str) -> None:
        """The provider accepted a bring-your-own-number hosting order; still ``requested``."""
        self._check_live()
        if self.status != "requested":
            raise InvalidTransitionError("start hosting for", self.status)
        check_id(order_ref, "orderRef", max_length=REF_MAX_LENGTH)
        self._hosting_started(provider=provider, order_ref=order_ref)

    @event(HostingStarted)
    def _hosting_started(self, provider: str, order_ref: str) -> None:
        self.provider = provider
        self.hosting_order_ref = order_ref

    def record_hosting_progress(self, reason: str) -> None:
        """What the pending hosting order waits for now (e.g. the letter of authorization):
        the SMS request's reason. Recorded only when it changed; still ``requested``."""
        self._check_live()
        if self.status != "requested" or not self.hosting_order_ref:
            raise InvalidTransitionError("record hosting progress for", self.status)
        cleaned = clean_provider_text(reason)
        if cleaned != self.hosting_reason:
            self._hosting_progressed(reason=cleaned)

    @event(HostingProgressed)
    def _hosting_progressed(self, reason: str) -> None:
        self.hosting_reason = reason

    def mark_connected(self, provider: str, provider_ref: str) -> None:
        """The provider confirmed the number. Idempotent for the same provider reference."""
        self._check_live()
        if self.status == "connected" and self.provider_ref == provider_ref:
            return
        if self.status != "requested":
            raise InvalidTransitionError("connect", self.status)
        # A provider's reference is used again to release the number: refused, not cleaned.
        check_id(provider_ref, "providerRef", max_length=REF_MAX_LENGTH)
        self._connected(provider=provider, provider_ref=provider_ref)

    @event(NumberConnected)
    def _connected(self, provider: str, provider_ref: str) -> None:
        self.status = "connected"
        self.provider = provider
        self.provider_ref = provider_ref

    def mark_failed(self, code: str, reason: str) -> None:
        """Provisioning failed (the provider said no): terminal. Idempotent once failed."""
        self._check_live()
        if self.status == "failed":
            return
        if self.status != "requested":
            raise InvalidTransitionError("fail", self.status)
        self._failed(
            code=clean_provider_text(code, max_length=64), reason=clean_provider_text(reason)
        )

    @event(ProvisioningFailed)
    def _failed(self, code: str, reason: str) -> None:
        self.status = "failed"
        self.failure_code = code
        self.failure_reason = reason

    def reclaim(self, reason: ReclaimReason) -> None:
        """The provider took the number back: degraded and inactive. Idempotent."""
        self._check_live()
        if self.status == "reclaimed":
            return
        if self.status != "connected":
            raise InvalidTransitionError("reclaim", self.status)
        self._reclaimed(reason=reason)

    @event(NumberReclaimed)
    def _reclaimed(self, reason: ReclaimReason) -> None:
        self.status = "reclaimed"
        self.reclaim_reason = reason
        self.active = False

    def change_registration_status(
        self,
        status: str,
        *,
        raw_status: str | None,
        reason: str | None,
        provider_ref: str | None,
    ) -> None:
        """A provider reported the registration status of the whole connection (a number
        registered outside this service). Operator edits never touch it. Records nothing
        once a submission was made here: then only its levels' reports count."""
        self._check_live()
        if status not in REGISTRATION_STATUSES:
            raise InvalidRegistrationStatusError()
        if self.submission is not None:
            return
        self._registration_status_changed(
            status=cast(RegistrationStatus, status),
            raw_status=_cleaned(raw_status),
            reason=_cleaned(reason),
            provider_ref=_cleaned(provider_ref),
        )

    @event(RegistrationStatusChanged)
    def _registration_status_changed(
        self,
        status: RegistrationStatus,
        raw_status: str | None,
        reason: str | None,
        provider_ref: str | None,
    ) -> None:
        self.reported_registration_status = status
        self.registration_raw_status = raw_status
        self.registration_reason = reason
        self.registration_ref = provider_ref
        if status in ("submitted", "not_submitted"):
            self._changed_since_reported = False

    def submit_registration(
        self,
        *,
        by: str,
        at: datetime,
        digest: str,
        brand_registration_id: UUID,
        campaign_registration_id: UUID,
        brand: LevelState,
        campaign: LevelState,
    ) -> None:
        """Submit the current compliance payload (digest ``digest``) for registration: only
        a connected number; never an unchanged payload again (RegistrationInProgressError
        while it is in flight, RegistrationUnchangedError once decided). ``brand`` and
        ``campaign`` are where the (possibly shared) registrations stand now."""
        self._check_live()
        check_id(by, "sub")
        if self.status != "connected":
            raise InvalidTransitionError("submit the registration of", self.status)
        if self.submission is not None and self.submission.digest == digest:
            if self.registration_status in IN_FLIGHT:
                raise RegistrationInProgressError()
            raise RegistrationUnchangedError()
        self._registration_submitted(
            number=(self.submission.number + 1) if self.submission else 1,
            compliance_version=self.version,
            submitted_by=by,
            submitted_at=at,
            digest=digest,
            brand_registration_id=brand_registration_id,
            campaign_registration_id=campaign_registration_id,
            brand=_level_dict(brand),
            campaign=_level_dict(campaign),
            registration_status=derive_status(brand, campaign, SUBMITTED),
        )

    @event(RegistrationSubmitted)
    def _registration_submitted(
        self,
        number: int,
        compliance_version: int,
        submitted_by: str,
        submitted_at: datetime,
        digest: str,
        brand_registration_id: UUID,
        campaign_registration_id: UUID,
        brand: dict[str, Any],
        campaign: dict[str, Any],
        registration_status: RegistrationStatus,
    ) -> None:
        self.submission = Submission(
            number,
            compliance_version,
            submitted_by,
            submitted_at,
            digest,
            brand_registration_id,
            campaign_registration_id,
        )
        self.levels = {
            "brand": _level_of(brand),
            "campaign": _level_of(campaign),
            "number": SUBMITTED,
        }
        self._derived_registration_status = registration_status
        self.changed_since_submission_fields = ()

    def record_level(self, level: Level, state: LevelState) -> None:
        """A level of the current submission changed (a provider fact, or the provider
        step that created it). Records nothing when nothing changed or nothing was
        submitted here."""
        self._check_live()
        if self.submission is None or self.level(level) == state:
            return
        levels = {**self.levels, level: state}
        derived = derive_status(levels["brand"], levels["campaign"], levels["number"])
        self._level_changed(level=level, **_level_dict(state), registration_status=derived)

    @event(RegistrationLevelChanged)
    def _level_changed(
        self,
        level: Level,
        status: LevelStatus,
        raw_status: str | None,
        provider_ref: str | None,
        reasons: list[dict[str, Any]],
        identity_status: str | None,
        registration_status: RegistrationStatus,
        carriers: list[dict[str, Any]] | None = None,
        throughput: dict[str, Any] | None = None,
    ) -> None:
        self.levels = {
            **self.levels,
            level: LevelState(
                status,
                raw_status,
                provider_ref,
                reasons_of(reasons),
                identity_status,
                carriers_of(carriers),
                throughput_of(throughput),
            ),
        }
        self._derived_registration_status = registration_status

    def request_secondary_vetting(self, by: str) -> None:
        """Ask for the brand's secondary vetting (a low brand score limits throughput):
        only once the brand is approved; nothing when already asked."""
        self._check_live()
        check_id(by, "sub")
        if self.submission is None or self.level("brand").status != "approved":
            raise InvalidTransitionError("ask for secondary vetting of", self.registration_status)
        if not self.secondary_vetting_requested:
            self._secondary_vetting_requested(requested_by=by)

    @event(SecondaryVettingRequested)
    def _secondary_vetting_requested(self, requested_by: str) -> None:
        self.secondary_vetting_requested = True

    # --- operator commands ---------------------------------------------------------------

    def assign_agent(self, agent_id: str, by: str) -> None:
        """Assign the agent whose knowledge base answers the texts. No-op if unchanged."""
        self._check_live()
        if not agent_id:
            raise AgentRequiredError()
        check_id(agent_id, "agentId")
        check_id(by, "sub")
        if agent_id == self.agent_id:
            return
        self._agent_assigned(agent_id=agent_id, assigned_by=by)

    @event(AgentAssigned)
    def _agent_assigned(self, agent_id: str, assigned_by: str) -> None:
        self.agent_id = agent_id

    def move(self, workspace_id: str, agent_id: str, by: str) -> None:
        """Move the connection to ``workspace_id`` with ``agent_id``, an agent of it (the
        application checks that against the directory). No-op if unchanged."""
        self._check_live()
        if not agent_id:
            raise AgentRequiredError()
        if workspace_id == self.workspace_id:
            self.assign_agent(agent_id, by)
            return
        self._workspace_changed(workspace_id=workspace_id, agent_id=agent_id, changed_by=by)

    @event(WorkspaceChanged)
    def _workspace_changed(self, workspace_id: str, agent_id: str, changed_by: str) -> None:
        self.workspace_id = workspace_id
        self.agent_id = agent_id

    def activate(self, by: str) -> None:
        """Switch the channel on: needs a connected number and an agent. No-op if on."""
        self._check_live()
        check_id(by, "sub")
        if self.status != "connected":
            raise NotConnectedError(self.status)
        if not self.agent_id:
            raise AgentRequiredError()
        if not self.active:
            self._active_changed(active=True, changed_by=by)

    def deactivate(self, by: str) -> None:
        """Switch the channel off. No-op if off."""
        self._check_live()
        check_id(by, "sub")
        if self.active:
            self._active_changed(active=False, changed_by=by)

    @event(ActiveChanged)
    def _active_changed(self, active: bool, changed_by: str) -> None:
        self.active = active

    def update_compliance(self, payload: object, by: str) -> None:
        """Replace the compliance payload with ``payload`` as entered (a draft is fine).
        Rejects a payload of the wrong shape; records nothing when no field changed."""
        self._check_live()
        check_id(by, "sub")
        checked = check_compliance(payload)
        changed = changed_fields(self.compliance, checked)
        if self.compliance is not None and not changed:
            return
        self._compliance_updated(compliance=checked, changed_fields=changed, updated_by=by)

    @event(ComplianceUpdated)
    def _compliance_updated(
        self, compliance: dict[str, Any], changed_fields: list[str], updated_by: str
    ) -> None:
        self.compliance = compliance
        if self.reported_registration_status != "not_submitted":
            self._changed_since_reported = True
        if self.submission is not None:
            edited = (*self.changed_since_submission_fields, *changed_fields)
            self.changed_since_submission_fields = tuple(sorted(set(edited)))

    def record_replacement(self, replacement_id: UUID, by: str) -> None:
        """Another connection takes this one's place (replace-number): only a reclaimed or
        failed connection, and only once."""
        self._check_live()
        if self.status not in REPLACEABLE_STATES:
            raise InvalidTransitionError("replace the number of", self.status)
        if self.replaced_by is not None:
            raise InvalidTransitionError("replace the number of", "replaced")
        self._replaced(replacement_id=replacement_id, replaced_by=by)

    @event(Replaced)
    def _replaced(self, replacement_id: UUID, replaced_by: str) -> None:
        self.replaced_by = replacement_id

    def delete(self, by: str) -> None:
        """Remove the connection: terminal, hidden from the table, kept for audit."""
        self._check_live()
        check_id(by, "sub")
        self._deleted(deleted_by=by)

    @event(ConnectionDeleted)
    def _deleted(self, deleted_by: str) -> None:
        self.status = "deleted"
        self.active = False


def _cleaned(text: str | None) -> str | None:
    return None if text is None else clean_provider_text(text)


@dataclass(frozen=True)
class Submission:
    """One submission of the compliance payload for registration: which (``number``, from
    1), the connection version it submitted (the payload as it stood at that version), who
    and when, the payload's digest, and the brand and campaign registrations it uses."""

    number: int
    compliance_version: int
    submitted_by: str
    submitted_at: datetime
    digest: str
    brand_registration_id: UUID
    campaign_registration_id: UUID


def _digest(compliance: dict[str, Any] | None) -> str:
    return digest(compliance)


def _level_dict(state: LevelState) -> dict[str, Any]:
    return {
        "status": state.status,
        "raw_status": state.raw_status,
        "provider_ref": state.provider_ref,
        "reasons": [r.as_dict() for r in state.reasons],
        "identity_status": state.identity_status,
        "carriers": carriers_dicts(state.carriers),
        "throughput": throughput_dict(state.throughput),
    }


def _level_of(stored: dict[str, Any]) -> LevelState:
    """A level as stored on ``RegistrationSubmitted`` (older ones lack carriers and
    throughput: None, not reported)."""
    return LevelState(
        stored["status"],
        stored.get("raw_status"),
        stored.get("provider_ref"),
        reasons_of(stored.get("reasons")),
        stored.get("identity_status"),
        carriers_of(stored.get("carriers")),
        throughput_of(stored.get("throughput")),
    )
