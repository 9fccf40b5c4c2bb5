"""The SMS provider port: what the domain needs from Twilio-like providers, and the
provider's errors in domain terms. Adapters (sandbox, Twilio) implement the Protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain.errors import DomainError


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
    """A bring-your-own-number hosting order, finished later by a provider webhook."""

    provider: str
    ref: str


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


class ComplianceRestrictedError(ProviderError):
    """Raised when the provider needs what the account lacks for this country (a regulatory
    bundle, an address): ``reason`` says which."""

    code = "compliance_restricted"

    def __init__(self, reason: str) -> None:
        super().__init__(f"The provider restricts numbers here: {reason}", field="countryCode")
        self.reason = reason


class ProviderUnavailableError(ProviderError):
    """Raised when the provider cannot be reached or keeps failing; try again later."""

    code = "provider_unavailable"

    def __init__(self, retry_after_seconds: int = 5) -> None:
        super().__init__("The SMS provider is unavailable; try again shortly.")
        self.retry_after_seconds = retry_after_seconds


class NumberProvider(Protocol):
    """What the service asks of an SMS provider. Methods raise ProviderError subclasses."""

    name: str

    def search(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]: ...

    def purchase(self, country: str, phone_number: str) -> ProvisionedNumber: ...

    def start_hosting(self, country: str, phone_number: str) -> HostingOrder: ...

    def release(self, ref: str) -> None: ...
