"""The sandbox provider's 10DLC registrations: brands (``BN…``), campaigns (``CM…``, each
with its messaging service ``MG…``) and numbers registered to a campaign's service
(``MG…/PN…``), as the provider keeps them.

Each object is created at most once per ``reference`` (the caller's idempotency key): a
second create with the same reference answers the first object. That is the property the
registration worker relies on, and what ``count`` lets a test check. A new object is
``pending`` until told otherwise (``decide``), as a carrier review is; with ``auto_approve``
seconds set, a poll after that long finds it approved (``SANDBOX_REGISTRATION_AUTO``).

State lives in memory (unit tests) or in one PostgreSQL table beside the sandbox ledger's,
shared by every process on the database.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, LiteralString, Protocol

from psycopg.types.json import Jsonb

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

# The raw statuses the sandbox reports per level, shaped like Twilio's.
RAW_STATUSES: dict[str, dict[str, str]] = {
    "brand": {
        "pending": "IN_REVIEW",
        "approved": "APPROVED",
        "rejected": "FAILED",
        "suspended": "SUSPENDED",
        "expired": "DELETED",
        "action_required": "PENDING",
    },
    "campaign": {
        "pending": "IN_PROGRESS",
        "approved": "VERIFIED",
        "rejected": "FAILED",
        "suspended": "SUSPENDED",
        "expired": "EXPIRED",
        "action_required": "IN_PROGRESS",
    },
    "vetting": {"pending": "PENDING", "approved": "SUCCESS", "rejected": "FAILED"},
    "number": {
        "pending": "PENDING",
        "approved": "REGISTERED",
        "rejected": "FAILED",
        "suspended": "SUSPENDED",
        "expired": "EXPIRED",
        "action_required": "PENDING",
    },
}


@dataclass(frozen=True)
class SandboxRegistration:
    """One registration object in the sandbox account."""

    ref: str
    level: str
    reference: str
    parent_ref: str | None  # the brand of a campaign, the campaign of a number
    phone_number: str | None  # number level only
    service_ref: str | None  # campaign level: the messaging service numbers join
    status: str
    code: str | None = None
    reason: str | None = None
    created_at: float = 0.0
    # What each carrier decided ({carrier: {"status", "code", "reason"}}; None: the
    # sandbox reports no per-carrier state for the object until a carrier is decided).
    carriers: dict[str, Any] | None = None
    # The throughput the sandbox reports (camelCase keys of ``domain.carriers``).
    throughput: dict[str, Any] | None = None
    # How many times the object was updated in place (a campaign's resubmission).
    updates: int = 0

    @property
    def raw_status(self) -> str:
        return RAW_STATUSES[self.level].get(self.status, self.status.upper())


class RegistrationLedger(Protocol):
    """The sandbox account's registration objects. Every method is atomic."""

    def create(self, candidate: SandboxRegistration) -> SandboxRegistration:
        """Store ``candidate`` unless an object with its reference exists: then that one."""
        ...

    def get(self, ref: str) -> SandboxRegistration | None: ...

    def latest_number(self, phone_number: str) -> SandboxRegistration | None:
        """The newest number-level registration of ``phone_number``."""
        ...

    def set_status(self, ref: str, status: str, code: str | None, reason: str | None) -> None: ...

    def set_extra(
        self,
        ref: str,
        *,
        carriers: dict[str, Any] | None = None,
        throughput: dict[str, Any] | None = None,
        updated: bool = False,
    ) -> None:
        """Replace the object's carriers or throughput (those given); ``updated``: count
        one in-place update."""
        ...

    def count(self, level: str) -> int:
        """How many objects of ``level`` exist (a test's exactly-once check)."""
        ...


class MemoryRegistrations:
    """The registrations in a dict (per process)."""

    def __init__(self) -> None:
        self._by_ref: dict[str, SandboxRegistration] = {}

    def create(self, candidate: SandboxRegistration) -> SandboxRegistration:
        existing = next(
            (r for r in self._by_ref.values() if r.reference == candidate.reference), None
        )
        if existing is not None:
            return existing
        self._by_ref[candidate.ref] = candidate
        return candidate

    def get(self, ref: str) -> SandboxRegistration | None:
        return self._by_ref.get(ref)

    def latest_number(self, phone_number: str) -> SandboxRegistration | None:
        numbers = [
            r
            for r in self._by_ref.values()
            if r.level == "number" and r.phone_number == phone_number
        ]
        return max(numbers, key=lambda r: r.created_at, default=None)

    def set_status(self, ref: str, status: str, code: str | None, reason: str | None) -> None:
        if ref in self._by_ref:
            self._by_ref[ref] = replace(self._by_ref[ref], status=status, code=code, reason=reason)

    def count(self, level: str) -> int:
        return sum(1 for r in self._by_ref.values() if r.level == level)

    def set_extra(
        self,
        ref: str,
        *,
        carriers: dict[str, Any] | None = None,
        throughput: dict[str, Any] | None = None,
        updated: bool = False,
    ) -> None:
        found = self._by_ref.get(ref)
        if found is None:
            return
        self._by_ref[ref] = replace(
            found,
            carriers=found.carriers if carriers is None else carriers,
            throughput=found.throughput if throughput is None else throughput,
            updates=found.updates + int(updated),
        )


SCHEMA: tuple[LiteralString, ...] = (
    """
    CREATE TABLE IF NOT EXISTS sandbox_registrations (
        ref text PRIMARY KEY,
        level text NOT NULL,
        reference text NOT NULL UNIQUE,
        parent_ref text,
        phone_number text,
        service_ref text,
        status text NOT NULL,
        code text,
        reason text,
        created_at double precision NOT NULL
    )""",
    # Issue 31: per-carrier decisions, throughput, in-place updates.
    "ALTER TABLE sandbox_registrations ADD COLUMN IF NOT EXISTS carriers jsonb",
    "ALTER TABLE sandbox_registrations ADD COLUMN IF NOT EXISTS throughput jsonb",
    "ALTER TABLE sandbox_registrations ADD COLUMN IF NOT EXISTS updates integer NOT NULL DEFAULT 0",
)
_COLUMNS = (
    "ref, level, reference, parent_ref, phone_number, service_ref, status, code, reason,"
    " created_at, carriers, throughput, updates"
)


class PostgresRegistrations:
    """The registrations in ``sandbox_registrations`` (reference unique: a concurrent
    second create answers the first object)."""

    def __init__(self, pool: Callable[[], ConnectionPool]) -> None:
        self._pool = pool

    def create(self, candidate: SandboxRegistration) -> SandboxRegistration:
        c = candidate
        with self._pool().connection() as connection:
            connection.execute(
                f"INSERT INTO sandbox_registrations ({_COLUMNS})"  # noqa: S608 (constant)
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (c.ref, c.level, c.reference, c.parent_ref, c.phone_number, c.service_ref,
                 c.status, c.code, c.reason, c.created_at, _json(c.carriers),
                 _json(c.throughput), c.updates),
            )  # fmt: skip
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM sandbox_registrations WHERE reference = %s",  # noqa: S608
                (c.reference,),
            ).fetchone()
        return SandboxRegistration(*row) if row else candidate

    def get(self, ref: str) -> SandboxRegistration | None:
        with self._pool().connection() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM sandbox_registrations WHERE ref = %s",  # noqa: S608
                (ref,),
            ).fetchone()
        return SandboxRegistration(*row) if row else None

    def latest_number(self, phone_number: str) -> SandboxRegistration | None:
        with self._pool().connection() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM sandbox_registrations"  # noqa: S608
                " WHERE level = 'number' AND phone_number = %s"
                " ORDER BY created_at DESC LIMIT 1",
                (phone_number,),
            ).fetchone()
        return SandboxRegistration(*row) if row else None

    def set_status(self, ref: str, status: str, code: str | None, reason: str | None) -> None:
        with self._pool().connection() as connection:
            connection.execute(
                "UPDATE sandbox_registrations SET status = %s, code = %s, reason = %s"
                " WHERE ref = %s",
                (status, code, reason, ref),
            )

    def set_extra(
        self,
        ref: str,
        *,
        carriers: dict[str, Any] | None = None,
        throughput: dict[str, Any] | None = None,
        updated: bool = False,
    ) -> None:
        with self._pool().connection() as connection:
            connection.execute(
                "UPDATE sandbox_registrations SET carriers = coalesce(%s, carriers),"
                " throughput = coalesce(%s, throughput), updates = updates + %s"
                " WHERE ref = %s",
                (_json(carriers), _json(throughput), int(updated), ref),
            )

    def count(self, level: str) -> int:
        with self._pool().connection() as connection:
            row = connection.execute(
                "SELECT count(*) FROM sandbox_registrations WHERE level = %s", (level,)
            ).fetchone()
        return int(row[0]) if row else 0


def _json(value: dict[str, Any] | None) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def new_ref(prefix: str) -> str:
    """A provider id shaped like Twilio's: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def now() -> float:
    return time.time()
