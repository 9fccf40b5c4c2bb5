"""The sandbox account's state (held numbers, hosting orders): the ledger port and its
in-memory implementation (unit tests). Every method is atomic."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal, Protocol

from domain.providers import (
    HeldNumber,
)

OrderState = Literal["pending", "completed", "failed", "cancelled"]


@dataclass(frozen=True)
class SandboxOrder:
    """A hosting order in the sandbox account."""

    ref: str
    phone_number: str
    country: str
    reference: str | None
    state: OrderState
    number_ref: str | None = None
    reason: str | None = None


class SandboxLedger(Protocol):
    """The sandbox account's numbers and hosting orders. Every method is atomic."""

    def acquire(self, number: HeldNumber, country: str) -> bool:
        """Hold ``number``; False (and nothing changes) if the number is already held."""
        ...

    def drop(self, phone_number: str) -> HeldNumber | None:
        """Stop holding ``phone_number``; what was held, or None."""
        ...

    def drop_ref(self, ref: str) -> None:
        """Stop holding the number with ``ref`` (if held)."""
        ...

    def holding(self, phone_number: str) -> HeldNumber | None: ...

    def held_among(self, phone_numbers: list[str]) -> set[str]:
        """Which of ``phone_numbers`` are held."""
        ...

    def held(self) -> list[HeldNumber]: ...

    def open_order(self, order: SandboxOrder) -> SandboxOrder:
        """Store a pending order, unless one is pending for the number: then that one."""
        ...

    def order(self, ref: str) -> SandboxOrder | None: ...

    def pending_order(self, phone_number: str) -> SandboxOrder | None: ...

    def finish_order(self, ref: str, state: OrderState, number: HeldNumber | None) -> bool:
        """Move a pending order to ``state`` (acquiring ``number`` when given, in the same
        step); False if the order is not pending or the number is held already."""
        ...

    def fail_order(self, ref: str, reason: str) -> bool:
        """Move a pending order to ``failed`` with ``reason``; False if it is not pending."""
        ...

    def arm_fault(self, operation: str, times: int) -> None:
        """Make the next ``times`` calls of ``operation`` (``purchase``) fail as an outage
        after the provider took them (a purchase that may have happened)."""
        ...

    def take_fault(self, operation: str) -> bool:
        """Use up one armed fault of ``operation``: True when this call must fail."""
        ...

    def close(self) -> None: ...


class MemoryLedger:
    """The ledger in a dict, behind one lock: per process, forgotten on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._numbers: dict[str, HeldNumber] = {}
        self._orders: dict[str, SandboxOrder] = {}
        self._faults: dict[str, int] = {}

    def acquire(self, number: HeldNumber, country: str) -> bool:
        with self._lock:
            return self._acquire(number)

    def _acquire(self, number: HeldNumber) -> bool:
        if number.phone_number in self._numbers:
            return False
        self._numbers[number.phone_number] = number
        return True

    def drop(self, phone_number: str) -> HeldNumber | None:
        with self._lock:
            return self._numbers.pop(phone_number, None)

    def drop_ref(self, ref: str) -> None:
        with self._lock:
            for phone_number, number in list(self._numbers.items()):
                if number.ref == ref:
                    del self._numbers[phone_number]

    def holding(self, phone_number: str) -> HeldNumber | None:
        with self._lock:
            return self._numbers.get(phone_number)

    def held_among(self, phone_numbers: list[str]) -> set[str]:
        with self._lock:
            return {n for n in phone_numbers if n in self._numbers}

    def held(self) -> list[HeldNumber]:
        with self._lock:
            return list(self._numbers.values())

    def open_order(self, order: SandboxOrder) -> SandboxOrder:
        with self._lock:
            existing = self._pending(order.phone_number)
            if existing is not None:
                return existing
            self._orders[order.ref] = order
            return order

    def order(self, ref: str) -> SandboxOrder | None:
        with self._lock:
            return self._orders.get(ref)

    def pending_order(self, phone_number: str) -> SandboxOrder | None:
        with self._lock:
            return self._pending(phone_number)

    def _pending(self, phone_number: str) -> SandboxOrder | None:
        return next(
            (
                o
                for o in self._orders.values()
                if o.phone_number == phone_number and o.state == "pending"
            ),
            None,
        )

    def finish_order(self, ref: str, state: OrderState, number: HeldNumber | None) -> bool:
        with self._lock:
            order = self._orders.get(ref)
            if order is None or order.state != "pending":
                return False
            if number is not None and not self._acquire(number):
                return False
            self._orders[ref] = SandboxOrder(
                order.ref,
                order.phone_number,
                order.country,
                order.reference,
                state,
                number.ref if number else None,
                None,
            )
            return True

    def fail_order(self, ref: str, reason: str) -> bool:
        with self._lock:
            order = self._orders.get(ref)
            if order is None or order.state != "pending":
                return False
            self._orders[ref] = SandboxOrder(
                order.ref,
                order.phone_number,
                order.country,
                order.reference,
                "failed",
                None,
                reason,
            )
            return True

    def arm_fault(self, operation: str, times: int) -> None:
        with self._lock:
            self._faults[operation] = times

    def take_fault(self, operation: str) -> bool:
        with self._lock:
            left = self._faults.get(operation, 0)
            if left <= 0:
                return False
            self._faults[operation] = left - 1
            return True

    def close(self) -> None:
        return None
