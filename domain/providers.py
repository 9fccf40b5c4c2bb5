"""The SMS provider port: what the domain needs from Twilio-like providers, the provider's
errors in domain terms, and the facts its webhooks report. Adapters (``providers.sandbox``,
``providers.twilio``) implement the Protocols; the domain sees only this module."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from domain.carriers import CarrierState, Throughput
from domain.errors import DomainError, InvalidTextError
from domain.registration_levels import Level
from domain.sms_connections import ReclaimReason
from domain.text import check_id

# --- what the provider answers ----------------------------------------------------------


@dataclass(frozen=True)
class AvailableNumber:
    """A number the provider offers for purchase."""

    phone_number: str
    country: str
    area_code: str | None
    locality: str | None
    region: str | None
    capabilities: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class ProvisionedNumber:
    """A number the account now holds at the provider (``ref`` is e.g. Twilio's PN sid)."""

    provider: str
    ref: str


@dataclass(frozen=True)
class HostingOrder:
    """A bring-your-own-number hosting order, finished later by a webhook or the poll."""

    provider: str
    ref: str


@dataclass(frozen=True)
class HeldNumber:
    """A number the account holds at the provider.

    ``reference`` is what the service asked the provider to keep with the number when it
    bought or hosted it (the connection id); None for numbers this service did not acquire.
    ``inbound_url`` is where the provider sends the number's inbound messages, when the
    service pointed it somewhere (``INBOUND_SMS_WEBHOOK_URL``); None: as the provider set it.
    """

    phone_number: str
    ref: str
    reference: str | None
    inbound_url: str | None = None


HostingState = Literal["pending", "completed", "failed"]


@dataclass(frozen=True)
class HostingStatus:
    """Where a hosting order stands: ``completed`` carries the hosted number's ref,
    ``failed`` the provider's reason."""

    state: HostingState
    number_ref: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RegistrationAnswer:
    """What the provider says about one registration object (a brand, a campaign, a
    number's registration to a campaign): its reference, the provider's status in the
    domain's words (None when the adapter does not know the provider's raw status: it is
    recorded as ``pending``), the raw status, coded reasons (``code``, ``description``,
    ``fields``), the brand's identity status, and for a campaign the reference of the
    messaging service numbers join (``service_ref``, e.g. Twilio's MG…)."""

    ref: str
    status: str | None
    raw_status: str | None
    reasons: tuple[Mapping[str, Any], ...] = ()
    identity_status: str | None = None
    service_ref: str | None = None
    # What each carrier decided (None: the provider does not say) and the throughput the
    # provider reports for the object (None: none), see ``domain.carriers``.
    carriers: tuple[CarrierState, ...] | None = None
    throughput: Throughput | None = None


VettingProvider = Literal["campaign-verify", "aegis"]


@dataclass(frozen=True)
class VettingAnswer:
    """A brand vetting at the provider (Twilio ``Vettings``): its reference, status in the
    service's words (``pending``, ``approved``, ``rejected``; None: unknown, recorded as
    pending), the raw status and the vetting class (``POLITICAL``, ``STANDARD``)."""

    ref: str
    status: str | None
    raw_status: str | None
    vetting_class: str | None = None


# --- the provider's refusals and failures ------------------------------------------------


class ProviderError(DomainError):
    """Base of the provider's refusals and failures."""


class NumberUnavailableError(ProviderError):
    """Raised when the provider no longer offers the number (someone else bought it)."""

    code = "number_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "This number is no longer available at the provider: search again and pick another.",
            field="phoneNumber",
        )


class BadAreaCodeError(ProviderError):
    """Raised when the provider does not know the area code, or the country has no area
    codes to search by (Twilio 21451, 21457)."""

    code = "invalid_area_code"

    def __init__(self) -> None:
        super().__init__(
            "The provider does not offer numbers by this area code in this country.",
            field="areaCode",
        )


class ComplianceRestrictedError(ProviderError):
    """Raised when the provider needs what the account lacks for this country (a regulatory
    bundle, an address): ``reason`` says which."""

    code = "compliance_restricted"

    def __init__(self, reason: str) -> None:
        super().__init__(f"The provider restricts numbers here: {reason}", field="countryCode")
        self.reason = reason


class ProviderUnavailableError(ProviderError):
    """Raised when the provider cannot be reached or keeps failing (timeouts, 5xx, 429 after
    the retries); ``retry_after_seconds`` says when trying again makes sense. The call may
    or may not have taken effect at the provider."""

    code = "provider_unavailable"

    def __init__(self, retry_after_seconds: int = 5) -> None:
        super().__init__("The SMS provider is unavailable; try again shortly.")
        self.retry_after_seconds = max(1, retry_after_seconds)


class ProvisioningInterruptedError(ProviderUnavailableError):
    """Raised when the provider became unavailable *during* a connect's purchase or hosting
    request: connection ``connection_id`` stays requested (pending), holding its number's
    claim, until a retry resumes it or the reconcile worker settles it."""

    def __init__(self, connection_id: UUID, retry_after_seconds: int = 5) -> None:
        super().__init__(retry_after_seconds)
        self.message = (
            "The SMS provider became unavailable during the request; the connection is "
            "pending: retry to resume it, or read it at Location."
        )
        self.connection_id = connection_id


class ProviderRejectedError(ProviderError):
    """Raised when the provider refuses a request for a reason the service has no better
    name for (e.g. credentials refused, an unmapped error code). ``provider_code`` is the
    provider's own code, for the logs and the failure record."""

    code = "provider_rejected"

    def __init__(self, provider_code: str) -> None:
        super().__init__(f"The SMS provider refused the request (provider code {provider_code}).")
        self.provider_code = provider_code


class RegistrationUnsupportedError(ProviderError):
    """Raised by an adapter that cannot register brands and campaigns (yet): the
    registration worker leaves the submission pending and tries again later."""

    code = "registration_not_supported"

    def __init__(self, provider: str) -> None:
        super().__init__(f"The {provider} adapter cannot register 10DLC brands and campaigns yet.")


class RegistrationNotReadyError(ProviderError):
    """Raised when a registration step cannot start yet (e.g. the provider creates a
    campaign only for an approved brand): the worker tries the step again later."""

    code = "registration_not_ready"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


# --- the port ------------------------------------------------------------------------------


class NumberProvider(Protocol):
    """What the service asks of an SMS provider. Methods raise ProviderError subclasses.

    ``reference`` (purchase, hosting) is kept by the provider with the number so that the
    reconcile worker can tell which connection acquired a number it finds held; ``ref`` is
    the provider's own id (a number's or a hosting order's).
    """

    name: str

    def check_available(self) -> None:
        """Raise ProviderUnavailableError if the provider is known to be down right now.
        Cheap: answers from what the adapter has seen recently, never waits on the network."""
        ...

    def search(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]:
        """At most ``limit`` SMS-capable numbers on offer; an empty list when none are."""
        ...

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        """Buy ``phone_number``. NumberUnavailableError when it is not on offer (including
        when this account already holds it: see ``holding``)."""
        ...

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        """Open a hosting order for a number the customer owns elsewhere. Idempotent per
        number: while an order for it is open, that order is returned."""
        ...

    def release(self, ref: str) -> None:
        """Give back a held number, or cancel a hosting order, by its ref. Idempotent:
        releasing what is no longer held succeeds."""
        ...

    def holding(self, phone_number: str) -> HeldNumber | None:
        """The status lookup: the account's holding of ``phone_number``, or None."""
        ...

    def held_numbers(self) -> Iterable[HeldNumber]:
        """Every number the account holds (for the reconcile sweep)."""
        ...

    def hosting_status(self, order_ref: str) -> HostingStatus:
        """Where a hosting order stands."""
        ...

    # Registration (US A2P 10DLC). Each create call is idempotent per ``reference``: asked
    # again with the same reference, the provider answers with the object it made the
    # first time (that is what makes the worker's steps exactly-once across crashes).

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        """Register the business described by ``brand`` (``smsCompliance.brand``)."""
        ...

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        """Register ``campaign`` (``smsCompliance.campaign``) under brand ``brand_ref``;
        RegistrationNotReadyError when the provider needs the brand approved first."""
        ...

    def update_campaign(
        self,
        campaign: Mapping[str, Any],
        *,
        ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        """Resubmit refused campaign ``ref`` in place with ``campaign`` (Twilio's campaign
        update ``POST …/Compliance/Usa2p/{Sid}``): the same object, reviewed again.
        ``reference`` names the attempt (asked again, the provider answers the same)."""
        ...

    def vet_brand(
        self,
        brand_ref: str,
        *,
        vetting_provider: VettingProvider,
        vetting_id: str | None,
        reference: str,
    ) -> VettingAnswer:
        """Ask for a vetting of brand ``brand_ref``: a Campaign Verify token
        (``campaign-verify``, the token as ``vetting_id``) or secondary vetting
        (``aegis``). Idempotent: a vetting of that provider already made is answered."""
        ...

    def register_number(
        self,
        phone_number: str,
        number_ref: str,
        *,
        campaign_ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        """Register a held number (``number_ref``) to campaign ``campaign_ref``."""
        ...

    def registration_status(self, level: Level, ref: str) -> RegistrationAnswer:
        """Where the registration object ``ref`` of ``level`` stands now (the poll)."""
        ...

    def close(self) -> None:
        """Free the adapter's connections."""
        ...


# --- webhooks: the facts a provider reports ---------------------------------------------


@dataclass(frozen=True)
class HostingCompleted:
    """A hosted (bring-your-own) number was verified and now sends and receives here."""

    phone_number: str
    order_ref: str
    number_ref: str


@dataclass(frozen=True)
class HostingFailed:
    """A hosting order failed (verification refused, carrier said no)."""

    phone_number: str
    order_ref: str
    reason: str


@dataclass(frozen=True)
class NumberLost:
    """The provider reclaimed, expired or released a number. ``ref`` (when the provider
    says) must match the connection's provider reference: a late event about an earlier
    holding of the same number must not hit the connection that holds it now."""

    phone_number: str
    ref: str | None
    reason: ReclaimReason


@dataclass(frozen=True)
class RegistrationChanged:
    """The brand/campaign registration status of a number changed at the provider.
    ``status`` is one of the domain's registration statuses; ``raw_status`` the provider's."""

    phone_number: str
    status: str
    raw_status: str | None
    reason: str | None
    registration_ref: str | None


@dataclass(frozen=True)
class RegistrationReported:
    """The provider reports a level of a registration it knows by ``ref`` (brand BN…,
    campaign CM…, a number's registration). ``status`` in the domain's words (None or
    unknown: recorded as ``pending`` beside ``raw_status``)."""

    level: Level
    ref: str
    status: str | None
    raw_status: str | None
    reasons: tuple[Mapping[str, Any], ...] = ()
    identity_status: str | None = None
    carriers: tuple[CarrierState, ...] | None = None
    throughput: Throughput | None = None


@dataclass(frozen=True)
class Unrecognised:
    """A correctly signed event the service does not act on (acknowledged, ignored)."""

    kind: str


ProviderFact = (
    HostingCompleted
    | HostingFailed
    | NumberLost
    | RegistrationChanged
    | RegistrationReported
    | Unrecognised
)


@dataclass(frozen=True)
class ProviderEvent:
    """One verified webhook delivery: the provider's id for it (stable across redeliveries),
    the fact it reports, and when the provider says it happened (None: not said), which
    orders registration reports delivered out of order."""

    provider: str
    event_id: str
    fact: ProviderFact
    occurred_at: datetime | None = None

    def __post_init__(self) -> None:
        """The text rule at the door: the id is an id (``check_id``: the key of its delivery
        mark), and no text of the fact holds what UTF-8 cannot encode (a lone surrogate
        from a JSON escape would fail the id derivations and the store: a 500). Refused as
        a malformed webhook (400), naming the field."""
        if self.occurred_at is not None and self.occurred_at.tzinfo is None:
            # A time without a zone is the provider's UTC (so that times compare).
            object.__setattr__(self, "occurred_at", self.occurred_at.replace(tzinfo=UTC))
        try:
            check_id(self.event_id, "id")
        except InvalidTextError as error:
            raise WebhookPayloadError(f"The event id is not valid: {error.message}") from None
        for name, value in vars(self.fact).items():
            if not _encodable(value):
                raise WebhookPayloadError(
                    f"The event's {name} holds text that is not valid Unicode."
                )


def _encodable(value: object) -> bool:
    """True if every string in ``value`` (nested in tuples, lists and mappings) is UTF-8."""
    if isinstance(value, str):
        return not any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, Mapping):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return all(_encodable(item) for item in value)
    return True


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook as received: the URL the provider addressed, headers with lower-case
    names, and the raw body (signatures cover the bytes, not a re-encoding)."""

    url: str
    headers: Mapping[str, str]
    body: bytes


class WebhookVerifier(Protocol):
    """Checks a provider's webhook signature and reads the fact it reports."""

    provider: str

    def verify(self, request: WebhookRequest) -> ProviderEvent:
        """The event of a correctly signed request. Raises WebhookRejectedError when the
        signature is missing, wrong or stale, WebhookPayloadError when a signed body cannot
        be read."""
        ...


class WebhookRejectedError(DomainError):
    """Raised when a webhook's signature is missing or does not verify: the request is not
    from the provider (or was altered)."""

    code = "webhook_signature_invalid"

    def __init__(self, message: str = "The webhook signature is missing or wrong.") -> None:
        super().__init__(message)


class WebhookStaleError(WebhookRejectedError):
    """Raised when a signed webhook's timestamp is outside the accepted window (a replay of
    an old delivery, or a sender whose clock is off)."""

    code = "webhook_timestamp_out_of_window"

    def __init__(self, tolerance_seconds: int) -> None:
        super().__init__(
            f"The webhook timestamp is more than {tolerance_seconds} seconds from now."
        )


# How far from now a signed webhook's timestamp may be (either way) before it is a replay.
DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300


def check_webhook_fresh(timestamp: float, *, now: float, tolerance_seconds: int) -> None:
    """The replay rule of timestamped webhook signatures: a delivery signed more than
    ``tolerance_seconds`` from ``now`` (before or after) is refused (WebhookStaleError)."""
    if abs(now - timestamp) > tolerance_seconds:
        raise WebhookStaleError(tolerance_seconds)


class WebhookPayloadError(DomainError):
    """Raised when a correctly signed webhook body cannot be read (not the documented
    shape): the provider's bug, answered 400 so that it shows on their side."""

    code = "webhook_payload_invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class UnknownProviderError(DomainError):
    """Raised when a webhook names a provider this deployment does not use."""

    code = "unknown_provider"

    def __init__(self) -> None:
        super().__init__("This deployment takes no webhooks from that provider.")
