"""Registration aggregates beside ``SmsConnection``: a brand or campaign registration at the
provider (``LevelRegistration``, shared by every connection of the account that submitted
the same brand, or the same brand and campaign content), and the index that finds what a
provider reference belongs to (``RegistrationRef``, for webhooks and polls).

A brand or campaign registration keeps the provider's status and reference, and the
connections linked to it (each told of every change, see ``SmsChannels``). Its provider
reference is recorded before any later step starts: the step that created it at the
provider is never repeated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.carriers import (
    CarrierState,
    Throughput,
    carriers_dicts,
    carriers_of,
    throughput_dict,
    throughput_of,
)
from domain.ids import (
    brand_registration_id,
    campaign_registration_id,
    keyed_brand_registration_id,
    registration_ref_id,
)
from domain.registration_levels import (
    SUBMITTED,
    LevelState,
    LevelStatus,
    Reason,
    clean_ref,
    reasons_of,
)
from domain.text import check_id, clean_provider_text

SharedLevel = Literal["brand", "campaign"]
# A rejected (or waiting) brand is sent again when a submission changes its payload.
RESUBMITTABLE: frozenset[str] = frozenset({"rejected", "action_required", "expired"})


class LevelRegistration(Aggregate):
    """A brand or campaign registration at the provider, shared by the connections linked
    to it. Invariants: the provider reference, once recorded, stays until a resubmission;
    statuses change only on provider facts."""

    class Opened(Aggregate.Created):
        level: SharedLevel
        account_id: str
        digest: str

    class ConnectionLinked(Aggregate.Event):
        connection_id: UUID

    class Resubmitted(Aggregate.Event):
        # 2: ``in_place`` (issue 31; earlier resubmissions were new objects: False).
        class_version = 2

        digest: str
        attempt: int
        in_place: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["in_place"] = False

    class Vetted(Aggregate.Event):
        """The provider took a vetting of the brand (issue 31): which kind
        (``campaign_verify`` or ``secondary``), its reference, status and class. Never the
        Campaign Verify token."""

        kind: str
        ref: str
        status: str
        raw_status: str | None
        vetting_class: str | None

    class Updated(Aggregate.Event):
        """The provider took an in-place resubmission (e.g. Twilio's campaign update)."""

        status: LevelStatus
        raw_status: str | None

    class ProviderRefRecorded(Aggregate.Event):
        provider: str
        ref: str
        service_ref: str | None
        status: LevelStatus
        raw_status: str | None
        identity_status: str | None

    class StatusChanged(Aggregate.Event):
        # 2: ``carriers`` and ``throughput`` (issue 31; earlier changes read None: not
        # reported).
        class_version = 2

        status: LevelStatus
        raw_status: str | None
        reasons: list[dict[str, Any]]
        identity_status: str | None
        carriers: list[dict[str, Any]] | None
        throughput: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["carriers"] = None
            state["throughput"] = None

    @classmethod
    def open(
        cls, *, registration_id: UUID, level: SharedLevel, account_id: str, digest: str
    ) -> LevelRegistration:
        """A new registration (status ``submitted``) of a payload whose digest is ``digest``."""
        check_id(account_id, "acc")
        return cls._create(
            cls.Opened,
            id=registration_id,
            level=level,
            account_id=account_id,
            digest=digest,
        )

    @event(Opened)
    def __init__(self, level: SharedLevel, account_id: str, digest: str) -> None:
        self.level = level
        self.account_id = account_id
        self.digest = digest
        self.attempt = 1
        self.state: LevelState = SUBMITTED
        self.provider: str | None = None
        self.service_ref: str | None = None
        self.connection_ids: list[UUID] = []
        # An in-place resubmission not yet sent to the provider (``update_campaign``).
        self.update_due = False
        # The brand's vettings at the provider, by kind (``campaign_verify``, ``secondary``).
        self.vettings: dict[str, Vetting] = {}

    @property
    def step_reference(self) -> str:
        """What the provider keeps with the object it creates for this attempt: asking
        again with it returns that object instead of a second one."""
        return f"{self.id}.{self.attempt}"

    @property
    def needs_provider(self) -> bool:
        """True while the provider has not been asked (or answered) for this attempt."""
        return self.state.provider_ref is None

    def link(self, connection_id: UUID) -> None:
        """Connection ``connection_id`` submitted this brand/campaign. Idempotent."""
        if connection_id not in self.connection_ids:
            self._linked(connection_id=connection_id)

    @event(ConnectionLinked)
    def _linked(self, connection_id: UUID) -> None:
        self.connection_ids = [*self.connection_ids, connection_id]

    def resubmit_if_changed(self, digest: str) -> None:
        """A submission with payload ``digest``: a refused registration whose payload
        changed is sent again (a new attempt); anything else stays as it is."""
        if digest != self.digest and self.state.status in RESUBMITTABLE:
            self._resubmitted(digest=digest, attempt=self.attempt + 1, in_place=False)

    def resubmit_in_place(self, digest: str) -> None:
        """A refused campaign whose fix the provider takes in place (``domain.remedies``):
        the same provider object is updated with payload ``digest`` (a new attempt, the
        provider reference kept). Nothing when the payload is unchanged or not refused."""
        if digest != self.digest and self.state.status == "rejected" and self.state.provider_ref:
            self._resubmitted(digest=digest, attempt=self.attempt + 1, in_place=True)

    @event(Resubmitted)
    def _resubmitted(self, digest: str, attempt: int, in_place: bool) -> None:
        self.digest = digest
        self.attempt = attempt
        if in_place:
            self.state = LevelState("submitted", None, self.state.provider_ref)
            self.update_due = True
            return
        self.state = SUBMITTED
        self.service_ref = None

    def record_vetted(
        self, *, kind: str, ref: str, status: str, raw_status: str | None, vetting_class: str | None
    ) -> None:
        """The provider took (or reports) the brand's vetting of ``kind``. Records nothing
        when nothing changed."""
        found = Vetting(
            kind, cast(str, clean_ref(ref)), status, _cleaned(raw_status), _cleaned(vetting_class)
        )
        if self.vettings.get(kind) != found:
            self._vetted(
                kind=kind, ref=found.ref, status=status, raw_status=found.raw_status,
                vetting_class=found.vetting_class,
            )  # fmt: skip

    @event(Vetted)
    def _vetted(
        self, kind: str, ref: str, status: str, raw_status: str | None, vetting_class: str | None
    ) -> None:
        self.vettings = {
            **self.vettings,
            kind: Vetting(kind, ref, status, raw_status, vetting_class),
        }

    def record_updated(self, *, status: LevelStatus, raw_status: str | None) -> None:
        """The provider took the in-place resubmission. Idempotent."""
        if self.update_due:
            self._updated(status=status, raw_status=_cleaned(raw_status))

    @event(Updated)
    def _updated(self, status: LevelStatus, raw_status: str | None) -> None:
        self.update_due = False
        self.state = LevelState(status, raw_status, self.state.provider_ref)

    def record_created(
        self,
        *,
        provider: str,
        ref: str,
        status: LevelStatus,
        raw_status: str | None,
        service_ref: str | None = None,
        identity_status: str | None = None,
    ) -> None:
        """The provider created the object of this attempt (``ref``). Idempotent."""
        if self.state.provider_ref == ref:
            return
        self._created(
            provider=provider,
            ref=cast(str, clean_ref(ref)),
            service_ref=clean_ref(service_ref, "serviceRef"),
            status=status,
            raw_status=_cleaned(raw_status),
            identity_status=_cleaned(identity_status),
        )

    @event(ProviderRefRecorded)
    def _created(
        self,
        provider: str,
        ref: str,
        service_ref: str | None,
        status: LevelStatus,
        raw_status: str | None,
        identity_status: str | None,
    ) -> None:
        self.provider = provider
        self.service_ref = service_ref
        self.state = LevelState(status, raw_status, ref, (), identity_status)

    def record_status(
        self,
        status: LevelStatus,
        *,
        raw_status: str | None,
        reasons: tuple[Reason, ...],
        identity_status: str | None = None,
        carriers: tuple[CarrierState, ...] | None = None,
        throughput: Throughput | None = None,
    ) -> None:
        """The provider reported a status (with what each carrier decided, and the
        throughput, when it says: a report without them keeps the ones recorded). Records
        nothing when nothing changed, nor while an in-place resubmission waits to be sent
        (the report is about the object before it)."""
        if self.update_due:
            return
        identity = _cleaned(identity_status) or self.state.identity_status
        carriers = self.state.carriers if carriers is None else carriers
        throughput = self.state.throughput if throughput is None else throughput
        new = LevelState(
            status,
            _cleaned(raw_status),
            self.state.provider_ref,
            reasons,
            identity,
            carriers,
            throughput,
        )
        if new == self.state:
            return
        self._status_changed(
            status=status,
            raw_status=new.raw_status,
            reasons=[r.as_dict() for r in reasons],
            identity_status=identity,
            carriers=carriers_dicts(carriers),
            throughput=throughput_dict(throughput),
        )

    @event(StatusChanged)
    def _status_changed(
        self,
        status: LevelStatus,
        raw_status: str | None,
        reasons: list[dict[str, Any]],
        identity_status: str | None,
        carriers: list[dict[str, Any]] | None,
        throughput: dict[str, Any] | None,
    ) -> None:
        self.state = LevelState(
            status,
            raw_status,
            self.state.provider_ref,
            reasons_of(reasons),
            identity_status,
            carriers_of(carriers),
            throughput_of(throughput),
        )


@dataclass(frozen=True)
class Vetting:
    """A brand vetting: kind (``campaign_verify``, ``secondary``), the provider's
    reference (VT…), status (``pending``, ``approved``, ``rejected``), raw status, class."""

    kind: str
    ref: str
    status: str
    raw_status: str | None
    vetting_class: str | None


class RegistrationRef(Aggregate):
    """Finds what a provider reference of one level belongs to: a brand or campaign
    registration, or (number level) a connection. Keyed by provider, level and ref.

    It also keeps the provider's time of the latest report applied about the reference
    (``reported_at``): providers deliver reports out of order (Twilio and Telnyx both say
    so), so a report the provider dated earlier than that one is recorded as ``stale`` and
    not applied (``RegistrationCommands.report_decision``). None until a report that
    carries a provider time is applied (reports without one, and the polls, leave it)."""

    class Indexed(Aggregate.Created):
        target_id: UUID

    class Reported(Aggregate.Event):
        at: datetime

    @classmethod
    def index(cls, provider: str, level: str, ref: str, target_id: UUID) -> RegistrationRef:
        return cls._create(
            cls.Indexed,
            id=registration_ref_id(provider, level, ref),
            target_id=target_id,
        )

    @event(Indexed)
    def __init__(self, target_id: UUID) -> None:
        self.target_id = target_id
        self.reported_at: datetime | None = None

    def is_stale(self, at: datetime | None) -> bool:
        """True if a report the provider dated ``at`` is older than the latest applied."""
        return at is not None and self.reported_at is not None and at < self.reported_at

    def reported(self, at: datetime | None) -> None:
        """A report the provider dated ``at`` was applied: it is the latest, if newer."""
        if at is not None and (self.reported_at is None or at > self.reported_at):
            self._reported(at=at)

    @event(Reported)
    def _reported(self, at: datetime) -> None:
        self.reported_at = at


# --- what a submission is keyed by -------------------------------------------------------


def digest(payload: object) -> str:
    """SHA-256 of the canonical JSON of ``payload`` (what "unchanged" compares)."""
    return hashlib.sha256(payload_json(payload).encode()).hexdigest()


def payload_json(payload: object) -> str:
    """The canonical JSON text of a payload (sorted keys, no whitespace, UTF-8 as is): what
    ``digest`` and the campaign registration ids hash."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def brand_identity(brand: dict[str, Any]) -> str:
    """The business a brand registers: its EIN (digits only), or for sole proprietors the
    person's own identity fields (name, phone, email)."""
    if brand.get("entity") == "SOLE_PROPRIETOR" or brand.get("brandType") == "SOLE_PROPRIETOR":
        person = [brand.get(k) or "" for k in ("displayName", "contactPhone", "contactEmail")]
        return "sole|" + "|".join(str(p).strip().lower() for p in person)
    ein = "".join(ch for ch in str(brand.get("registrationNumber") or "") if ch.isdigit())
    return f"ein|{brand.get('country') or 'US'}|{ein}"


def registration_ids(
    account_id: str, compliance: dict[str, Any], key: bytes | None = None
) -> tuple[UUID, UUID]:
    """(brand registration id, campaign registration id) of a compliance payload: keyed
    with ``key`` (``REGISTRATION_ID_KEY``), the first derivation without one."""
    identity = brand_identity(compliance.get("brand") or {})
    brand_id = (
        keyed_brand_registration_id(key, account_id, identity)
        if key
        else brand_registration_id(account_id, identity)
    )
    return brand_id, campaign_id_of(brand_id, compliance)


def campaign_id_of(brand_id: UUID, compliance: dict[str, Any]) -> UUID:
    """The campaign registration id of a payload under brand registration ``brand_id``."""
    return campaign_registration_id(brand_id, payload_json(compliance.get("campaign")))


def _cleaned(text: str | None) -> str | None:
    return None if text is None else clean_provider_text(text, max_length=256)
