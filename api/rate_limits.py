"""Per-account token buckets on the routes that cost money at the provider (number search
and connect): a refused request answers 429 problem+json with ``Retry-After``.

The buckets live in this process. With N API replicas an account can get up to N times the
configured rate; that is the accepted trade-off: a shared bucket in PostgreSQL would add a
database write (and a row lock every account's wizard contends on) to each search, and the
limit exists to bound provider spend, not to meter exactly. Set the per-replica rate to the
budget divided by the replica count."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from api.problems import ProblemError

# Buckets of accounts that have been idle long enough to be full again are dropped once the
# table grows past this, so a stream of distinct accounts cannot grow memory without bound.
MAX_BUCKETS = 10_000


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
            wait = math.ceil((1 - bucket.tokens) / self.rate)
        raise ProblemError(
            429,
            "rate_limited",
            "Too many requests",
            f"Too many {self.name} requests for this {self.subject}; retry after {wait} s.",
            headers={"Retry-After": str(wait)},
        )

    def _evict_full(self, now: float) -> None:
        if len(self._buckets) < MAX_BUCKETS:
            return
        refill = self.capacity / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[key]
