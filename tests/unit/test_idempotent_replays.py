"""The idempotent replays (``api.idempotency``) without HTTP or PostgreSQL: the middleware
around a small ASGI route, with the in-memory store. What is replayed (a keyed 2xx write of
the same caller, with its kept headers), what is not (reads, writes without a key or a valid
token, refusals, failures, ``no-store`` answers, another body, another caller or another
workspace scope of the token), the in-flight marker (409 while held, free once answered,
a lease that expires) and a database outage (503 before the route runs; after it, the
answer is sent unstored)."""

from __future__ import annotations

import contextlib
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
    assert store.begin("acc", "key-1") is not None
    answer = call(middleware(route, store))
    assert answer.status == 409
    assert b"idempotency_request_in_progress" in answer.body
    assert answer.headers["retry-after"] == "1"
    assert route.runs == []
    # The key of another account is not held.
    other_account = "Bearer " + token(account="acc_2")
    assert call(middleware(route, store), authorization=other_account).status == 201


def test_a_request_that_finds_the_key_held_answers_what_was_stored_meanwhile() -> None:
    class StoredMeanwhile(MemoryResponseStore):
        """The first request's answer arrives between the look-up and the marker."""

        def __init__(self) -> None:
            super().__init__()
            self.looked = 0

        def get(self, account_id: str, key: str, fingerprint: str) -> StoredResponse | None:
            self.looked += 1
            if self.looked == 1:
                return None
            return StoredResponse(201, [("etag", '"7"')], b"first")

    route = Route()
    store = StoredMeanwhile()
    store.begin("acc", "key-1")
    answer = call(middleware(route, store))
    assert (answer.status, answer.body, answer.headers["etag"]) == (201, b"first", '"7"')
    assert answer.headers["idempotent-replayed"] == "true"
    assert route.runs == []


@pytest.mark.parametrize("status", [201, 422])
def test_the_key_is_free_once_answered(status: int) -> None:
    store = MemoryResponseStore()
    call(middleware(Route(status), store))
    assert store.begin("acc", "key-1") is not None


def test_the_key_is_free_when_the_route_raises() -> None:
    class Broken(Route):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            raise RuntimeError("boom")

    store = MemoryResponseStore()
    with pytest.raises(RuntimeError):
        call(middleware(Broken(), store))
    assert store.begin("acc", "key-1") is not None


def test_a_marker_is_a_lease_that_expires() -> None:
    now = [1000.0]
    store = MemoryResponseStore(clock=lambda: now[0])
    first = store.begin("acc", "k")
    assert first is not None
    now[0] += IN_FLIGHT_LEASE_SECONDS - 0.5
    assert store.begin("acc", "k") is None
    assert store.begin("acc", "other") is not None
    assert store.begin("acc_2", "k") is not None
    now[0] += 1
    second = store.begin("acc", "k")
    assert second is not None
    assert second != first
    # The first holder, back late, does not drop the marker its successor holds.
    store.finish("acc", "k", first)
    assert store.begin("acc", "k") is None
    store.finish("acc", "k", second)
    assert store.begin("acc", "k") is not None


def test_the_store_keeps_the_first_answer() -> None:
    store = MemoryResponseStore()
    store.put("acc", "k", "f", StoredResponse(201, [], b"first"))
    store.put("acc", "k", "f", StoredResponse(200, [], b"second"))
    assert store.get("acc", "k", "f") == StoredResponse(201, [], b"first")
    assert store.get("acc", "k", "g") is None
    assert store.get("acc_2", "k", "f") is None


# --- a database outage ------------------------------------------------------------------------


class Unavailable(MemoryResponseStore):
    """The in-memory store, except that the named operations raise as a lost database."""

    def __init__(self, *failing: str) -> None:
        super().__init__()
        self.failing = failing

    def _check(self, operation: str) -> None:
        if operation in self.failing:
            raise psycopg.OperationalError("the database went away")

    def get(self, account_id: str, key: str, fingerprint: str) -> StoredResponse | None:
        self._check("get")
        return super().get(account_id, key, fingerprint)

    def begin(self, account_id: str, key: str) -> UUID | None:
        self._check("begin")
        return super().begin(account_id, key)

    def put(self, account_id: str, key: str, fingerprint: str, stored: StoredResponse) -> None:
        self._check("put")
        super().put(account_id, key, fingerprint, stored)

    def finish(self, account_id: str, key: str, holder: UUID) -> None:
        self._check("finish")
        super().finish(account_id, key, holder)


@pytest.mark.parametrize("failing", ["get", "begin"])
def test_a_database_outage_before_the_route_answers_503_and_runs_nothing(failing: str) -> None:
    route = Route()
    answer = call(middleware(route, Unavailable(failing)))
    assert answer.status == 503
    assert b"service_unavailable" in answer.body
    assert answer.headers["retry-after"]
    assert route.runs == []


def test_a_held_key_whose_answer_cannot_be_read_answers_503() -> None:
    class SecondLookFails(MemoryResponseStore):
        def __init__(self) -> None:
            super().__init__()
            self.looked = 0

        def get(self, account_id: str, key: str, fingerprint: str) -> StoredResponse | None:
            self.looked += 1
            if self.looked > 1:
                raise psycopg.OperationalError("the database went away")
            return None

    route = Route()
    store = SecondLookFails()
    store.begin("acc", "key-1")
    assert call(middleware(route, store)).status == 503
    assert route.runs == []


@pytest.mark.parametrize("failing", ["put", "finish"])
def test_a_database_outage_after_the_route_still_sends_its_answer(failing: str) -> None:
    route = Route()
    replays = middleware(route, Unavailable(failing))
    assert call(replays).status == 201
    assert len(route.runs) == 1


# --- the PostgreSQL store's statements, on a fake cursor ---------------------------------------


class Cursor:
    """A cursor that keeps each statement as text and answers ``rows`` in turn."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.statements: list[tuple[str, tuple[Any, ...]]] = []
        self.connection = self

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def execute(self, statement: Any, params: tuple[Any, ...] = ()) -> Cursor:
        text = statement if isinstance(statement, str) else statement.as_string(None)
        self.statements.append((text, params))
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


def statements(store: PostgresResponseStore) -> list[tuple[str, tuple[Any, ...]]]:
    read_models: Any = store.read_models
    cursor: Cursor = read_models.cursor
    return cursor.statements


def test_the_postgres_store_creates_both_tables_once() -> None:
    store = postgres()
    store.get("acc", "k", "f")
    store.finish("acc", "k", uuid4())
    creates = [text for text, _ in statements(store) if text.startswith("CREATE")]
    assert [text.split('"')[1] for text in creates] == [TABLE, IN_FLIGHT_TABLE]
    assert all(text.startswith("CREATE TABLE IF NOT EXISTS") for text in creates)


def test_the_postgres_store_reads_an_answer_within_the_retention() -> None:
    store = postgres([(201, [["etag", '"3"'], ["location", "/x"]], memoryview(b"body"))])
    stored = store.get("acc", "k", "f")
    assert stored == StoredResponse(201, [("etag", '"3"'), ("location", "/x")], b"body")
    assert isinstance(stored.body, bytes)
    text, params = statements(store)[-1]
    assert text.startswith(f'SELECT status, headers, body FROM "{TABLE}"')
    assert params == ("acc", "k", "f", RETENTION_HOURS)
    assert store.get("acc", "k", "f") is None


def test_the_postgres_store_keeps_an_answer_with_its_place() -> None:
    store = postgres()
    store.put("acc", "k", "f", StoredResponse(201, [("etag", '"3"')], b"body"))
    text, params = statements(store)[-1]
    assert text.startswith(f'INSERT INTO "{TABLE}"')
    assert text.endswith("ON CONFLICT DO NOTHING")
    assert params[:4] == ("acc", "k", "f", 201)
    assert params[4].obj == [("etag", '"3"')]
    assert params[5] == b"body"


def test_the_postgres_marker_is_held_only_by_the_request_that_got_a_row() -> None:
    taken = postgres([(uuid4(),)])
    holder = taken.begin("acc", "k")
    assert holder is not None
    text, params = statements(taken)[-1]
    assert text.startswith(f'INSERT INTO "{IN_FLIGHT_TABLE}" AS held')
    assert params == ("acc", "k", holder, IN_FLIGHT_LEASE_SECONDS)
    assert postgres([]).begin("acc", "k") is None  # held by another: no row came back


def test_the_postgres_marker_is_dropped_by_its_holder_only() -> None:
    store = postgres()
    holder = uuid4()
    store.finish("acc", "k", holder)
    text, params = statements(store)[-1]
    where = "WHERE account_id = %s AND idempotency_key = %s AND holder = %s"
    assert text == f'DELETE FROM "{IN_FLIGHT_TABLE}" {where}'
    assert params == ("acc", "k", holder)


def test_the_in_progress_answer_is_a_problem_that_says_to_retry_after_the_first() -> None:
    store = MemoryResponseStore()
    store.begin("acc", "key-1")
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
    store.begin("acc", "k")
    now[0] += IN_FLIGHT_LEASE_SECONDS
    assert store.begin("acc", "k") is not None


@pytest.mark.parametrize(
    ("failing", "event"),
    [("put", "idempotent_answer_not_stored"), ("finish", "idempotency_marker_not_dropped")],
)
def test_a_database_outage_after_the_route_is_logged_with_the_errors_type(
    failing: str, event: str
) -> None:
    with structlog.testing.capture_logs() as logs:
        call(middleware(Route(), Unavailable(failing)))
    assert {"event": event, "error_type": "OperationalError", "log_level": "warning"} in logs


def test_a_bearer_token_after_several_spaces_is_read() -> None:
    route = Route()
    replays = middleware(route)
    call(replays, authorization="Bearer  " + token())
    assert (
        call(replays, authorization="Bearer  " + token()).headers["idempotent-replayed"] == "true"
    )
