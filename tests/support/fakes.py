"""Fakes for tests. Each subclasses the real port (through the sandbox, a real adapter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from domain.providers import (
    HostingOrder,
    NumberProvider,
    ProviderError,
    ProviderUnavailableError,
    ProvisionedNumber,
    RegistrationAnswer,
)
from providers.sandbox import SandboxFailures, SandboxLedger, SandboxProvider


class FailingProvider(SandboxProvider, NumberProvider):
    """The sandbox, except that purchase and hosting raise ``error`` while it is set, and
    releases are remembered in ``released``."""

    def __init__(
        self,
        error: ProviderError | None = None,
        *,
        ledger: SandboxLedger | None = None,
        failures: SandboxFailures | None = None,
    ) -> None:
        super().__init__(ledger, failures)
        self.error = error
        self.released: list[str] = []

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        if self.error is not None:
            raise self.error
        return super().purchase(country, phone_number, reference=reference)

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        if self.error is not None:
            raise self.error
        return super().start_hosting(country, phone_number, reference=reference)

    def release(self, ref: str) -> None:
        self.released.append(ref)
        super().release(ref)


class SimulatedCrash(Exception):
    """The process dies at this point: nothing after it runs (no record, no compensation)."""


class CrashingProvider(SandboxProvider, NumberProvider):
    """The sandbox, except that the service "crashes" around the purchase while ``crash``
    is set: ``"before"`` the provider is asked (nothing bought), or ``"after"`` the provider
    bought the number but before the service could record it."""

    def __init__(
        self,
        crash: Literal["before", "after"] | None = "after",
        *,
        ledger: SandboxLedger | None = None,
    ) -> None:
        super().__init__(ledger)
        self.crash = crash

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        if self.crash == "before":
            raise SimulatedCrash
        bought = super().purchase(country, phone_number, reference=reference)
        if self.crash == "after":
            raise SimulatedCrash
        return bought


class FlakyRegistrationProvider(SandboxProvider, NumberProvider):
    """The sandbox, except that the next ``failures`` registration create calls raise
    ``error`` (default: the provider is unavailable), and every create call is counted in
    ``calls`` (including the failing ones)."""

    def __init__(self, failures: int = 0, error: ProviderError | None = None) -> None:
        super().__init__()
        self.failures_left = failures
        self.error = error or ProviderUnavailableError(1)
        self.calls: list[str] = []

    def _maybe_fail(self, step: str) -> None:
        self.calls.append(step)
        if self.failures_left > 0:
            self.failures_left -= 1
            raise self.error

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        self._maybe_fail("brand")
        return super().create_brand(brand, reference=reference)

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        self._maybe_fail("campaign")
        return super().create_campaign(campaign, brand_ref=brand_ref, reference=reference)
