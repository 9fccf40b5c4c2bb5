"""The sandbox provider: a deterministic stand-in for Twilio, and the default.

Inventory: for each supported country and area code, a fixed list of valid fictional
numbers (NANP: 555-0100…0199 of the area code; GB: Ofcom's drama ranges), offered in a
stable order minus what is held. A purchase accepts any valid number of the country that
is not held (tests buy unique numbers); a bought number is no longer offered, and of two
buyers of one number exactly one wins.

State (held numbers, hosting orders) lives in a ledger: in memory for unit tests, or in two
small PostgreSQL tables. The tables are the default whenever the service runs on PostgreSQL,
because the sandbox plays an *external* system: its state must survive an API restart, be
the same for every API process, the reconcile worker and the ``sms-channels sandbox`` CLI
(the worker polls it; the CLI reclaims numbers in it), and stay independent of the event
log, since a purchase the service crashed before recording must still be visible there.

Failures are configurable (``SandboxFailures``): restricted countries, area codes without
stock, and an outage. Webhooks are signed with HMAC-SHA256 (``X-Sandbox-Signature``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, LiteralString, Protocol

import httpx
import phonenumbers
from phonenumbers import geocoder
from psycopg import sql
from psycopg_pool import ConnectionPool

from domain.providers import (
    AvailableNumber,
    BadAreaCodeError,
    ComplianceRestrictedError,
    HeldNumber,
    HostingCompleted,
    HostingFailed,
    HostingOrder,
    HostingStatus,
    NumberLost,
    NumberUnavailableError,
    ProviderEvent,
    ProviderFact,
    ProviderUnavailableError,
    ProvisionedNumber,
    RegistrationAnswer,
    RegistrationChanged,
    RegistrationReported,
    Unrecognised,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookRequest,
    WebhookStaleError,
)
from domain.registration_levels import LEVELS, Level
from domain.sms_connections import REGISTRATION_STATUSES, ReclaimReason
from providers.sandbox_registrations import SCHEMA as REGISTRATION_SCHEMA
from providers.sandbox_registrations import (
    MemoryRegistrations,
    PostgresRegistrations,
    RegistrationLedger,
    SandboxRegistration,
    new_ref,
    now,
)

PROVIDER_NAME = "sandbox"
SIGNATURE_HEADER = "X-Sandbox-Signature"
DEFAULT_TOLERANCE_SECONDS = 300

FICTIONAL_LINES = range(100, 200)  # NANP 555-0100…0199 and Ofcom's …0100…0199 drama lines
_NANP = frozenset({"US", "CA"})
# Ofcom's numbers for drama: 020 7946 0xxx (London) and 01xx 496 0xxx (big cities).
_GB_EXCHANGES = {
    "20": "7946",
    **dict.fromkeys(("113", "114", "115", "116", "117", "118", "121", "131"), "496"),
    **dict.fromkeys(("141", "151", "161", "191"), "496"),
}
_DEFAULT_AREA_CODES = {"US": "415", "CA": "416", "GB": "20"}
_KEYPAD = {
    **dict.fromkeys("ABC", "2"),
    **dict.fromkeys("DEF", "3"),
    **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"),
    **dict.fromkeys("MNO", "6"),
    **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"),
    **dict.fromkeys("WXYZ", "9"),
}


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


# --- the ledger: the sandbox account's state --------------------------------------------

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

    def close(self) -> None: ...


class MemoryLedger:
    """The ledger in a dict, behind one lock: per process, forgotten on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._numbers: dict[str, HeldNumber] = {}
        self._orders: dict[str, SandboxOrder] = {}

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

    def close(self) -> None:
        return None


_SCHEMA: tuple[LiteralString, ...] = (
    """
    CREATE TABLE IF NOT EXISTS sandbox_numbers (
        phone_number text PRIMARY KEY,
        ref text NOT NULL UNIQUE,
        reference text,
        country text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
    )""",
    # Where the number's inbound messages go (INBOUND_SMS_WEBHOOK_URL when it was acquired).
    "ALTER TABLE sandbox_numbers ADD COLUMN IF NOT EXISTS inbound_url text",
    """
    CREATE TABLE IF NOT EXISTS sandbox_hosting_orders (
        ref text PRIMARY KEY,
        phone_number text NOT NULL,
        country text NOT NULL,
        reference text,
        state text NOT NULL,
        number_ref text,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    # At most one open order per number: what makes start_hosting idempotent across
    # processes.
    """
    CREATE UNIQUE INDEX IF NOT EXISTS sandbox_hosting_orders_open
        ON sandbox_hosting_orders (phone_number) WHERE state = 'pending'""",
)


LEDGER_POOL_TIMEOUT_SECONDS = 5.0


class PostgresLedger:
    """The ledger in two PostgreSQL tables: shared by every process on the database and
    kept across restarts. Uniqueness (one holder per number, one open order per number) is
    enforced by the tables' keys, so concurrent buyers in different processes cannot both
    win either."""

    def __init__(self, conninfo: str, *, max_size: int = 4) -> None:
        self._conninfo = conninfo
        self._max_size = max_size
        self._lock = threading.Lock()
        self._opened: ConnectionPool | None = None
        self._closed = False

    @property
    def _pool(self) -> ConnectionPool:
        """The pool, opened on first use: most processes that build the application (the
        projection workers, the relay) never call the provider, and should not hold
        connections or threads for it."""
        with self._lock:
            if self._closed:
                msg = "the sandbox ledger is closed"
                raise RuntimeError(msg)
            if self._opened is None:
                # Fail fast while the database is down (PoolTimeout → 503 after a few
                # seconds, not a 30 s hang) and never hand out a connection that a server
                # restart broke (checked on checkout).
                self._opened = ConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self._max_size,
                    open=True,
                    name="sandbox-ledger",
                    timeout=LEDGER_POOL_TIMEOUT_SECONDS,
                    check=ConnectionPool.check_connection,
                )
            return self._opened

    @staticmethod
    def create_tables(conninfo: str) -> None:
        """Create the tables (``sms-channels migrate``; not at every start-up, see the
        design notes on concurrent CREATE TABLE)."""
        import psycopg  # noqa: PLC0415 (only the migrate path)

        with psycopg.connect(conninfo, autocommit=True) as connection:
            for statement in (*_SCHEMA, *REGISTRATION_SCHEMA):
                connection.execute(statement)

    def pool(self) -> ConnectionPool:
        """The ledger's pool (the sandbox's registrations table shares it)."""
        return self._pool

    def acquire(self, number: HeldNumber, country: str) -> bool:
        with self._pool.connection() as connection:
            row = connection.execute(
                "INSERT INTO sandbox_numbers (phone_number, ref, reference, country, inbound_url)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (phone_number) DO NOTHING"
                " RETURNING 1",
                (number.phone_number, number.ref, number.reference, country, number.inbound_url),
            ).fetchone()
        return row is not None

    def drop(self, phone_number: str) -> HeldNumber | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                "DELETE FROM sandbox_numbers WHERE phone_number = %s"
                " RETURNING phone_number, ref, reference, inbound_url",
                (phone_number,),
            ).fetchone()
        return HeldNumber(*row) if row else None

    def drop_ref(self, ref: str) -> None:
        with self._pool.connection() as connection:
            connection.execute("DELETE FROM sandbox_numbers WHERE ref = %s", (ref,))

    def holding(self, phone_number: str) -> HeldNumber | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                "SELECT phone_number, ref, reference, inbound_url FROM sandbox_numbers"
                " WHERE phone_number = %s",
                (phone_number,),
            ).fetchone()
        return HeldNumber(*row) if row else None

    def held_among(self, phone_numbers: list[str]) -> set[str]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT phone_number FROM sandbox_numbers WHERE phone_number = ANY(%s)",
                (phone_numbers,),
            ).fetchall()
        return {row[0] for row in rows}

    def held(self) -> list[HeldNumber]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT phone_number, ref, reference, inbound_url FROM sandbox_numbers"
                " ORDER BY phone_number"
            ).fetchall()
        return [HeldNumber(*r) for r in rows]

    def open_order(self, order: SandboxOrder) -> SandboxOrder:
        with self._pool.connection() as connection:
            connection.execute(
                "INSERT INTO sandbox_hosting_orders"
                " (ref, phone_number, country, reference, state)"
                " VALUES (%s, %s, %s, %s, 'pending')"
                " ON CONFLICT (phone_number) WHERE state = 'pending' DO NOTHING",
                (order.ref, order.phone_number, order.country, order.reference),
            )
        pending = self.pending_order(order.phone_number)
        return pending or order

    def order(self, ref: str) -> SandboxOrder | None:
        return self._one_order("ref = %s", ref)

    def pending_order(self, phone_number: str) -> SandboxOrder | None:
        return self._one_order("phone_number = %s AND state = 'pending'", phone_number)

    def _one_order(self, condition: LiteralString, value: str) -> SandboxOrder | None:
        query = sql.SQL(
            "SELECT ref, phone_number, country, reference, state, number_ref, reason"
            " FROM sandbox_hosting_orders WHERE {}"
        ).format(sql.SQL(condition))
        with self._pool.connection() as connection:
            row = connection.execute(query, (value,)).fetchone()
        return SandboxOrder(*row) if row else None

    def finish_order(self, ref: str, state: OrderState, number: HeldNumber | None) -> bool:
        with self._pool.connection() as connection, connection.transaction():
            order = connection.execute(
                "SELECT country FROM sandbox_hosting_orders"
                " WHERE ref = %s AND state = 'pending' FOR UPDATE",
                (ref,),
            ).fetchone()
            if order is None:
                return False
            if number is not None:
                inserted = connection.execute(
                    "INSERT INTO sandbox_numbers"
                    " (phone_number, ref, reference, country, inbound_url)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (phone_number) DO NOTHING"
                    " RETURNING 1",
                    (
                        number.phone_number,
                        number.ref,
                        number.reference,
                        order[0],
                        number.inbound_url,
                    ),
                ).fetchone()
                if inserted is None:
                    return False
            connection.execute(
                "UPDATE sandbox_hosting_orders SET state = %s, number_ref = %s WHERE ref = %s",
                (state, number.ref if number else None, ref),
            )
        return True

    def fail_order(self, ref: str, reason: str) -> bool:
        with self._pool.connection() as connection:
            row = connection.execute(
                "UPDATE sandbox_hosting_orders SET state = 'failed', reason = %s"
                " WHERE ref = %s AND state = 'pending' RETURNING 1",
                (reason, ref),
            ).fetchone()
        return row is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._opened = self._opened, None
        if pool is not None:
            pool.close()


# --- the provider ------------------------------------------------------------------------


class SandboxError(ValueError):
    """Raised by the sandbox's own controls (the CLI's actions) when there is nothing to
    act on: no pending hosting order for the number, the number not held."""


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
        area = area_code or _DEFAULT_AREA_CODES.get(country)
        if area is None:
            return []  # no inventory in this country
        candidates = _inventory(country, area)
        if (country, area) in self.failures.sold_out:
            return []
        pattern = _contains_pattern(contains)
        matching = [n for n in candidates if pattern is None or pattern.search(n[1:])]
        held = self.ledger.held_among(matching) if matching else set()
        return [_offer(n, country, area) for n in matching if n not in held][:limit]

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        """Buy ``phone_number``: NumberUnavailableError if held (by anyone) or sold out,
        ComplianceRestrictedError in a restricted country."""
        self.check_available()
        self._check_unrestricted(country)
        if not _valid_for(phone_number, country) or self._sold_out(phone_number, country):
            raise NumberUnavailableError()
        number = HeldNumber(phone_number, _new_ref("PN"), reference, self.inbound_url)
        if not self.ledger.acquire(number, country):
            raise NumberUnavailableError()
        return ProvisionedNumber(self.name, number.ref)

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        """Open a hosting order (or return the open one for the number). A webhook from
        ``verify_hosting``/``fail_hosting`` or the reconcile poll finishes it."""
        self.check_available()
        self._check_unrestricted(country)
        if not _valid_for(phone_number, country):
            raise NumberUnavailableError()
        if self.ledger.holding(phone_number) is not None:
            raise NumberUnavailableError()  # already on the account: nothing to host
        order = self.ledger.open_order(
            SandboxOrder(_new_ref("HR"), phone_number, country, reference, "pending")
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
    ) -> list[SandboxWebhook]:
        """The provider decides the registration of ``phone_number``'s newest submission:
        one level, or every level (brand, campaign, number) when ``level`` is None. Returns
        one ``registration.level_changed`` event per level. SandboxError when the sandbox
        holds no registration of the number yet."""
        number = self.registrations.latest_number(phone_number)
        campaign = self.registrations.get(number.parent_ref or "") if number else None
        brand = self.registrations.get(campaign.parent_ref or "") if campaign else None
        if number is None or campaign is None or brand is None:
            raise SandboxError("the sandbox holds no registration of this number yet")
        chosen = {"brand": brand, "campaign": campaign, "number": number}
        events = []
        for name in [level] if level else list(LEVELS):
            self.registrations.set_status(chosen[name].ref, status, code, reason)
            decided = self.registrations.get(chosen[name].ref) or chosen[name]
            events.append(SandboxWebhook.new("registration.level_changed", _level_data(decided)))
        return events

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
        number = HeldNumber(phone_number, _new_ref("PN"), order.reference, self.inbound_url)
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
                "registrationRef": registration_ref or _new_ref("CM"),
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
            country == c and _area_code(phone_number) == area for c, area in self.failures.sold_out
        )


def _answer(found: SandboxRegistration) -> RegistrationAnswer:
    return RegistrationAnswer(
        ref=found.ref,
        status=found.status,
        raw_status=found.raw_status,
        reasons=_reasons(found),
        identity_status=_identity(found),
        service_ref=found.service_ref,
    )


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
    }


def _inventory(country: str, area: str) -> list[str]:
    """The fictional numbers of ``area`` in ``country``; BadAreaCodeError if the country has
    no such area code; empty for a country the sandbox does not stock."""
    if country in _NANP:
        if not re.fullmatch(r"[2-9][0-9]{2}", area):
            raise BadAreaCodeError()
        numbers = [f"+1{area}555{line:04d}" for line in FICTIONAL_LINES]
    elif country == "GB":
        exchange = _GB_EXCHANGES.get(area)
        if exchange is None:
            raise BadAreaCodeError()
        numbers = [f"+44{area}{exchange}{line:04d}" for line in FICTIONAL_LINES]
    else:
        return []
    valid = [n for n in numbers if _valid_for(n, country)]
    if not valid:
        raise BadAreaCodeError()  # e.g. a Canadian area code searched for in the US
    return valid


def _valid_for(phone_number: str, country: str) -> bool:
    try:
        parsed = phonenumbers.parse(phone_number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number_for_region(parsed, country)


def _area_code(phone_number: str) -> str | None:
    parsed = phonenumbers.parse(phone_number, None)
    length = phonenumbers.length_of_geographical_area_code(parsed)
    national = phonenumbers.national_significant_number(parsed)
    return national[:length] if length else None


def _offer(phone_number: str, country: str, area: str) -> AvailableNumber:
    described = geocoder.description_for_number(phonenumbers.parse(phone_number), "en")
    locality, _, region = described.partition(", ")
    return AvailableNumber(
        phone_number=phone_number,
        country=country,
        area_code=area,
        locality=locality or None,
        region=region or None,
        capabilities={"sms": True, "mms": country in _NANP, "voice": True},
    )


def _contains_pattern(contains: str | None) -> re.Pattern[str] | None:
    """Twilio's ``Contains`` as a regex over the digits: letters are their keypad digit,
    ``*`` any one digit."""
    if not contains:
        return None
    digits = "".join(_KEYPAD.get(c.upper(), c) for c in contains)
    return re.compile("".join("[0-9]" if c == "*" else re.escape(c) for c in digits))


def _new_ref(prefix: str) -> str:
    """A provider id shaped like Twilio's: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


# --- webhooks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxWebhook:
    """One sandbox event as delivered: ``{"id", "type", "createdAt", "data"}`` in JSON.
    The id is stable: a redelivery sends the same body (with a fresh signature)."""

    id: str
    type: str
    created_at: datetime
    data: Mapping[str, Any]

    @classmethod
    def new(cls, kind: str, data: Mapping[str, Any]) -> SandboxWebhook:
        return cls("evt_" + uuid.uuid4().hex, kind, datetime.now(UTC), dict(data))

    def body(self) -> bytes:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "createdAt": self.created_at.isoformat(),
                "data": dict(self.data),
            },
            separators=(",", ":"),
        ).encode()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Sandbox-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of
    "<t>." + body under the secret>``. The timestamp is inside the MAC, so it cannot be
    moved to replay an old delivery past the window."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


class SandboxWebhookVerifier:
    """Verifies ``X-Sandbox-Signature`` and reads the event.

    Accepts any ``v1`` entry that matches (several during a secret rotation), refuses a
    timestamp more than ``tolerance_seconds`` from now (replays), and refuses everything
    when no secret is configured (fail closed)."""

    provider = PROVIDER_NAME

    def __init__(
        self,
        secret: str | None,
        *,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._tolerance = tolerance_seconds
        self._clock = clock

    def verify(self, request: WebhookRequest) -> ProviderEvent:
        timestamp = self._check_signature(request)
        if abs(self._clock() - timestamp) > self._tolerance:
            raise WebhookStaleError(self._tolerance)
        return _read_event(request.body)

    def _check_signature(self, request: WebhookRequest) -> int:
        if not self._secret:
            raise WebhookRejectedError("Sandbox webhooks are not configured here.")
        header = request.headers.get(SIGNATURE_HEADER.lower())
        if not header:
            raise WebhookRejectedError(f"The {SIGNATURE_HEADER} header is missing.")
        timestamp: int | None = None
        macs: list[str] = []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
                timestamp = int(value)
            elif key == "v1":
                macs.append(value)
        if timestamp is None or not macs:
            raise WebhookRejectedError(f"The {SIGNATURE_HEADER} header is malformed.")
        expected = _mac(self._secret, request.body, timestamp)
        # Bytes, not str: compare_digest refuses non-ASCII str (a TypeError, not a 403).
        if not any(hmac.compare_digest(expected.encode(), mac.encode()) for mac in macs):
            raise WebhookRejectedError()
        return timestamp


def _read_event(body: bytes) -> ProviderEvent:
    try:
        document = json.loads(body)
        event_id, kind, data = document["id"], document["type"], document["data"]
        if not isinstance(event_id, str) or not event_id or not isinstance(kind, str):
            raise TypeError
        occurred_at = _instant(document.get("createdAt"))
        fact = _fact(kind, data)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise WebhookPayloadError("The sandbox event is not in the documented shape.") from None
    return ProviderEvent(PROVIDER_NAME, event_id, fact, occurred_at)


def _fact(kind: str, data: Mapping[str, Any]) -> ProviderFact:
    text = _text(data)
    if kind == "hosted_number.verified":
        return HostingCompleted(text("phoneNumber"), text("orderRef"), text("numberRef"))
    if kind == "hosted_number.failed":
        return HostingFailed(text("phoneNumber"), text("orderRef"), text("reason"))
    if kind in ("number.reclaimed", "number.expired", "number.released"):
        reason: ReclaimReason = kind.removeprefix("number.")  # type: ignore[assignment]
        return NumberLost(text("phoneNumber"), data.get("numberRef"), reason)
    if kind == "registration.status_changed":
        status = text("status")
        if status not in REGISTRATION_STATUSES:
            raise ValueError(status)
        return RegistrationChanged(
            text("phoneNumber"),
            status,
            data.get("rawStatus"),
            data.get("reason"),
            data.get("registrationRef"),
        )
    if kind == "registration.level_changed":
        return _level_fact(data)
    return Unrecognised(kind)


def _level_fact(data: Mapping[str, Any]) -> RegistrationReported:
    """A ``registration.level_changed`` event; the status is passed on as reported (an
    unknown one is recorded raw and counted as pending by the domain)."""
    text = _text(data)
    level = text("level")
    if level not in LEVELS:
        raise ValueError(level)
    reasons = data.get("reasons") or []
    if not isinstance(reasons, list) or not all(isinstance(r, dict) for r in reasons):
        raise TypeError("reasons")
    raw, identity = data.get("rawStatus"), data.get("identityStatus")
    return RegistrationReported(
        level,
        text("ref"),
        text("status"),
        raw if isinstance(raw, str) else None,
        tuple(reasons),
        identity if isinstance(identity, str) else None,
    )


def _text(data: Mapping[str, Any]) -> Callable[[str], str]:
    def read(key: str) -> str:
        value = data[key]
        if not isinstance(value, str) or not value:
            raise TypeError(key)
        return value

    return read


def _instant(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


class SandboxWebhookSender:
    """Delivers sandbox events to a service's ``POST /providers/sandbox/webhooks``,
    signed with the shared secret at the time of sending."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = base_url.rstrip("/") + f"/providers/{PROVIDER_NAME}/webhooks"
        self._secret = secret
        self._client = client or httpx.Client(timeout=10)
        self._clock = clock

    def send(self, event: SandboxWebhook) -> httpx.Response:
        """POST the event once; the service's answer (200 with the outcome)."""
        body = event.body()
        signature = sign(self._secret, body, int(self._clock()))
        return self._client.post(
            self._url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )

    def close(self) -> None:
        self._client.close()
