"""Token buckets: per account on the routes that cost money at the provider or lengthen a
connection's history (search, connect, settings, compliance), per source address on the
provider webhooks. A refused request answers 429 problem+json with ``Retry-After``.

Two kinds, one rule (``per_minute`` tokens, bursts of up to ``per_minute``, 0 = off):

- ``SharedTokenBucket``: a row per (bucket, key) in PostgreSQL, refilled and spent by one
  ``INSERT … ON CONFLICT DO UPDATE`` on the control pool, with the refill computed by the
  server from its own clock. The row lock serialises takes of one key only (other accounts
  never wait on it), so the limit holds across any number of API replicas: three replicas
  allow the configured rate, not three times it. What every PostgreSQL deployment uses.
- ``TokenBucket``: the same rule in this process's memory, for ``PERSISTENCE=memory``
  (tests, one process); it would allow N times the rate behind N replicas."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from psycopg import sql

from api.problems import ProblemError
from sms_channels.shared_tables import create_shared_table

if TYPE_CHECKING:
    from api.query_pool import ReadModels

# Buckets of accounts that have been idle long enough to be full again are dropped once the
# table grows past this, so a stream of distinct accounts cannot grow memory without bound.
MAX_BUCKETS = 10_000


class RateLimit(Protocol):
    """What the routes spend: ``take(key)`` or ProblemError 429."""

    name: str

    def take(self, key: str) -> None: ...


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucket:
    """``per_minute`` requests per key per minute, with bursts of up to ``per_minute``.
    ``per_minute == 0`` turns the limit off. Thread-safe (sync routes run in a pool)."""

    def __init__(
        self,
        name: str,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        subject: str = "account",
    ) -> None:
        self.name = name
        self.subject = subject
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket; ProblemError 429 when it is empty."""
        if self.capacity == 0:
            return
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                self._evict_full(now)
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            tokens = bucket.tokens
        raise refused(self.name, self.subject, tokens, self.rate)

    def give_back(self, key: str) -> None:
        """Return the token a ``take`` of ``key`` spent (the shared bucket refused it)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(self.capacity, bucket.tokens + 1)

    def _evict_full(self, now: float) -> None:
        if len(self._buckets) < MAX_BUCKETS:
            return
        refill = self.capacity / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[key]


def refused(name: str, subject: str, tokens: float, rate: float) -> ProblemError:
    """The 429 of a bucket holding ``tokens`` (< 1) refilled at ``rate`` per second:
    ``Retry-After`` is when the next whole token is there."""
    wait = max(1, math.ceil((1 - tokens) / rate))
    return ProblemError(
        429,
        "rate_limited",
        "Too many requests",
        f"Too many {name} requests for this {subject}; retry after {wait} s.",
        headers={"Retry-After": str(wait)},
    )


TABLE = "http_rate_buckets"
_CREATE = (
    "CREATE TABLE IF NOT EXISTS {} (bucket text NOT NULL, key text NOT NULL,"
    " tokens double precision NOT NULL, granted boolean NOT NULL,"
    " updated_at timestamptz NOT NULL, PRIMARY KEY (bucket, key))"
)
# One statement, atomic under concurrency (ON CONFLICT DO UPDATE locks the key's row and
# re-reads it): refill by the time since the last take, capped at the capacity, then
# spend a token if there is a whole one. ``granted`` tells the caller which it was.
# ``%(now)s`` is NULL (the server's clock, shared by every replica) except in tests.
_REFILLED = (
    "least(%(capacity)s, b.tokens + greatest(0, extract(epoch FROM"
    " (coalesce(%(now)s, now()) - b.updated_at))) * %(rate)s)"
)
_TAKE = (
    "INSERT INTO {t} AS b (bucket, key, tokens, granted, updated_at)"
    " VALUES (%(bucket)s, %(key)s, %(capacity)s - 1, true, coalesce(%(now)s, now()))"
    " ON CONFLICT (bucket, key) DO UPDATE SET"
    " tokens = CASE WHEN {r} >= 1 THEN {r} - 1 ELSE {r} END,"
    " granted = {r} >= 1, updated_at = coalesce(%(now)s, now())"
    " RETURNING granted, tokens"
)
# A row idle for a whole refill is full again: the same as no row. Dropped now and then,
# so that a stream of distinct keys (webhook source addresses) cannot grow the table.
_SWEEP = (
    "DELETE FROM {t} WHERE bucket = %(bucket)s"
    " AND updated_at < coalesce(%(now)s, now()) - make_interval(secs => %(refill)s)"
)
SWEEP_EVERY_SECONDS = 60.0


class SharedTokenBucket:
    """``per_minute`` requests per key per minute across every API process on the database
    (``read_models``' control pool). ``clock``: for tests only (default: the server's).

    A bucket of the same rate in this process's memory answers first: what it refuses,
    the shared one would refuse too (every token this process spent was also spent there),
    so a flood from one key (an address hammering the webhooks, one account) costs the
    database at most ``per_minute`` statements a minute per process, and the control pool
    that readiness and the idempotency markers share stays free. A token the shared bucket
    refuses is given back to the local one."""

    def __init__(
        self,
        name: str,
        per_minute: int,
        read_models: ReadModels,
        *,
        bucket: str,
        subject: str = "account",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.name = name
        self.bucket = bucket
        self.subject = subject
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.read_models = read_models
        self._clock = clock
        self._local = TokenBucket(
            name,
            per_minute,
            (lambda: clock().timestamp()) if clock else time.monotonic,
            subject=subject,
        )
        self._created = False
        self._next_sweep = 0.0
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket; ProblemError 429 when it is empty. The
        database away raises its error (503 ``service_unavailable``, as for any write)."""
        if self.capacity == 0:
            return
        self._local.take(key)  # refused here: refused there, without a statement
        values: dict[str, Any] = {
            "bucket": self.bucket,
            "key": key,
            "capacity": self.capacity,
            "rate": self.rate,
            "now": self._clock() if self._clock else None,
        }
        with self.read_models.control_cursor() as cursor:
            table = self._table(cursor)
            statement = sql.SQL(_TAKE).format(t=table, r=sql.SQL(_REFILLED))
            row = cursor.execute(statement, values).fetchone()
            self._sweep(cursor, table, values)
        assert row is not None
        granted, tokens = row
        if not granted:
            self._local.give_back(key)
            raise refused(self.name, self.subject, float(tokens), self.rate)

    def _table(self, cursor: Any) -> sql.Identifier:
        with self._lock:
            if not self._created:
                create_bucket_table(cursor)
                self._created = True
        return sql.Identifier(TABLE)

    def _sweep(self, cursor: Any, table: sql.Identifier, values: dict[str, Any]) -> None:
        with self._lock:
            now = time.monotonic()
            if now < self._next_sweep:
                return
            self._next_sweep = now + SWEEP_EVERY_SECONDS
        refill = self.capacity / self.rate
        cursor.execute(sql.SQL(_SWEEP).format(t=table), {**values, "refill": refill})


def create_bucket_table(cursor: Any) -> None:
    """The buckets' table (idempotent; two API processes may race to create it)."""
    create_shared_table(cursor, sql.SQL(_CREATE).format(sql.Identifier(TABLE)))
