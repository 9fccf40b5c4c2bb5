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
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import orjson
import psycopg
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

log = structlog.get_logger("api.idempotency")

RETENTION_HOURS = 24
TABLE = "http_idempotent_responses"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEPT_HEADERS = ("content-type", "location", "etag")
_CREATE = (
    "CREATE TABLE IF NOT EXISTS {} (account_id text NOT NULL, idempotency_key text NOT NULL,"
    " fingerprint text NOT NULL, status integer NOT NULL, headers jsonb NOT NULL,"
    " body bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (account_id, idempotency_key, fingerprint))"
)
_SELECT = (
    "SELECT status, headers, body FROM {} WHERE account_id = %s AND idempotency_key = %s"
    " AND fingerprint = %s AND created_at > now() - make_interval(hours => %s)"
)
_INSERT = (
    "INSERT INTO {} (account_id, idempotency_key, fingerprint, status, headers, body)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class StoredResponse:
    """A first answer, as replayed."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ResponseStore(Protocol):
    """Where first answers are kept, by (account, key, request fingerprint)."""

    def get(self, account_id: str, key: str, fingerprint: str) -> StoredResponse | None: ...

    def put(self, account_id: str, key: str, fingerprint: str, stored: StoredResponse) -> None:
        """Keep ``stored`` unless an answer is already kept (the first one wins)."""


class MemoryResponseStore:
    """For deployments without PostgreSQL read models (and unit tests)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str, str], StoredResponse] = {}
        self._lock = threading.Lock()

    def get(self, account_id: str, key: str, fingerprint: str) -> StoredResponse | None:
        return self._answers.get((account_id, key, fingerprint))

    def put(self, account_id: str, key: str, fingerprint: str, stored: StoredResponse) -> None:
        with self._lock:
            self._answers.setdefault((account_id, key, fingerprint), stored)


class PostgresResponseStore:
    """A table beside the read models, created on first use."""

    def __init__(self, read_models: ReadModels) -> None:
        self.read_models = read_models
        self._created = False
        self._lock = threading.Lock()

    def _table(self, cursor: Any) -> sql.Composed:
        table = sql.Identifier(TABLE)
        with self._lock:
            if not self._created:
                # Another API process may create it at the same moment.
                with contextlib.suppress(
                    psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable
                ):
                    cursor.execute(sql.SQL(_CREATE).format(table))
                self._created = True
        return sql.SQL("{}").format(table)

    def get(self, account_id: str, key: str, fingerprint: str) -> StoredResponse | None:
        with self.read_models.cursor() as cursor:
            table = self._table(cursor)
            row = cursor.execute(
                sql.SQL(_SELECT).format(table), (account_id, key, fingerprint, RETENTION_HOURS)
            ).fetchone()
        if row is None:
            return None
        return StoredResponse(row[0], [(k, v) for k, v in row[1]], bytes(row[2]))

    def put(self, account_id: str, key: str, fingerprint: str, stored: StoredResponse) -> None:
        values = (account_id, key, fingerprint, stored.status, Jsonb(stored.headers), stored.body)
        with self.read_models.cursor() as cursor:
            cursor.execute(sql.SQL(_INSERT).format(self._table(cursor)), values)


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = self._caller(scope)
        if caller is None:
            await self.app(scope, receive, send)
            return
        principal, key = caller
        body = await _read_body(receive)
        place = (principal.account_id, key, fingerprint(scope, body, principal))
        try:
            stored = await anyio.to_thread.run_sync(self.store.get, *place)
        except DATABASE_UNAVAILABLE:
            await problem_response(database_unavailable())(scope, receive, send)
            return
        if stored is not None:
            await _replay(stored, send)
            return
        await self._first(scope, body, place, send)

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

    async def _first(
        self, scope: Scope, body: bytes, place: tuple[str, str, str], send: Send
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def recording_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay_body, recording_send)
        stored = _storable(start, b"".join(chunks))
        if stored is not None:
            try:
                await anyio.to_thread.run_sync(self.store.put, *place, stored)
            except DATABASE_UNAVAILABLE as error:  # answered already; a replay runs again
                log.warning("idempotent_answer_not_stored", error_type=type(error).__name__)


def _storable(start: Message, body: bytes) -> StoredResponse | None:
    """The answer to keep: a 2xx not marked ``no-store``."""
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
