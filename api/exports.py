"""File exports (the audit trail's ``format=ndjson|csv``) that no reader can use to starve the
service: a bounded number at once, per account and overall (429 problem+json with
``Retry-After`` beyond), each cut off when its client stops reading for
``send_timeout_seconds`` or when it runs past ``max_seconds``.

The rows are read in keyset chunks, each on a connection of the exports' own small pool
held only for that chunk's statement (``ReadModels.export_cursor``): a stalled download holds
no database connection and no transaction, only its slot here."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterable, Iterable, Mapping

import anyio
import structlog
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from api.problems import ProblemError

log = structlog.get_logger("api.exports")

# An export refused for lack of a slot is worth retrying after this long.
EXPORT_RETRY_AFTER_SECONDS = 30


class ExportSlots:
    """How many exports run at once: at most ``per_account`` of one account and ``total``
    in this process. Thread-safe; ``take`` answers 429 when either bound is reached."""

    def __init__(self, per_account: int, total: int) -> None:
        self.per_account = per_account
        self.total = total
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def running(self) -> int:
        with self._lock:
            return sum(self._running.values())

    def take(self, account_id: str) -> None:
        """Hold one slot for ``account_id`` (give it back with ``release``); ProblemError
        429 ``too_many_exports`` with ``Retry-After`` when none is free."""
        with self._lock:
            mine = self._running[account_id]
            if mine < self.per_account and sum(self._running.values()) < self.total:
                self._running[account_id] = mine + 1
                return
        whose = "this account" if mine >= self.per_account else "the service"
        raise ProblemError(
            429,
            "too_many_exports",
            "Too many exports",
            f"Too many exports are running for {whose}; retry after "
            f"{EXPORT_RETRY_AFTER_SECONDS} s, or page through the JSON answer.",
            headers={"Retry-After": str(EXPORT_RETRY_AFTER_SECONDS)},
        )

    def release(self, account_id: str) -> None:
        with self._lock:
            self._running[account_id] -= 1
            if self._running[account_id] <= 0:
                del self._running[account_id]


class ExportResponse(StreamingResponse):
    """A streamed file holding one of ``slots``' slots for ``account_id`` until it ends:
    completed, abandoned by its client, stalled for ``send_timeout_seconds`` (a client that
    stops reading fills the socket: each send waits, bounded) or past ``max_seconds``.
    A cut-off download ends without its last chunk, so the client sees it truncated
    (connection closed before the end of the chunked body), never a complete-looking file."""

    def __init__(
        self,
        content: Iterable[str | bytes] | AsyncIterable[str | bytes],
        *,
        slots: ExportSlots,
        account_id: str,
        send_timeout_seconds: float,
        max_seconds: float,
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self.slots = slots
        self.account_id = account_id
        self.send_timeout_seconds = send_timeout_seconds
        self.max_seconds = max_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def bounded_send(message: Message) -> None:
            with anyio.move_on_after(self.send_timeout_seconds) as waited:
                await send(message)
            if waited.cancelled_caught:
                raise ExportStalledError

        try:
            with anyio.move_on_after(self.max_seconds) as whole:
                await super().__call__(scope, receive, bounded_send)
            if whole.cancelled_caught:
                log.warning("export_cut_off", account_id=self.account_id, reason="deadline")
        except ExportStalledError:
            log.warning("export_cut_off", account_id=self.account_id, reason="stalled")
        finally:
            self.slots.release(self.account_id)


class ExportStalledError(Exception):
    """Raised when an export's client has read nothing for the send timeout."""
