"""Idempotent replays answer the first result, for every write that carries an
``Idempotency-Key`` (routes added later included).

The first 2xx answer to a request (method, path, query and body, and the caller's user,
permissions and workspaces: its fingerprint) with a key is stored with the caller's
account and the key: status, body, and the ``Location``,
``ETag`` and ``Content-Type`` headers. The same request with the same key within
``RETENTION_HOURS`` is answered from the store (``Idempotent-Replayed: true``), whatever
happened since: a replay after a PATCH does not answer the newer version, a replay after a
DELETE still answers the first 201. A different request with the same key is not replayed:
the route decides (``idempotency_key_reused``, or a new result in another workspace).
Refusals (4xx) and failures (5xx, e.g. a provider outage mid-purchase) are not stored, so a
retry runs again and can resume. An answer marked ``Cache-Control: no-store`` (it holds
compliance values, which are secrets) is never stored.

In flight: before the route runs, a marker for (account, key) is inserted if absent, in
PostgreSQL (table ``http_idempotent_requests``), so it holds across API replicas. A request
with the same key that arrives while the marker is held (a retry racing the first, on any
replica) is not executed: it gets the first answer if it was stored meanwhile, else 409
``idempotency_request_in_progress`` with ``Retry-After``. The marker is dropped once the
answer is stored, in the same statement (or once refused/failed, so a retry runs again); a
marker left by a crashed process expires after ``IN_FLIGHT_LEASE_SECONDS`` (a lease), after
which a retry runs. Two round trips per keyed write (``ResponseStore``): ``begin`` looks for
the answer and takes the marker if there is none, then looks again once the marker is
settled (a first request ending at that moment is found answered, never run twice);
``finish`` keeps the answer and drops the marker at once. A
marker this process could not drop (the database was away when its request ended) is
dropped by the next request with that key on this process, which then runs: a retry after
an outage is not held off for the lease; on another replica it waits for the lease.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID, uuid4

import anyio
import orjson
import structlog
from psycopg import sql
from psycopg.types.json import Jsonb
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Principal, TokenVerifier
from api.errors import DATABASE_UNAVAILABLE, database_unavailable
from api.preconditions import idempotency_key
from api.problems import ProblemError, problem_response
from api.query_pool import ReadModels
from sms_channels.shared_tables import create_shared_table

log = structlog.get_logger("api.idempotency")

RETENTION_HOURS = 24
TABLE = "http_idempotent_responses"
IN_FLIGHT_TABLE = "http_idempotent_requests"
# A request holds its key this long at most: longer than any write takes (provider calls
# are bounded well below it), short enough that a crashed request's key is usable again.
IN_FLIGHT_LEASE_SECONDS = 120
IN_PROGRESS_RETRY_AFTER_SECONDS = 1
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEPT_HEADERS = ("content-type", "location", "etag")
_CREATE = (
    "CREATE TABLE IF NOT EXISTS {} (account_id text NOT NULL, idempotency_key text NOT NULL,"
    " fingerprint text NOT NULL, status integer NOT NULL, headers jsonb NOT NULL,"
    " body bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (account_id, idempotency_key, fingerprint))"
)
_KEPT = (
    "SELECT status, headers, body FROM {answers} WHERE account_id = %(account)s"
    " AND idempotency_key = %(key)s AND fingerprint = %(fingerprint)s"
    " AND created_at > now() - make_interval(hours => %(hours)s)"
)
_CREATE_IN_FLIGHT = (
    "CREATE TABLE IF NOT EXISTS {} (account_id text NOT NULL, idempotency_key text NOT NULL,"
    " holder uuid NOT NULL, lease_until timestamptz NOT NULL,"
    " PRIMARY KEY (account_id, idempotency_key))"
)
# The answer kept (as ``_KEPT``), if any; else the marker inserted if absent, or an expired
# lease taken over (the holder comes back only to the new holder).
_BEGIN = (
    "WITH kept AS (SELECT status, headers, body FROM {answers} WHERE account_id = %(account)s"
    " AND idempotency_key = %(key)s AND fingerprint = %(fingerprint)s"
    " AND created_at > now() - make_interval(hours => %(hours)s)), marked AS ("
    "INSERT INTO {in_flight} AS held (account_id, idempotency_key, holder, lease_until)"
    " SELECT %(account)s, %(key)s, %(holder)s, now() + make_interval(secs => %(lease)s)"
    " WHERE NOT EXISTS (SELECT FROM kept)"
    " ON CONFLICT (account_id, idempotency_key) DO UPDATE"
    " SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until"
    " WHERE held.lease_until < now() RETURNING holder)"
    " SELECT kept.status, kept.headers, kept.body, (SELECT holder FROM marked)"
    " FROM (VALUES (1)) AS one LEFT JOIN kept ON true"
)
_DROP = (
    "DELETE FROM {in_flight} WHERE account_id = %(account)s AND idempotency_key = %(key)s"
    " AND holder = %(holder)s"
)
# The answer kept (the first one wins) and the marker dropped, in one statement.
_KEEP_AND_DROP = (
    "WITH kept AS (INSERT INTO {answers}"
    " (account_id, idempotency_key, fingerprint, status, headers, body)"
    " VALUES (%(account)s, %(key)s, %(fingerprint)s, %(status)s, %(headers)s, %(body)s)"
    " ON CONFLICT DO NOTHING) DELETE FROM {in_flight} WHERE account_id = %(account)s"
    " AND idempotency_key = %(key)s AND holder = %(holder)s"
)


@dataclass(frozen=True)
class StoredResponse:
    """A first answer, as replayed."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Begun:
    """What ``ResponseStore.begin`` found: the answer kept for the request (replay it), or
    the marker this request now holds (run it), or neither (another request holds it)."""

    stored: StoredResponse | None = None
    holder: UUID | None = None


class ResponseStore(Protocol):
    """Where first answers are kept, by (account, key, request fingerprint), and which keys
    are in flight, by (account, key)."""

    def begin(self, account_id: str, key: str, fingerprint: str) -> Begun:
        """The answer kept for this request if there is one; else mark (account, key) in
        flight (the marker's holder id), unless another request holds an unexpired marker.
        An answer kept by a request that ended meanwhile is found, however the two raced:
        never a free key after a missed answer."""

    def finish(
        self, account_id: str, key: str, holder: UUID, kept: tuple[str, StoredResponse] | None
    ) -> None:
        """At once: keep ``kept`` (the request's fingerprint and its answer, unless an
        answer is already kept: the first one wins; None: nothing to keep) and drop the
        marker ``holder`` took (nothing if it expired and was taken over)."""


class MemoryResponseStore:
    """For deployments without PostgreSQL read models (and unit tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._answers: dict[tuple[str, str, str], StoredResponse] = {}
        self._in_flight: dict[tuple[str, str], tuple[UUID, float]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def begin(self, account_id: str, key: str, fingerprint: str) -> Begun:
        with self._lock:
            stored = self._answers.get((account_id, key, fingerprint))
            if stored is not None:
                return Begun(stored=stored)
            now = self._clock()
            held = self._in_flight.get((account_id, key))
            if held is not None and held[1] > now:
                return Begun()
            holder = uuid4()
            self._in_flight[(account_id, key)] = (holder, now + IN_FLIGHT_LEASE_SECONDS)
            return Begun(holder=holder)

    def finish(
        self, account_id: str, key: str, holder: UUID, kept: tuple[str, StoredResponse] | None
    ) -> None:
        with self._lock:
            if kept is not None:
                self._answers.setdefault((account_id, key, kept[0]), kept[1])
            held = self._in_flight.get((account_id, key))
            if held is not None and held[0] == holder:
                del self._in_flight[(account_id, key)]


class PostgresResponseStore:
    """Tables beside the read models, created on first use. Queried through the read
    models' control pool (``ReadModels.control_cursor``): never behind a slow query."""

    def __init__(self, read_models: ReadModels) -> None:
        self.read_models = read_models
        self._created = False
        self._lock = threading.Lock()

    def _tables(self, cursor: Any) -> dict[str, sql.Identifier]:
        with self._lock:
            if not self._created:
                # Another API process may create them at the same moment.
                for create, table in ((_CREATE, TABLE), (_CREATE_IN_FLIGHT, IN_FLIGHT_TABLE)):
                    create_shared_table(cursor, sql.SQL(create).format(sql.Identifier(table)))
                self._created = True
        return {"answers": sql.Identifier(TABLE), "in_flight": sql.Identifier(IN_FLIGHT_TABLE)}

    def begin(self, account_id: str, key: str, fingerprint: str) -> Begun:
        values = {
            "account": account_id, "key": key, "fingerprint": fingerprint,
            "hours": RETENTION_HOURS, "holder": uuid4(), "lease": IN_FLIGHT_LEASE_SECONDS,
        }  # fmt: skip
        with self.read_models.control_cursor() as cursor:
            tables = self._tables(cursor)
            connection = cursor.connection
            # One round trip, two statements: the second looks for the answer again in a
            # snapshot taken after the first settled the marker (it waits for a request
            # that is storing its answer and dropping the marker at that moment).
            with connection.pipeline():
                cursor.execute(sql.SQL(_BEGIN).format(**tables), values)
                again = connection.cursor()
                again.execute(sql.SQL(_KEPT).format(**tables), values)
                row, later = cursor.fetchone(), again.fetchone()
            kept = _stored(row) or _stored(later)
            holder = row[3] if row is not None else None
            if kept is not None and holder is not None:  # the first ended as we took it
                cursor.execute(sql.SQL(_DROP).format(**tables), {**values, "holder": holder})
        return Begun(stored=kept) if kept is not None else Begun(holder=holder)

    def finish(
        self, account_id: str, key: str, holder: UUID, kept: tuple[str, StoredResponse] | None
    ) -> None:
        values: dict[str, Any] = {"account": account_id, "key": key, "holder": holder}
        statement = _DROP
        if kept is not None:
            fingerprint, stored = kept
            statement = _KEEP_AND_DROP
            values |= {
                "fingerprint": fingerprint, "status": stored.status,
                "headers": Jsonb(stored.headers), "body": stored.body,
            }  # fmt: skip
        with self.read_models.control_cursor() as cursor:
            cursor.execute(sql.SQL(statement).format(**self._tables(cursor)), values)


def _stored(row: Any) -> StoredResponse | None:
    """The answer a row of ``_BEGIN`` or ``_KEPT`` holds (None: no row, or no answer)."""
    if row is None or row[0] is None:
        return None
    return StoredResponse(row[0], [(k, v) for k, v in row[1]], bytes(row[2]))


def fingerprint(scope: Scope, body: bytes, principal: Principal) -> str:
    """SHA-256 of the whole request (method, path, query string, ``If-Match``, the body in
    canonical form) and of who sent it (user, permissions, workspaces): a replay never
    answers a caller the route would refuse, nor a request whose precondition differs (a
    stale one must get its 412). A JSON body counts by its meaning: keys sorted, no
    insignificant whitespace (the same object sent by another client library is the same
    request); any other body counts byte for byte."""
    who = orjson.dumps(
        [
            principal.user_id,
            sorted(principal.permissions),
            None if principal.workspaces is None else sorted(principal.workspaces),
        ]
    )
    digest = hashlib.sha256()
    if_match = b"\n".join(value for name, value in scope["headers"] if name == b"if-match")
    method, path = scope["method"].encode(), scope["path"].encode()
    parts = (method, path, scope["query_string"], if_match, _canonical(body), who)
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _canonical(body: bytes) -> bytes:
    """A JSON body with its keys sorted (b"J" + JSON), any other body as sent (b"B" +
    bytes): the prefix keeps a JSON text and a raw body that would serialise alike apart."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return b"B" + body
    return b"J" + orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


class IdempotencyMiddleware:
    """Replays first answers (see the module's docstring). Requests without a key, with a
    malformed key (the route refuses it) or without a valid token pass through untouched."""

    def __init__(self, app: ASGIApp, store: ResponseStore, verifier: TokenVerifier) -> None:
        self.app = app
        self.store = store
        self.verifier = verifier
        # (account, key) → the marker this process's ended request could not drop, and when
        # its lease ends (after that it is free anyway and the entry is forgotten: an outage
        # with many keys never retried cannot grow this without bound).
        self._undropped: dict[tuple[str, str], tuple[UUID, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = self._caller(scope)
        if caller is None:
            await self.app(scope, receive, send)
            return
        principal, key = caller
        body = await _read_body(receive)
        place = (principal.account_id, key, fingerprint(scope, body, principal))
        try:
            await self._drop_undropped(place)
            begun = await anyio.to_thread.run_sync(self.store.begin, *place)
        except DATABASE_UNAVAILABLE:
            await problem_response(database_unavailable())(scope, receive, send)
            return
        if begun.stored is not None:
            await _replay(begun.stored, send)
            return
        if begun.holder is None:  # another request with this key runs
            await _in_progress(scope, receive, send)
            return
        stored: StoredResponse | None = None
        try:
            answer = await self._first(scope, body)
            stored = _storable(answer)
        finally:
            await self._finish(place, begun.holder, stored)
        # Sent only now: a client that got it and retries at once finds it stored and the
        # key free, never its own request still "in progress".
        for message in answer:
            await send(message)

    async def _finish(
        self, place: tuple[str, str, str], holder: UUID, stored: StoredResponse | None
    ) -> None:
        kept = None if stored is None else (place[2], stored)
        try:
            await anyio.to_thread.run_sync(self.store.finish, place[0], place[1], holder, kept)
        except DATABASE_UNAVAILABLE as error:  # the next request with the key drops it
            now = time.monotonic()
            self._undropped = {k: v for k, v in self._undropped.items() if v[1] > now}
            self._undropped[(place[0], place[1])] = (holder, now + IN_FLIGHT_LEASE_SECONDS)
            error_type = type(error).__name__
            if stored is not None:  # answered anyway; a replay runs again
                log.warning("idempotent_answer_not_stored", error_type=error_type)
            log.warning("idempotency_marker_not_dropped", error_type=error_type)

    async def _drop_undropped(self, place: tuple[str, str, str]) -> None:
        """Drop the marker an ended request of this process left behind for this key (its
        request is over: it holds nothing). Raises while the database is still away."""
        left = self._undropped.get((place[0], place[1]))
        if left is not None:
            await anyio.to_thread.run_sync(self.store.finish, place[0], place[1], left[0], None)
            self._undropped.pop((place[0], place[1]), None)

    def _caller(self, scope: Scope) -> tuple[Principal, str] | None:
        """(principal, key) of a keyed write with a valid token; None otherwise."""
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            return None
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if key is None or scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self.verifier.verify(token.strip()), str(idempotency_key(key))
        except ProblemError:
            return None  # the route answers the refusal

    async def _first(self, scope: Scope, body: bytes) -> list[Message]:
        """Run the route; return its answer, unsent. Answers of writes are small JSON
        bodies: holding one until it is stored costs little."""
        answer: list[Message] = []

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def recording_send(message: Message) -> None:
            answer.append(message)

        await self.app(scope, replay_body, recording_send)
        return answer


async def _in_progress(scope: Scope, receive: Receive, send: Send) -> None:
    refusal = ProblemError(
        409,
        "idempotency_request_in_progress",
        "Request in progress",
        "A request with this Idempotency-Key is still being processed; retry after it "
        "finishes to get its answer.",
        headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER_SECONDS)},
    )
    await problem_response(refusal)(scope, receive, send)


def _storable(answer: list[Message]) -> StoredResponse | None:
    """The answer to keep: a 2xx not marked ``no-store``."""
    starts = [m for m in answer if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
    start = starts[0] if starts else {}
    if not start or not 200 <= start["status"] < 300:
        return None
    headers = Headers(raw=start["headers"])
    if "no-store" in headers.get("cache-control", ""):
        return None
    kept = [(name, headers[name]) for name in KEPT_HEADERS if name in headers]
    return StoredResponse(start["status"], kept, body)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _replay(stored: StoredResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers]
    headers += [
        (b"content-length", str(len(stored.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})
