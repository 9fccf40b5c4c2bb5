"""The sandbox provider (the port's adapter), what it refuses (``SandboxFailures``), and
its provider-side controls, which change the sandbox account first and return the webhook
to deliver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from domain.carriers import CARRIER_STATUSES, CARRIERS, carriers_of, throughput_of
from domain.providers import (
    AvailableNumber,
    ComplianceRestrictedError,
    HeldNumber,
    HostingOrder,
    HostingStatus,
    NumberUnavailableError,
    ProviderUnavailableError,
    ProvisionedNumber,
    RegistrationAnswer,
    RegistrationNotReadyError,
    VettingAnswer,
)
from domain.registration_levels import LEVELS, Level
from domain.sms_connections import REGISTRATION_STATUSES, ReclaimReason
from providers.sandbox.inventory import (
    DEFAULT_AREA_CODES,
    area_code_of,
    contains_pattern,
    numbers_of,
    offer,
    valid_for,
)
from providers.sandbox.ledger import MemoryLedger, SandboxLedger, SandboxOrder
from providers.sandbox.postgres_ledger import PostgresLedger
from providers.sandbox.registrations import (
    MemoryRegistrations,
    PostgresRegistrations,
    RegistrationLedger,
    SandboxRegistration,
    new_ref,
    now,
)
from providers.sandbox.webhooks import PROVIDER_NAME, SandboxWebhook


@dataclass
class SandboxFailures:
    """What the sandbox refuses. Mutable at run time (e.g. a test starts an outage).

    ``restricted_countries``: country → the reason purchase and hosting are refused there.
    ``sold_out``: (country, area code) pairs with no stock: search finds nothing there and a
    purchase there is refused as unavailable. ``outage_retry_after``: while set, every call
    fails as unavailable with that Retry-After.
    """

    restricted_countries: dict[str, str] = field(
        default_factory=lambda: {
            "DE": "Germany needs a regulatory bundle with a German address on the account."
        }
    )
    sold_out: set[tuple[str, str]] = field(default_factory=lambda: {("US", "907")})
    outage_retry_after: int | None = None


class SandboxError(ValueError):
    """Raised by the sandbox's own controls (the CLI's actions) when there is nothing to
    act on: no pending hosting order for the number, the number not held."""


# The brand score the sandbox's secondary vetting gives.
SECONDARY_VETTING_SCORE = 75


class SandboxProvider:
    """A provider whose inventory is fictional numbers, with a ledger and failures.

    Besides the port, it has the provider-side controls that produce webhooks
    (``verify_hosting``, ``fail_hosting``, ``take_back``, ``registration_changed``): each
    changes the sandbox account first, as the real provider would, and returns the event
    to deliver (see ``SandboxWebhookSender``).
    """

    name = PROVIDER_NAME

    def __init__(
        self,
        ledger: SandboxLedger | None = None,
        failures: SandboxFailures | None = None,
        *,
        registrations: RegistrationLedger | None = None,
        auto_approve_after: float | None = None,
        inbound_url: str | None = None,
    ) -> None:
        """``inbound_url``: where every number it sells or hosts is pointed for inbound
        messages (``INBOUND_SMS_WEBHOOK_URL``), recorded on the number in the ledger."""
        self.ledger: SandboxLedger = ledger or MemoryLedger()
        self.failures = failures or SandboxFailures()
        if registrations is None and isinstance(self.ledger, PostgresLedger):
            registrations = PostgresRegistrations(self.ledger.pool)
        self.registrations: RegistrationLedger = registrations or MemoryRegistrations()
        self.auto_approve_after = auto_approve_after
        self.inbound_url = inbound_url

    # --- the port ------------------------------------------------------------------------

    def check_available(self) -> None:
        """ProviderUnavailableError during a configured outage."""
        retry_after = self.failures.outage_retry_after
        if retry_after is not None:
            raise ProviderUnavailableError(retry_after)

    def search(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]:
        """The country's fictional numbers in the area code (its default one when None),
        not held, matching ``contains``, in a stable order. BadAreaCodeError for an area
        code the country does not have."""
        self.check_available()
        area = area_code or DEFAULT_AREA_CODES.get(country)
        if area is None:
            return []  # no inventory in this country
        candidates = numbers_of(country, area)
        if (country, area) in self.failures.sold_out:
            return []
        pattern = contains_pattern(contains)
        matching = [n for n in candidates if pattern is None or pattern.search(n[1:])]
        held = self.ledger.held_among(matching) if matching else set()
        return [offer(n, country, area) for n in matching if n not in held][:limit]

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        """Buy ``phone_number``: NumberUnavailableError if held (by anyone) or sold out,
        ComplianceRestrictedError in a restricted country."""
        self.check_available()
        self._check_unrestricted(country)
        if not valid_for(phone_number, country) or self._sold_out(phone_number, country):
            raise NumberUnavailableError()
        number = HeldNumber(phone_number, new_ref("PN"), reference, self.inbound_url)
        if not self.ledger.acquire(number, country):
            raise NumberUnavailableError()
        return ProvisionedNumber(self.name, number.ref)

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        """Open a hosting order (or return the open one for the number). A webhook from
        ``verify_hosting``/``fail_hosting`` or the reconcile poll finishes it."""
        self.check_available()
        self._check_unrestricted(country)
        if not valid_for(phone_number, country):
            raise NumberUnavailableError()
        if self.ledger.holding(phone_number) is not None:
            raise NumberUnavailableError()  # already on the account: nothing to host
        order = self.ledger.open_order(
            SandboxOrder(new_ref("HR"), phone_number, country, reference, "pending")
        )
        return HostingOrder(self.name, order.ref)

    def release(self, ref: str) -> None:
        """Give back a number (``PN…``) or cancel a pending hosting order (``HR…``).
        Idempotent."""
        self.check_available()
        if ref.startswith("HR"):
            self.ledger.finish_order(ref, "cancelled", None)
        else:
            self.ledger.drop_ref(ref)

    def holding(self, phone_number: str) -> HeldNumber | None:
        self.check_available()
        return self.ledger.holding(phone_number)

    def held_numbers(self) -> Iterable[HeldNumber]:
        self.check_available()
        return self.ledger.held()

    def hosting_status(self, order_ref: str) -> HostingStatus:
        self.check_available()
        order = self.ledger.order(order_ref)
        if order is None:
            return HostingStatus("failed", reason="The sandbox has no such hosting order.")
        if order.state == "completed":
            return HostingStatus("completed", number_ref=order.number_ref)
        if order.state in ("failed", "cancelled"):
            return HostingStatus("failed", reason=order.reason or f"The order was {order.state}.")
        return HostingStatus("pending")

    # --- registration (US A2P 10DLC) -----------------------------------------------------

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        """A brand (``BN…``), pending review; the same one again for ``reference``."""
        self.check_available()
        candidate = SandboxRegistration(
            new_ref("BN"), "brand", reference, None, None, None, "pending", created_at=now()
        )
        return _answer(self.registrations.create(candidate))

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        """A campaign (``CM…``) with its messaging service (``MG…``), pending review (the
        sandbox does not wait for the brand's approval)."""
        self.check_available()
        candidate = SandboxRegistration(
            new_ref("CM"), "campaign", reference, brand_ref, None, new_ref("MG"), "pending",
            created_at=now(),
        )  # fmt: skip
        return _answer(self.registrations.create(candidate))

    def update_campaign(
        self,
        campaign: Mapping[str, Any],
        *,
        ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        """The refused campaign ``ref`` resubmitted in place (the sandbox's campaign
        update): pending review again, the carriers' decisions cleared, one update
        counted (once per ``reference``: the attempt's)."""
        self.check_available()
        found = self.registrations.get(ref)
        if found is None or found.level != "campaign":
            raise RegistrationNotReadyError("the sandbox holds no such campaign")
        if found.status != "pending":
            self.registrations.set_status(ref, "pending", None, None)
            self.registrations.set_extra(ref, carriers={}, updated=True)
        return _answer(self.registrations.get(ref) or found)

    def vet_brand(
        self,
        brand_ref: str,
        *,
        vetting_provider: str,
        vetting_id: str | None,
        reference: str,
    ) -> VettingAnswer:
        """A brand vetting (``VT…``), once per ``reference``: a Campaign Verify token is
        accepted at once; secondary vetting is done at once and raises the brand's score to
        ``SECONDARY_VETTING_SCORE`` (unless the sandbox's settings gave a higher one)."""
        self.check_available()
        brand = self.registrations.get(brand_ref)
        if brand is None or brand.level != "brand":
            raise RegistrationNotReadyError("the sandbox holds no such brand")
        made = self.registrations.create(
            SandboxRegistration(
                new_ref("VT"), "vetting", reference, brand_ref, None, None, "approved",
                reason=vetting_provider, created_at=now(),
            )
        )  # fmt: skip
        if vetting_provider == "aegis":
            score = (brand.throughput or {}).get("brandScore")
            if not isinstance(score, int) or score < SECONDARY_VETTING_SCORE:
                throughput = {**(brand.throughput or {}), "brandScore": SECONDARY_VETTING_SCORE}
                self.registrations.set_extra(brand_ref, throughput=throughput)
        political = vetting_provider == "campaign-verify"
        return VettingAnswer(
            made.ref, made.status, "SUCCESS", "POLITICAL" if political else "STANDARD"
        )

    def register_number(
        self,
        phone_number: str,
        number_ref: str,
        *,
        campaign_ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        """The number joins the campaign's service (``MG…/PN…``), pending provisioning."""
        self.check_available()
        candidate = SandboxRegistration(
            f"{service_ref or campaign_ref}/{number_ref}", "number", reference, campaign_ref,
            phone_number, None, "pending", created_at=now(),
        )  # fmt: skip
        return _answer(self.registrations.create(candidate))

    def registration_status(self, level: Level, ref: str) -> RegistrationAnswer:
        """Where an object stands; with auto-approval, a pending one old enough is
        approved now."""
        self.check_available()
        found = self.registrations.get(ref)
        if found is None:
            return RegistrationAnswer(ref, None, "UNKNOWN")
        wait = self.auto_approve_after
        if wait is not None and found.status == "pending" and now() - found.created_at >= wait:
            self.registrations.set_status(ref, "approved", None, None)
            found = self.registrations.get(ref) or found
        return _answer(found)

    def decide_registration(
        self,
        phone_number: str,
        status: str,
        *,
        level: Level | None = None,
        code: str | None = None,
        reason: str | None = None,
        carrier: str | None = None,
        ref: str | None = None,
    ) -> list[SandboxWebhook]:
        """The provider decides the registration of ``phone_number``'s newest submission:
        one level, or every level (brand, campaign, number) when ``level`` is None; with
        ``carrier``, only that carrier's decision about the campaign (or number) is set
        (the object's own status stays). Returns one ``registration.level_changed`` event
        per level. SandboxError when the sandbox holds no registration of the number yet.
        ``ref``: decide that object (e.g. a brand no number has joined yet) instead."""
        chosen = self._levels_of(phone_number) if ref is None else self._object(ref, level)
        level = level if ref is None else cast(Level, next(iter(chosen)))
        if carrier is not None:
            if carrier not in CARRIERS or status not in CARRIER_STATUSES:
                raise SandboxError(
                    f"carrier must be one of {', '.join(CARRIERS)} and status one of "
                    f"{', '.join(CARRIER_STATUSES)}"
                )
            if level not in ("campaign", "number"):
                raise SandboxError("a carrier decides a campaign or a number: --level")
        events = []
        for name in [level] if level else list(LEVELS):
            target = chosen[name]
            if carrier is None:
                self.registrations.set_status(target.ref, status, code, reason)
            else:
                said = {**(target.carriers or {}), carrier: {
                    "status": status, "code": code, "reason": reason,
                }}  # fmt: skip
                self.registrations.set_extra(target.ref, carriers=said)
            decided = self.registrations.get(target.ref) or target
            events.append(SandboxWebhook.new("registration.level_changed", _level_data(decided)))
        return events

    def set_throughput(self, phone_number: str, **settings: object) -> list[SandboxWebhook]:
        """The sandbox's throughput settings for ``phone_number``'s newest registration:
        ``brandScore`` on its brand, T-Mobile's and AT&T's limits on its campaign (those
        given; the others kept). One ``registration.level_changed`` event per level set."""
        chosen = self._levels_of(phone_number)
        given = {k: v for k, v in settings.items() if v is not None}
        parts = {
            "brand": {k: v for k, v in given.items() if k == "brandScore"},
            "campaign": {k: v for k, v in given.items() if k != "brandScore"},
        }
        events = []
        for name, values in parts.items():
            if not values:
                continue
            target = chosen[name]
            self.registrations.set_extra(
                target.ref, throughput={**(target.throughput or {}), **values}
            )
            decided = self.registrations.get(target.ref) or target
            events.append(SandboxWebhook.new("registration.level_changed", _level_data(decided)))
        return events

    def _object(self, ref: str, level: Level | None) -> dict[str, SandboxRegistration]:
        found = self.registrations.get(ref)
        if found is None or found.level not in LEVELS or level not in (None, found.level):
            raise SandboxError("the sandbox holds no such registration object at that level")
        return {found.level: found}

    def _levels_of(self, phone_number: str) -> dict[str, SandboxRegistration]:
        number = self.registrations.latest_number(phone_number)
        campaign = self.registrations.get(number.parent_ref or "") if number else None
        brand = self.registrations.get(campaign.parent_ref or "") if campaign else None
        if number is None or campaign is None or brand is None:
            raise SandboxError("the sandbox holds no registration of this number yet")
        return {"brand": brand, "campaign": campaign, "number": number}

    def close(self) -> None:
        self.ledger.close()

    def holds(self, phone_number: str) -> bool:
        """True while the sandbox account holds ``phone_number`` (test convenience)."""
        return self.ledger.holding(phone_number) is not None

    # --- provider-side controls (what the CLI and tests drive) ------------------------

    def verify_hosting(self, phone_number: str) -> SandboxWebhook:
        """The pending hosting order of ``phone_number`` is verified: the number joins the
        account. Returns the ``hosted_number.verified`` event."""
        order = self._pending(phone_number)
        number = HeldNumber(phone_number, new_ref("PN"), order.reference, self.inbound_url)
        if not self.ledger.finish_order(order.ref, "completed", number):
            raise SandboxError("the order is no longer pending or the number is held already")
        return SandboxWebhook.new(
            "hosted_number.verified",
            {"phoneNumber": phone_number, "orderRef": order.ref, "numberRef": number.ref},
        )

    def fail_hosting(self, phone_number: str, reason: str) -> SandboxWebhook:
        """The pending hosting order of ``phone_number`` fails with ``reason``."""
        order = self._pending(phone_number)
        if not self.ledger.fail_order(order.ref, reason):
            raise SandboxError("the order is no longer pending")
        return SandboxWebhook.new(
            "hosted_number.failed",
            {"phoneNumber": phone_number, "orderRef": order.ref, "reason": reason},
        )

    def take_back(self, phone_number: str, reason: ReclaimReason) -> SandboxWebhook:
        """The provider reclaims, expires or releases a held number. Returns the
        ``number.<reason>`` event."""
        dropped = self.ledger.drop(phone_number)
        if dropped is None:
            raise SandboxError("the sandbox does not hold this number")
        return SandboxWebhook.new(
            f"number.{reason}", {"phoneNumber": phone_number, "numberRef": dropped.ref}
        )

    def registration_changed(
        self,
        phone_number: str,
        status: str,
        *,
        raw_status: str | None = None,
        reason: str | None = None,
        registration_ref: str | None = None,
    ) -> SandboxWebhook:
        """The brand/campaign registration of the number's campaign changed."""
        if status not in REGISTRATION_STATUSES:
            raise SandboxError(f"status must be one of {', '.join(REGISTRATION_STATUSES)}")
        return SandboxWebhook.new(
            "registration.status_changed",
            {
                "phoneNumber": phone_number,
                "status": status,
                "rawStatus": raw_status or status.upper(),
                "reason": reason,
                "registrationRef": registration_ref or new_ref("CM"),
            },
        )

    def _pending(self, phone_number: str) -> SandboxOrder:
        order = self.ledger.pending_order(phone_number)
        if order is None:
            raise SandboxError("the sandbox has no pending hosting order for this number")
        return order

    def _check_unrestricted(self, country: str) -> None:
        reason = self.failures.restricted_countries.get(country)
        if reason is not None:
            raise ComplianceRestrictedError(reason)

    def _sold_out(self, phone_number: str, country: str) -> bool:
        return any(
            country == c and area_code_of(phone_number) == area
            for c, area in self.failures.sold_out
        )


def _answer(found: SandboxRegistration) -> RegistrationAnswer:
    return RegistrationAnswer(
        ref=found.ref,
        status=found.status,
        raw_status=found.raw_status,
        reasons=_reasons(found),
        identity_status=_identity(found),
        service_ref=found.service_ref,
        carriers=carriers_of(_carriers(found)),
        throughput=throughput_of(found.throughput),
    )


def _carriers(found: SandboxRegistration) -> list[dict[str, Any]] | None:
    """The object's per-carrier decisions as the webhook sends them (None: none yet)."""
    if not found.carriers:
        return None
    return [
        {
            "carrier": carrier,
            "status": said.get("status"),
            "reasons": _coded(said.get("code"), said.get("reason")),
        }
        for carrier, said in found.carriers.items()
    ]


def _coded(code: str | None, reason: str | None) -> list[dict[str, Any]]:
    if code is None and reason is None:
        return []
    description = reason or f"The provider answered with code {code}."
    return [{"code": code or "", "description": description, "fields": []}]


def _reasons(found: SandboxRegistration) -> tuple[dict[str, Any], ...]:
    if found.code is None and found.reason is None:
        return ()
    description = found.reason or f"The provider answered with code {found.code}."
    return ({"code": found.code or "", "description": description, "fields": []},)


def _identity(found: SandboxRegistration) -> str | None:
    if found.level != "brand":
        return None
    return "VERIFIED" if found.status == "approved" else "UNVERIFIED"


def _level_data(found: SandboxRegistration) -> dict[str, Any]:
    return {
        "level": found.level,
        "ref": found.ref,
        "phoneNumber": found.phone_number,
        "status": found.status,
        "rawStatus": found.raw_status,
        "reasons": list(_reasons(found)),
        "identityStatus": _identity(found),
        "carriers": _carriers(found),
        "throughput": found.throughput,
    }
