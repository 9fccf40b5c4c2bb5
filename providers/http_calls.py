"""The HTTP rule every provider adapter calls its provider by: retry only when it is safe,
remember outages, and raise the alarm when the provider refuses our credentials.

``SafeRetryingHttp.send``: timeouts, transport errors, 5xx and 429 are retried with
exponential backoff (jittered, honouring ``Retry-After``, capped at
``max_backoff_seconds``), then raised as ProviderUnavailableError; ``check_available`` then
refuses without a network call until the Retry-After has passed. GETs and DELETEs are always
retried; other methods only when the request surely did not take effect (it was never sent,
or 429), unless the caller says a repeat is harmless (``retry_ambiguous``). A 401 sets
``credentials_refused`` (for /readyz) until an answer accepts the credentials, and is logged
at most once a minute.

What differs between providers stays in their adapters (``providers.twilio.http``,
``providers.telnyx.http``): authentication, body encoding, error bodies, log event names.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from domain.providers import ProviderUnavailableError

CREDENTIALS_LOG_SECONDS = 60.0
# Methods whose repeat does no harm even when the first attempt took effect.
ALWAYS_RETRIED = frozenset({"GET", "DELETE"})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long one attempt may take, how many attempts a call makes, how long it waits
    between them, and how long an outage is assumed to last when the provider does not say
    (``Retry-After``)."""

    timeout_seconds: float = 10.0
    max_attempts: int = 3
    backoff_seconds: float = 0.25
    max_backoff_seconds: float = 4.0
    default_retry_after_seconds: int = 5

    def client_timeout(self) -> httpx.Timeout:
        """The httpx timeout of one attempt (connecting gets at most 3 seconds of it)."""
        return httpx.Timeout(self.timeout_seconds, connect=min(3.0, self.timeout_seconds))


class SafeRetryingHttp:
    """Sends requests with the retry rule; remembers outages and refusals of the
    credentials. Thread-safe (httpx.Client is; the memories are single assignments).

    A subclass names its logger and ``call_failed_event`` and says how a refusal of the
    credentials is logged (``log_credentials_refused``)."""

    log: structlog.stdlib.BoundLogger
    call_failed_event: str

    def __init__(
        self,
        policy: RetryPolicy,
        client: httpx.Client,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        """``sleep``, ``clock`` and ``jitter`` (for tests): the waits between attempts, the
        time, and the random share of a backoff (``time.sleep``, ``time.monotonic`` and a
        uniform 0.5 to 1.0 by default)."""
        self.policy = policy
        self.client = client
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self._jitter = jitter or (lambda: random.uniform(0.5, 1.0))  # noqa: S311
        self.unavailable_until = 0.0
        self._credentials_refused = False
        self._credentials_logged_at: float | None = None

    def check_available(self) -> None:
        """Raise ProviderUnavailableError while the last outage's Retry-After runs."""
        remaining = self.unavailable_until - self.clock()
        if remaining > 0:
            raise ProviderUnavailableError(math.ceil(remaining))

    @property
    def credentials_refused(self) -> bool:
        """True when the provider's last answer refused the credentials (until one accepts
        them)."""
        return self._credentials_refused

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        retry_ambiguous: bool = False,
    ) -> httpx.Response:
        """Send with retries. Returns any response below 500 other than 429; raises
        ProviderUnavailableError once the attempts are spent. GETs and DELETEs are always
        retried; other methods only when the request surely did not take effect (it was
        never sent, or 429), unless ``retry_ambiguous``."""
        policy = self.policy
        safe = method in ALWAYS_RETRIED or retry_ambiguous
        retry_after: int | None = None
        for attempt in range(1, policy.max_attempts + 1):
            outcome = "unreachable"
            try:
                response = self.client.request(method, url, params=params, data=data, json=json)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                sent = False
            except httpx.TransportError as error:  # read timeouts, dropped connections
                sent, outcome = True, type(error).__name__
            else:
                if response.status_code != 429 and response.status_code < 500:
                    self.unavailable_until = 0.0
                    self._note_credentials(response)
                    return response
                sent, outcome = response.status_code != 429, f"http_{response.status_code}"
                retry_after = retry_after_seconds(response)
            self.log.warning(
                self.call_failed_event, method=method, attempt=attempt, outcome=outcome
            )
            if attempt == policy.max_attempts or (sent and not safe):
                break
            delay = policy.backoff_seconds * 2 ** (attempt - 1) * self._jitter()
            if retry_after is not None:
                if retry_after > policy.max_backoff_seconds:
                    break  # longer than a caller should wait: tell them when instead
                delay = max(delay, retry_after)
            self.sleep(min(delay, policy.max_backoff_seconds))
        wait = retry_after or policy.default_retry_after_seconds
        self.unavailable_until = self.clock() + wait
        raise ProviderUnavailableError(wait)

    def close(self) -> None:
        self.client.close()

    def log_credentials_refused(self, response: httpx.Response) -> None:
        """Log a 401 (never with the secret); called at most once a minute."""
        raise NotImplementedError

    def _note_credentials(self, response: httpx.Response) -> None:
        if response.status_code != 401:
            self._credentials_refused = False
            return
        now = self.clock()
        self._credentials_refused = True
        last = self._credentials_logged_at
        if last is None or now - last >= CREDENTIALS_LOG_SECONDS:
            self._credentials_logged_at = now
            self.log_credentials_refused(response)


def retry_after_seconds(response: httpx.Response) -> int | None:
    """The response's ``Retry-After`` in whole seconds (None when absent or a date)."""
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None
