"""The sandbox provider: an in-process, deterministic stand-in for Twilio, the default.

It offers fictional numbers (the 555-01XX range of each area code) and remembers what was
bought, so a number bought once is not sold again. Thread-safe: two buyers of one number,
one wins.
"""

from __future__ import annotations

import threading
from uuid import NAMESPACE_URL, uuid5

import phonenumbers

from domain.providers import (
    AvailableNumber,
    HostingOrder,
    NumberUnavailableError,
    ProvisionedNumber,
)

FICTIONAL_LINES = range(100, 200)  # 555-0100 … 555-0199: reserved for fiction in the NANP


class SandboxProvider:
    """A provider whose inventory is the fictional 555-01XX numbers of every area code."""

    name = "sandbox"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}  # ref → e164

    def search(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]:
        """Numbers not yet held, in a stable order."""
        if area_code is None:
            area_code = "415"
        dial = phonenumbers.country_code_for_region(country)
        with self._lock:
            held = set(self._held.values())
        found: list[AvailableNumber] = []
        for line in FICTIONAL_LINES:
            number = f"+{dial}{area_code}555{line:04d}"
            if number in held or (contains and contains not in number):
                continue
            found.append(
                AvailableNumber(
                    number,
                    country,
                    area_code,
                    None,
                    None,
                    {"sms": True, "mms": True, "voice": True},
                )
            )
            if len(found) == limit:
                break
        return found

    def purchase(self, country: str, phone_number: str) -> ProvisionedNumber:
        """Buy ``phone_number``; NumberUnavailableError if it is already held."""
        ref = self._ref("PN", phone_number)
        with self._lock:
            if ref in self._held:
                raise NumberUnavailableError()
            self._held[ref] = phone_number
        return ProvisionedNumber(self.name, ref)

    def start_hosting(self, country: str, phone_number: str) -> HostingOrder:
        """Accept a hosting order; the sandbox's webhooks finish it later."""
        return HostingOrder(self.name, self._ref("HR", phone_number))

    def release(self, ref: str) -> None:
        """Give a held number back (idempotent)."""
        with self._lock:
            self._held.pop(ref, None)

    def holds(self, phone_number: str) -> bool:
        """True while the sandbox account holds ``phone_number``."""
        with self._lock:
            return phone_number in self._held.values()

    @staticmethod
    def _ref(prefix: str, phone_number: str) -> str:
        return prefix + uuid5(NAMESPACE_URL, f"sandbox:{phone_number}").hex
