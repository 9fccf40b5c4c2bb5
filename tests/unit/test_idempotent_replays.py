"""The idempotent replays (``api.idempotency``) without HTTP or PostgreSQL: the middleware
around a small ASGI route, with the in-memory store. What is replayed (a keyed 2xx write of
the same caller, with its kept headers), what is not (reads, writes without a key or a valid
token, refusals, failures, ``no-store`` answers, another body, another caller or another
workspace scope of the token), the in-flight marker (409 while held, free once answered,
a lease that expires) and a database outage (503 before the route runs; after it, the
answer is sent unstored)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import anyio
import jwt
import orjson
import psycopg
import pytest
import structlog
from starlette.types import Message, Receive, Scope, Send

from api.auth import TokenVerifier
from api.idempotency import (
    IN_FLIGHT_LEASE_SECONDS,
    IN_FLIGHT_TABLE,
    RETENTION_HOURS,
    TABLE,
    Begun,
    IdempotencyMiddleware,
    MemoryResponseStore,
    PostgresResponseStore,
    StoredResponse,
)
from sms_channels.settings import Settings

SECRET = "s" * 40
BODY = b'{"mode": "new", "workspaceId": "ws_2"}'


def token(workspaces: list[str] | None = None, user: str = "u1", account: str = "acc") -> str:
    claims: dict[str, Any] = {
        "sub": user,
        "acc": account,
        "permissions": ["channels.connect"],
        "exp": int(time.time()) + 600,
    }
    if workspaces is not None:
        claims["workspaces"] = workspaces
    return jwt.encode(claims, SECRET, algorithm="HS256")


class Route:
    """An ASGI route that answers ``status`` with ``headers`` and a body in two chunks, and
    keeps the body of every request it ran."""

    def __init__(self, status: int = 201, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = {
            "content-type": "application/json",
            "location": "/channels/sms/connections/1",
            "etag": '"1"',
            "x-request-id": "r1",
            **(headers or {}),
        }
        self.runs: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert (message["type"], message["more_body"]) == ("http.request", False)
        assert scope["method"] in ("GET", "POST", "PUT", "PATCH", "DELETE")
        self.runs.append(message["body"])
        answer = f'{{"run": {len(self.runs)}}}'.encode()
        raw = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": answer[:4], "more_body": True})
        await send({"type": "http.response.body", "body": answer[4:]})


class Answer:
    """What the middleware sent for one request."""

    def __init__(self, messages: list[Message]) -> None:
        start, *body = messages
        assert start["type"] == "http.response.start"
        assert all(m["type"] == "http.response.body" for m in body)
        self.status: int = start["status"]
        self.headers = {k.decode(): v.decode() for k, v in start["headers"]}
        self.body = b"".join(m.get("body", b"") for m in body)


def call(
    middleware: IdempotencyMiddleware,
    *,
    method: str = "POST",
    key: str | None = "key-1",
    authorization: str | None = None,
    body: bytes = BODY,
    chunks: int = 1,
    path: str = "/channels/sms/connect",
) -> Answer:
    """One request through ``middleware`` (the body sent in ``chunks`` parts)."""
    headers = [(b"content-type", b"application/json")]
    if key is not None:
        headers.append((b"idempotency-key", key.encode()))
    if authorization is None:
        authorization = "Bearer " + token()
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": headers}  # fmt: skip
    size = -(-len(body) // chunks) if body else 1
    parts = [body[i : i + size] for i in range(0, max(len(body), 1), size)]
    incoming = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
                for i, p in enumerate(parts)]  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(middleware, scope, receive, send)
    return Answer(sent)


def middleware(route: Route, store: MemoryResponseStore | None = None) -> IdempotencyMiddleware:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    return IdempotencyMiddleware(route, store or MemoryResponseStore(), verifier)


# --- replayed ----------------------------------------------------------------------------


def test_the_same_keyed_write_is_answered_from_the_store_with_its_kept_headers() -> None:
    route = Route()
    replays = middleware(route)
    first = call(replays)
    again = call(replays)
    assert route.runs == [BODY]
    assert (first.status, first.body) == (201, b'{"run": 1}')
    assert "idempotent-replayed" not in first.headers
    assert (again.status, again.body) == (201, b'{"run": 1}')
    assert again.headers == {
        "content-type": "application/json",
        "location": "/channels/sms/connections/1",
        "etag": '"1"',
        "content-length": "10",
        "idempotent-replayed": "true",
    }


def test_a_body_sent_in_parts_reaches_the_route_whole_and_replays_as_one() -> None:
    route = Route()
    replays = middleware(route)
    call(replays, chunks=3)
    assert route.runs == [BODY]
    assert call(replays, chunks=2).headers["idempotent-replayed"] == "true"
    assert route.runs == [BODY]


@pytest.mark.parametrize("status", [200, 201, 299])
def test_every_2xx_is_kept(status: int) -> None:
    route = Route(status)
    replays = middleware(route)
    call(replays)
    assert call(replays).status == status
    assert len(route.runs) == 1


def test_an_answer_without_the_kept_headers_is_replayed_without_them() -> None:
    route = Route()
    route.headers = {"x-request-id": "r1"}
    replays = middleware(route)
    call(replays)
    assert call(replays).headers == {"content-length": "10", "idempotent-replayed": "true"}


# --- not replayed: the route runs again ----------------------------------------------------


@pytest.mark.parametrize("status", [199, 300, 404, 409, 422, 500, 503])
def test_refusals_and_failures_are_not_kept(status: int) -> None:
    route = Route(status)
    replays = middleware(route)
    assert call(replays).status == status
    assert call(replays).status == status
    assert len(route.runs) == 2


@pytest.mark.parametrize("cache_control", ["no-store", "private, no-store"])
def test_a_no_store_answer_is_not_kept(cache_control: str) -> None:
    route = Route(headers={"cache-control": cache_control})
    replays = middleware(route)
    call(replays)
    assert "idempotent-replayed" not in call(replays).headers
    assert len(route.runs) == 2


def test_a_cache_control_without_no_store_is_kept() -> None:
    route = Route(headers={"cache-control": "private"})
    replays = middleware(route)
    call(replays)
    assert call(replays).headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize(
    "request_",
    [
        {"method": "GET"},
        {"key": None},
        {"key": "bad key"},  # malformed: the route refuses it
        {"authorization": ""},
        {"authorization": "Basic " + token()},
        {"authorization": "Bearer "},
        {"authorization": "Bearer not-a-token"},
    ],
    ids=["read", "no-key", "bad-key", "no-token", "not-bearer", "empty-token", "bad-token"],
)
def test_reads_and_writes_without_a_key_or_a_valid_token_pass_through(
    request_: dict[str, Any],
) -> None:
    route = Route()
    replays = middleware(route)
    for _ in range(2):
        answer = call(replays, **request_)
        assert "idempotent-replayed" not in answer.headers
    assert len(route.runs) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_write_method_is_replayed(method: str) -> None:
    route = Route()
    replays = middleware(route)
    call(replays, method=method)
    assert call(replays, method=method).headers["idempotent-replayed"] == "true"


def test_a_bearer_scheme_is_read_in_any_case() -> None:
    route = Route()
    replays = middleware(route)
    call(replays, authorization="bearer " + token())
    assert call(replays, authorization="BEARER " + token()).headers["idempotent-replayed"] == "true"


def test_the_same_key_and_body_from_another_workspace_scope_runs_the_route_again() -> None:
    """Identical bodies: only the token's workspaces differ (a replay would hand a
    ws_1-only token ws_2's answer)."""
    route = Route()
    replays = middleware(route)
    call(replays, authorization="Bearer " + token(["ws_1", "ws_2"]))
    for scope in (["ws_1"], [], None):
        answer = call(replays, authorization="Bearer " + token(scope))
        assert "idempotent-replayed" not in answer.headers, scope
    assert route.runs == [BODY] * 4


def test_the_same_key_from_another_user_or_account_or_with_another_body_runs_again() -> None:
    route = Route()
    replays = middleware(route)
    call(replays)
    others = [
        call(replays, authorization="Bearer " + token(user="u2")),
        call(replays, authorization="Bearer " + token(account="acc_2")),
        call(replays, body=b'{"mode": "byon"}'),
    ]
    assert all("idempotent-replayed" not in answer.headers for answer in others)
    assert route.runs == [BODY, BODY, BODY, b'{"mode": "byon"}']


# --- in flight -------------------------------------------------------------------------------


def test_a_key_held_by_a_running_request_gets_409_with_retry_after() -> None:
    route = Route()
    store = MemoryResponseStore()
    assert store.begin("acc", "key-1", "f").holder is not None
    answer = call(middleware(route, store))
    assert answer.status == 409
    assert b"idempotency_request_in_progress" in answer.body
    assert answer.headers["retry-after"] == "1"
    assert route.runs == []
    # The key of another account is not held.
    other_account = "Bearer " + token(account="acc_2")
    assert call(middleware(route, store), authorization=other_account).status == 201


@pytest.mark.parametrize("status", [201, 422])
def test_the_key_is_free_once_answered(status: int) -> None:
    store = MemoryResponseStore()
    call(middleware(Route(status), store))
    assert store.begin("acc", "key-1", "f").holder is not None


def test_the_key_is_free_when_the_route_raises() -> None:
    class Broken(Route):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            raise RuntimeError("boom")

    store = MemoryResponseStore()
    with pytest.raises(RuntimeError):
        call(middleware(Broken(), store))
    assert store.begin("acc", "key-1", "f").holder is not None


class KeptSpy(MemoryResponseStore):
    """The in-memory store, keeping what each ``finish`` was given to keep."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[tuple[str, StoredResponse] | None] = []

    def finish(
        self, account_id: str, key: str, holder: UUID, kept: tuple[str, StoredResponse] | None
    ) -> None:
        self.kept.append(kept)
        super().finish(account_id, key, holder, kept)


@pytest.mark.parametrize("route", [Route(422), Route(500)], ids=["refused", "failed"])
def test_a_refused_or_failed_answer_is_given_to_the_store_as_nothing_to_keep(route: Route) -> None:
    store = KeptSpy()
    call(middleware(route, store))
    assert store.kept == [None]


def test_a_route_that_raised_leaves_nothing_kept_and_its_retry_runs_again() -> None:
    class BrokenOnce(Route):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if not self.runs:
                self.runs.append(b"raised")
                raise RuntimeError("boom")
            await super().__call__(scope, receive, send)

    store, route = KeptSpy(), BrokenOnce()
    with pytest.raises(RuntimeError):
        call(middleware(route, store))
    assert store.kept == [None]
    retry = call(middleware(route, store))
    assert (retry.status, "idempotent-replayed" in retry.headers) == (201, False)
    assert route.runs == [b"raised", BODY]


def test_a_marker_is_a_lease_that_expires() -> None:
    now = [1000.0]
    store = MemoryResponseStore(clock=lambda: now[0])
    first = store.begin("acc", "k", "f").holder
    assert first is not None
    now[0] += IN_FLIGHT_LEASE_SECONDS - 0.5
    assert store.begin("acc", "k", "f").holder is None
    assert store.begin("acc", "other", "f").holder is not None
    assert store.begin("acc_2", "k", "f").holder is not None
    now[0] += 1
    second = store.begin("acc", "k", "f").holder
    assert second is not None
    assert second != first
    # The first holder, back late, does not drop the marker its successor holds.
    store.finish("acc", "k", first, None)
    assert store.begin("acc", "k", "f").holder is None
    store.finish("acc", "k", second, None)
    assert store.begin("acc", "k", "f").holder is not None


def test_the_store_keeps_the_first_answer_for_its_request_only() -> None:
    store = MemoryResponseStore()
    first = store.begin("acc", "k", "f").holder
    assert first is not None
    store.finish("acc", "k", first, ("f", StoredResponse(201, [], b"first")))
    store.finish("acc", "k", uuid4(), ("f", StoredResponse(200, [], b"second")))
    assert store.begin("acc", "k", "f") == Begun(stored=StoredResponse(201, [], b"first"))
    assert store.begin("acc", "k", "g").stored is None  # another request with the key
    assert store.begin("acc_2", "k", "f").stored is None  # the key of another account


# --- a database outage ------------------------------------------------------------------------


class Unavailable(MemoryResponseStore):
    """The in-memory store, except that the named operations raise as a lost database."""

    def __init__(self, *failing: str) -> None:
        super().__init__()
        self.failing = failing

    def _check(self, operation: str) -> None:
        if operation in self.failing:
            raise psycopg.OperationalError("the database went away")

    def begin(self, account_id: str, key: str, fingerprint: str) -> Begun:
        self._check("begin")
        return super().begin(account_id, key, fingerprint)

    def finish(
        self, account_id: str, key: str, holder: UUID, kept: tuple[str, StoredResponse] | None
    ) -> None:
        self._check("finish")
        super().finish(account_id, key, holder, kept)


def test_a_database_outage_before_the_route_answers_503_and_runs_nothing() -> None:
    route = Route()
    answer = call(middleware(route, Unavailable("begin")))
    assert answer.status == 503
    assert b"service_unavailable" in answer.body
    assert answer.headers["retry-after"]
    assert route.runs == []


def test_a_database_outage_after_the_route_still_sends_its_answer() -> None:
    route = Route()
    replays = middleware(route, Unavailable("finish"))
    assert call(replays).status == 201
    assert len(route.runs) == 1


# --- the PostgreSQL store's statements, on a fake cursor ---------------------------------------


class Cursor:
    """A cursor that keeps each statement as text and answers ``rows`` in turn."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.statements: list[tuple[str, Any]] = []
        self.connection = self
        self.pipelined = 0  # statements sent in a pipeline (one round trip)
        self._in_pipeline = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def pipeline(self) -> Iterator[None]:
        self._in_pipeline = True
        yield
        self._in_pipeline = False

    def cursor(self) -> Cursor:
        return self  # the same rows and statements, answered in order

    def execute(self, statement: Any, params: Any = ()) -> Cursor:
        text = statement if isinstance(statement, str) else statement.as_string(None)
        self.statements.append((text, params))
        self.pipelined += self._in_pipeline
        return self

    def fetchone(self) -> Any:
        return self.rows.pop(0) if self.rows else None


class ReadModels:
    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor

    @contextlib.contextmanager
    def control_cursor(self) -> Iterator[Cursor]:
        yield self.cursor


def postgres(rows: list[Any] | None = None) -> PostgresResponseStore:
    cursor = Cursor(rows or [])
    return PostgresResponseStore(ReadModels(cursor))  # type: ignore[arg-type]


def statements(store: PostgresResponseStore) -> list[tuple[str, Any]]:
    read_models: Any = store.read_models
    cursor: Cursor = read_models.cursor
    return cursor.statements


def test_the_postgres_store_creates_both_tables_once() -> None:
    store = postgres()
    store.begin("acc", "k", "f")
    store.finish("acc", "k", uuid4(), None)
    creates = [text for text, _ in statements(store) if text.startswith("CREATE")]
    assert [text.split('"')[1] for text in creates] == [TABLE, IN_FLIGHT_TABLE]
    assert all(text.startswith("CREATE TABLE IF NOT EXISTS") for text in creates)


def begun(rows: list[Any]) -> tuple[Begun, list[tuple[str, Any]], Cursor]:
    """``begin`` on the fake cursor answering ``rows`` (the first statement's row, then the
    second look's): what it found, the statements after the tables' creation, the cursor."""
    store = postgres(rows)
    found = store.begin("acc", "k", "f")
    cursor: Cursor = store.read_models.cursor  # type: ignore[attr-defined]
    return found, [(t, p) for t, p in statements(store) if not _ddl(t)], cursor


def _ddl(text: str) -> bool:
    return text.startswith(("CREATE", "SELECT pg_advisory_xact_lock"))


NO_ANSWER = (None, None, None)


def test_the_postgres_begin_looks_and_takes_the_marker_in_one_round_trip() -> None:
    holder = uuid4()
    found, sent, cursor = begun([(*NO_ANSWER, holder), None])
    assert found == Begun(holder=holder)
    (first, values), (second, again) = sent
    assert first.startswith(f'WITH kept AS (SELECT status, headers, body FROM "{TABLE}"')
    assert f'INSERT INTO "{IN_FLIGHT_TABLE}" AS held' in first
    assert "WHERE NOT EXISTS (SELECT FROM kept)" in first  # no marker once answered
    assert second.startswith(f'SELECT status, headers, body FROM "{TABLE}"')
    assert again is values
    assert (values["account"], values["key"], values["fingerprint"]) == ("acc", "k", "f")
    assert (values["hours"], values["lease"]) == (RETENTION_HOURS, IN_FLIGHT_LEASE_SECONDS)
    assert cursor.pipelined == 2


def test_the_postgres_begin_answers_the_kept_answer_within_the_retention() -> None:
    kept = (201, [["etag", '"3"'], ["location", "/x"]], memoryview(b"body"), None)
    found, sent, _ = begun([kept, kept[:3]])
    assert found == Begun(
        stored=StoredResponse(201, [("etag", '"3"'), ("location", "/x")], b"body")
    )
    assert found.stored is not None
    assert isinstance(found.stored.body, bytes)
    assert "created_at > now() - make_interval(hours => %(hours)s)" in sent[0][0]
    assert len(sent) == 2  # no marker taken, none to drop


def test_the_postgres_begin_answers_the_answer_its_first_statement_found() -> None:
    found, _, _ = begun([(201, [], b"first", None), None])
    assert found == Begun(stored=StoredResponse(201, [], b"first"))


def test_every_placeholder_of_the_postgres_statements_has_its_value() -> None:
    holder = uuid4()
    store = postgres([(*NO_ANSWER, holder), (201, [], b"first")])  # begin drops its marker
    store.begin("acc", "k", "f")
    store.finish("acc", "k", holder, None)
    store.finish("acc", "k", holder, ("f", StoredResponse(201, [], b"body")))
    sent = [(t, v) for t, v in statements(store) if not _ddl(t)]
    assert len(sent) == 5
    for text, values in sent:
        assert set(re.findall(r"%\((\w+)\)s", text)) <= set(values), text


def test_the_postgres_begin_held_by_another_request_answers_neither() -> None:
    found, sent, _ = begun([(*NO_ANSWER, None), None])
    assert found == Begun()
    assert len(sent) == 2


def test_an_answer_kept_as_the_marker_was_taken_is_replayed_and_the_marker_dropped() -> None:
    """The first request stored its answer and dropped the marker while this one's first
    statement waited on that marker: the second look finds the answer."""
    holder = uuid4()
    found, sent, _ = begun([(*NO_ANSWER, holder), (201, [], b"first")])
    assert found == Begun(stored=StoredResponse(201, [], b"first"))
    text, values = sent[-1]
    assert text == (
        f'DELETE FROM "{IN_FLIGHT_TABLE}" WHERE account_id = %(account)s'
        " AND idempotency_key = %(key)s AND holder = %(holder)s"
    )
    assert values["holder"] == holder


def test_the_postgres_finish_keeps_the_answer_and_drops_the_marker_in_one_statement() -> None:
    store = postgres()
    holder = uuid4()
    store.finish("acc", "k", holder, ("f", StoredResponse(201, [("etag", '"3"')], b"body")))
    text, values = statements(store)[-1]
    assert text.startswith(f'WITH kept AS (INSERT INTO "{TABLE}"')
    assert "ON CONFLICT DO NOTHING) DELETE FROM" in text
    assert text.endswith("AND holder = %(holder)s")
    assert (values["account"], values["key"], values["fingerprint"]) == ("acc", "k", "f")
    assert (values["status"], values["headers"].obj, values["body"]) == (
        201, [("etag", '"3"')], b"body")  # fmt: skip
    assert values["holder"] == holder


def test_the_postgres_marker_is_dropped_by_its_holder_only() -> None:
    store = postgres()
    holder = uuid4()
    store.finish("acc", "k", holder, None)
    text, values = statements(store)[-1]
    where = "WHERE account_id = %(account)s AND idempotency_key = %(key)s AND holder = %(holder)s"
    assert text == f'DELETE FROM "{IN_FLIGHT_TABLE}" {where}'
    assert values == {"account": "acc", "key": "k", "holder": holder}


def test_the_in_progress_answer_is_a_problem_that_says_to_retry_after_the_first() -> None:
    store = MemoryResponseStore()
    store.begin("acc", "key-1", "f")
    answer = call(middleware(Route(), store))
    assert answer.headers["content-type"] == "application/problem+json"
    problem = orjson.loads(answer.body)
    problem.pop("type")
    assert problem == {
        "status": 409,
        "code": "idempotency_request_in_progress",
        "title": "Request in progress",
        "detail": "A request with this Idempotency-Key is still being processed; retry after "
        "it finishes to get its answer.",
    }


def raw(replays: IdempotencyMiddleware, request: Message) -> list[Message]:
    """The messages sent for a keyed POST whose one request message is ``request``."""
    headers = [(b"idempotency-key", b"k"), (b"authorization", ("Bearer " + token()).encode())]
    scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"",
             "headers": headers}  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return request

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(replays, scope, receive, send)
    return sent


def test_a_request_message_without_a_body_is_an_empty_body() -> None:
    """ASGI lets a request message leave out ``body`` and ``more_body``."""
    route = Route()
    sent = raw(middleware(route), {"type": "http.request"})
    assert route.runs == [b""]
    assert Answer(sent).status == 201


def test_an_answer_whose_body_message_leaves_out_the_body_is_kept_as_sent() -> None:
    class Bare(Route):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await receive()
            self.runs.append(b"")
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body"})

    route = Bare()
    replays = middleware(route)
    call(replays)
    again = call(replays)
    assert (again.status, again.body, again.headers["content-length"]) == (204, b"", "0")
    assert len(route.runs) == 1


def test_a_route_that_answers_nothing_stores_nothing() -> None:
    class Silent(Route):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await receive()
            self.runs.append(b"")

    route = Silent()
    replays = middleware(route)
    request = {"type": "http.request", "body": b"", "more_body": False}
    assert raw(replays, request) == []
    assert raw(replays, request) == []
    assert len(route.runs) == 2


def test_a_lease_ends_at_its_time() -> None:
    now = [1000.0]
    store = MemoryResponseStore(clock=lambda: now[0])
    store.begin("acc", "k", "f")
    now[0] += IN_FLIGHT_LEASE_SECONDS
    assert store.begin("acc", "k", "f").holder is not None


@pytest.mark.parametrize(
    ("status", "events"),
    [
        (201, ["idempotent_answer_not_stored", "idempotency_marker_not_dropped"]),
        (422, ["idempotency_marker_not_dropped"]),  # a refusal: no answer to keep
    ],
)
def test_a_database_outage_after_the_route_is_logged_with_the_errors_type(
    status: int, events: list[str]
) -> None:
    with structlog.testing.capture_logs() as logs:
        call(middleware(Route(status), Unavailable("finish")))
    warned = [log for log in logs if log["log_level"] == "warning"]
    assert warned == [
        {"event": event, "error_type": "OperationalError", "log_level": "warning"}
        for event in events
    ]


def test_a_bearer_token_after_several_spaces_is_read() -> None:
    route = Route()
    replays = middleware(route)
    call(replays, authorization="Bearer  " + token())
    assert (
        call(replays, authorization="Bearer  " + token()).headers["idempotent-replayed"] == "true"
    )
