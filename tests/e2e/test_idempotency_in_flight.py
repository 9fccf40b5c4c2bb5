"""Idempotency with the request in flight (issue 28, item 5), on a real server and a real
PostgreSQL: a retry that arrives while the first request with its key still runs is never
executed again (409 ``idempotency_request_in_progress`` with ``Retry-After``, or the first
answer); a crashed request's marker expires; and a connect whose 503 comes after anything
was recorded names the connection."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from api.idempotency import IN_FLIGHT_TABLE, TABLE, Begun, PostgresResponseStore, StoredResponse
from api.main import create_app
from api.query_pool import ReadModels
from domain.providers import ProviderUnavailableError, ProvisionedNumber
from providers.sandbox import PostgresLedger, SandboxProvider
from sms_channels.bootstrap import build_application
from tests.e2e.provider_support import Service, running_service, sandbox_settings
from tests.support.common import auth, live_server, unique_account, unique_us_number, wait_for

TRIES = 10


class HeldPurchase(SandboxProvider):
    """The sandbox, whose purchases wait until the test lets them finish."""

    def __init__(self, ledger: PostgresLedger) -> None:
        super().__init__(ledger)
        self.buying = threading.Event()
        self.finish = threading.Event()

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        self.buying.set()
        assert self.finish.wait(10), "the test never let the purchase finish"
        return super().purchase(country, phone_number, reference=reference)


class LostAnswer(SandboxProvider):
    """The sandbox, whose purchase goes through but whose answer is lost (a timeout): the
    number is bought and then the provider is down for a while."""

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        super().purchase(country, phone_number, reference=reference)
        self.failures.outage_retry_after = 7
        raise ProviderUnavailableError(7)


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    with running_service(database_url) as running:
        yield running


def _connected(service: Service, account: str) -> str:
    created = service.connect(account, unique_us_number())
    assert created.status_code == 201, created.text
    return str(created.headers["Location"])


def test_two_concurrent_deletes_with_one_key_execute_once(service: Service) -> None:
    outcomes: list[tuple[int, ...]] = []
    for _ in range(TRIES):
        account = unique_account()
        location = _connected(service, account)
        headers = {**auth(account), "Idempotency-Key": f"del-{uuid.uuid4().hex}"}
        start = threading.Barrier(2)

        def delete(
            location: str = location,
            headers: dict[str, str] = headers,
            start: threading.Barrier = start,
        ) -> httpx.Response:
            start.wait()
            return service.http.delete(location, headers=headers)

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: delete(), range(2)))
        statuses = tuple(sorted(a.status_code for a in answers))
        outcomes.append(statuses)
        assert statuses in {(204, 204), (204, 409)}, [a.text for a in answers]
        if statuses == (204, 204):  # the second came after the first answer: a replay
            assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 1
        for answer in answers:
            if answer.status_code == 409:
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.json()["code"] == "idempotency_request_in_progress"
                assert int(answer.headers["Retry-After"]) >= 1
    print(f"concurrent DELETE pairs over {TRIES} tries: {outcomes}")


@pytest.fixture
def held(database_url: str) -> Iterator[Service]:
    ledger = PostgresLedger(database_url, max_size=2)
    with running_service(database_url, provider=HeldPurchase(ledger)) as running:
        yield running


def test_a_retry_while_the_first_runs_gets_409_then_the_first_answer(held: Service) -> None:
    provider = held.provider
    assert isinstance(provider, HeldPurchase)
    account, number = unique_account(), unique_us_number()
    headers = {**auth(account), "Idempotency-Key": "connect-1"}
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": number,
        "workspaceId": "ws_1",
        "agentId": "agent_1",
    }
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(held.http.post, "/channels/sms/connect", json=body, headers=headers)
        assert provider.buying.wait(10)
        retry = held.http.post("/channels/sms/connect", json=body, headers=headers)
        assert retry.status_code == 409
        assert retry.json()["code"] == "idempotency_request_in_progress"
        assert retry.headers["Retry-After"] == "1"
        provider.finish.set()
        assert first.result().status_code == 201
    replay = held.http.post("/channels/sms/connect", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.result().json()["id"]


def test_a_marker_left_by_a_crashed_request_expires(database_url: str) -> None:
    read_models = ReadModels(
        database_url, events_table="smschannels_events", pool_size=2, wait_seconds=0
    )
    try:
        store = PostgresResponseStore(read_models)
        account = unique_account()
        crashed = store.begin(account, "k", "f").holder
        assert crashed is not None
        assert store.begin(account, "k", "f").holder is None  # held: a retry would get 409
        assert store.begin(account, "other-key", "f").holder is not None
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                f"UPDATE {IN_FLIGHT_TABLE} SET lease_until = now() - interval '1 second'"
                " WHERE account_id = %s AND idempotency_key = 'k'",
                (account,),
            )
        retried = store.begin(account, "k", "f").holder
        assert retried is not None  # the lease ran out: the retry runs
        store.finish(account, "k", crashed, None)  # the crashed holder's late finish drops nothing
        assert store.begin(account, "k", "f").holder is None
        store.finish(account, "k", retried, None)
        assert store.begin(account, "k", "f").holder is not None
    finally:
        read_models.close()


def test_a_retry_meeting_the_first_request_as_it_stores_its_answer_replays_it(
    database_url: str,
) -> None:
    """The first request stores its answer and drops its marker (in one transaction, held
    open here) just as the retry looks: the retry waits on the marker, then finds the
    answer. It is never run a second time, and it leaves no marker behind."""
    read_models = ReadModels(
        database_url, events_table="smschannels_events", pool_size=2, wait_seconds=0
    )
    account = unique_account()
    try:
        store = PostgresResponseStore(read_models)
        first = store.begin(account, "k", "f").holder
        assert first is not None
        with psycopg.connect(database_url) as finishing:  # not committed until told
            finishing.execute(
                f"INSERT INTO {TABLE} (account_id, idempotency_key, fingerprint, status,"
                " headers, body) VALUES (%s, 'k', 'f', 201, '[]', 'first')",
                (account,),
            )
            finishing.execute(
                f"DELETE FROM {IN_FLIGHT_TABLE} WHERE account_id = %s AND holder = %s",
                (account, first),
            )
            with ThreadPoolExecutor(1) as pool:
                retry = pool.submit(store.begin, account, "k", "f")
                wait_for(lambda: _waiting_on_a_lock(database_url))
                finishing.commit()
                found = retry.result(timeout=10)
        assert found == Begun(stored=StoredResponse(201, [], b"first"))
        with psycopg.connect(database_url) as connection:
            left = connection.execute(
                f"SELECT count(*) FROM {IN_FLIGHT_TABLE} WHERE account_id = %s", (account,)
            ).fetchone()
        assert left == (0,)
    finally:
        read_models.close()


def _waiting_on_a_lock(database_url: str) -> bool:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        ).fetchone()
    return bool(row and row[0])


def test_a_connect_503_after_the_purchase_names_the_connection(database_url: str) -> None:
    """The purchase went through but its answer was lost, and the provider stays down: the
    first 503 and the retry's 503 both name the connection, which ends up connected."""
    ledger = PostgresLedger(database_url, max_size=2)
    provider = LostAnswer(ledger)
    with running_service(database_url, provider=provider) as service:
        account, number = unique_account(), unique_us_number()
        keyed = {**auth(account), "Idempotency-Key": "lost-1"}
        body = {
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": number,
            "workspaceId": "ws_1",
            "agentId": "agent_1",
        }
        answers = [
            service.http.post("/channels/sms/connect", json=body, headers=keyed) for _ in range(2)
        ]
        ids = set()
        for answer in answers:
            assert answer.status_code == 503
            assert answer.headers["Retry-After"] == "7"
            ids.add(answer.json()["connectionId"])
            assert answer.headers["Location"].endswith(answer.json()["connectionId"])
        assert len(ids) == 1
        provider.failures.outage_retry_after = None
        resumed = service.http.post("/channels/sms/connect", json=body, headers=keyed)
        assert resumed.status_code == 201
        assert resumed.json()["id"] == ids.pop()
        assert resumed.json()["status"] == "connected"


def test_a_connect_whose_answer_cannot_be_built_names_the_committed_connection(
    database_url: str,
) -> None:
    """The number is bought and the connection committed connected, then the read models
    cannot be reached while the answer is built: 503 with connectionId and Location."""
    settings = sandbox_settings(database_url)
    application = build_application(
        settings, SandboxProvider(PostgresLedger(database_url, max_size=2))
    )
    app = create_app(settings, application)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        account, number = unique_account(), unique_us_number()
        read_models: ReadModels = app.state.read_models
        read_models.pool.timeout = 0.2
        wait_for(lambda: read_models.pool.get_stats().get("pool_available", 0) >= 1)
        taken = [read_models.pool.getconn() for _ in range(read_models.pool.max_size)]
        try:
            answer = http.post(
                "/channels/sms/connect",
                json={
                    "mode": "new",
                    "countryCode": "US",
                    "phoneNumber": number,
                    "workspaceId": "ws_1",
                    "agentId": "agent_1",
                },
                headers=auth(account),
            )
        finally:
            for connection in taken:
                read_models.pool.putconn(connection)
        assert answer.status_code == 503
        assert answer.json()["code"] == "service_unavailable"
        connection_id = answer.json()["connectionId"]
        assert answer.headers["Location"].endswith(connection_id)
        read = http.get(answer.headers["Location"], headers=auth(account))
        assert read.status_code == 200
        assert read.json()["status"] == "connected"
