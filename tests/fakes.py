"""Fakes for unit tests. Each subclasses the real port."""

from __future__ import annotations

from domain.providers import (
    HostingOrder,
    NumberProvider,
    ProviderError,
    ProvisionedNumber,
)
from providers.sandbox import SandboxProvider


class FailingProvider(SandboxProvider, NumberProvider):
    """The sandbox, except that purchase and hosting raise ``error`` while it is set."""

    def __init__(self, error: ProviderError | None = None) -> None:
        super().__init__()
        self.error = error
        self.released: list[str] = []

    def purchase(self, country: str, phone_number: str) -> ProvisionedNumber:
        if self.error is not None:
            raise self.error
        return super().purchase(country, phone_number)

    def start_hosting(self, country: str, phone_number: str) -> HostingOrder:
        if self.error is not None:
            raise self.error
        return super().start_hosting(country, phone_number)

    def release(self, ref: str) -> None:
        self.released.append(ref)
        super().release(ref)
