"""A key's in-flight marker that could not be dropped (the database away when its request
ended) does not hold off the retry on the same process for the whole lease: the retry
drops it and runs (``api.idempotency.IdempotencyMiddleware``)."""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api import idempotency
from api.auth import TokenVerifier
from api.idempotency import (
    IN_FLIGHT_LEASE_SECONDS,
    IdempotencyMiddleware,
    MemoryResponseStore,
    StoredResponse,
)
from sms_channels.settings import Settings
from sms_channels.tokens import mint_token

SECRET = "undropped-markers-secret-" + "x" * 32


class StoreAwayAtTheEnd(MemoryResponseStore):
    """The in-memory store, whose ``finish`` fails while ``away`` (the database gone)."""

    def __init__(self) -> None:
        super().__init__()
        self.away = False

    def finish(
        self, account_id: str, key: str, holder: UUID, kept: tuple[str, StoredResponse] | None
    ) -> None:
        if self.away:
            raise OperationalError("the database is away")
        super().finish(account_id, key, holder, kept)


def _client(store: StoreAwayAtTheEnd, runs: list[str]) -> TestClient:
    async def write(request: Request) -> JSONResponse:
        runs.append(request.headers["idempotency-key"])
        return JSONResponse({"detail": "the database went away"}, status_code=503)

    app = Starlette(routes=[Route("/write", write, methods=["POST"])])
    verifier = TokenVerifier(Settings(persistence="memory", jwt_secret=SECRET))
    wrapped = IdempotencyMiddleware(app, store, verifier)
    token = mint_token(SECRET, account_id="acc_undropped", user_id="u")
    return TestClient(
        wrapped,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-1"},
    )


def test_a_retry_after_an_undropped_marker_runs_instead_of_409() -> None:
    store, runs = StoreAwayAtTheEnd(), list[str]()
    with _client(store, runs) as client:
        store.away = True  # the request ends while the database is away
        first = client.post("/write", json={"a": 1})
        assert first.status_code == 503
        assert store.begin("acc_undropped", "k-1", "f").holder is None  # its marker is still held
        store.away = False  # back: the retry drops the left marker and runs
        retry = client.post("/write", json={"a": 1})
    assert retry.status_code == 503  # the route's own answer, not 409 in progress
    assert runs == ["k-1", "k-1"]


def test_a_retry_while_the_database_is_still_away_is_503_not_run() -> None:
    store, runs = StoreAwayAtTheEnd(), list[str]()
    with _client(store, runs) as client:
        store.away = True
        client.post("/write", json={"a": 1})
        retry = client.post("/write", json={"a": 1})  # still away: cannot drop it
    assert retry.status_code == 503
    assert retry.headers["content-type"].startswith("application/problem+json")
    assert runs == ["k-1"]


def test_undropped_markers_are_forgotten_once_their_lease_has_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, runs = StoreAwayAtTheEnd(), list[str]()
    clock = [1000.0]
    monkeypatch.setattr(idempotency.time, "monotonic", lambda: clock[0])
    client = _client(store, runs)
    middleware = client.app
    assert isinstance(middleware, IdempotencyMiddleware)
    with client:
        store.away = True
        client.post("/write", json={"a": 1})  # k-1 left behind
        client.post("/write", json={"a": 1}, headers={"Idempotency-Key": "k-2"})
        assert set(middleware._undropped) == {("acc_undropped", "k-1"), ("acc_undropped", "k-2")}
        clock[0] += IN_FLIGHT_LEASE_SECONDS + 1  # their leases end
        client.post("/write", json={"a": 1}, headers={"Idempotency-Key": "k-3"})
    assert set(middleware._undropped) == {("acc_undropped", "k-3")}
