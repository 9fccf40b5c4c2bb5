"""The write model on a real PostgreSQL: claims under concurrency, stale versions,
idempotent connects, encryption at rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from pydantic import SecretStr

from domain.application import SmsChannels
from domain.errors import DomainError, VersionConflictError
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account, unique_us_number


def connect_command(account: str, number: str, key: str | None = None) -> ConnectNumber:
    return ConnectNumber(
        account_id=account,
        workspace_id="ws",
        agent_id="agent",
        mode="new",
        country="US",
        area_code=None,
        phone_number=number,
        requested_by="u",
        idempotency_key=key,
    )


def event_rows(database_url: str, originator_id: object) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM smschannels_events WHERE originator_id = %s", (originator_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_twenty_threads_connecting_one_number_make_exactly_one_connection(
    pg_settings: Settings,
) -> None:
    # Twenty clients (each with its own application, as separate API processes would be)
    # race to connect the same number; the number claim lets exactly one commit.
    number, provider = unique_us_number(), SandboxProvider()
    small_pools = pg_settings.model_copy(
        update={"postgres_pool_size": 2, "postgres_max_overflow": 0}
    )
    apps = [build_application(small_pools, provider) for _ in range(20)]
    barrier = threading.Barrier(len(apps))
    outcomes: list[str] = []

    def race(application: SmsChannels) -> None:
        barrier.wait()
        try:
            application.connect(connect_command(unique_account(), number))
            outcomes.append("connected")
        except DomainError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=race, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for application in apps:
        application.close()
    assert len(outcomes) == len(apps)  # every racer ended with an outcome: none died
    assert outcomes.count("connected") == 1
    assert outcomes.count("number_already_connected") == len(apps) - 1


def test_a_stale_expected_version_is_refused_and_records_nothing(
    pg_app: SmsChannels, database_url: str
) -> None:
    account = unique_account()
    result = pg_app.connect(connect_command(account, unique_us_number()))
    connection_id, version = result.connection.id, result.connection.version
    pg_app.update_compliance(
        account, connection_id, {"brand": {"city": "SF"}}, by="u", expected_version=version
    )
    rows_before = event_rows(database_url, connection_id)
    with pytest.raises(VersionConflictError):
        pg_app.update_compliance(
            account, connection_id, {"brand": {"city": "LA"}}, by="u", expected_version=version
        )
    assert event_rows(database_url, connection_id) == rows_before
    assert pg_app.get_connection(account, connection_id).compliance == {"brand": {"city": "SF"}}


def test_the_same_idempotency_key_twice_makes_one_connection(
    pg_app: SmsChannels, database_url: str
) -> None:
    account, number = unique_account(), unique_us_number()
    first = pg_app.connect(connect_command(account, number, key="retry-me"))
    second = pg_app.connect(connect_command(account, number, key="retry-me"))
    assert second.connection.id == first.connection.id
    assert event_rows(database_url, first.connection.id) == first.connection.version


def test_the_same_idempotency_key_racing_in_two_threads_makes_one_connection(
    pg_settings: Settings,
) -> None:
    account, number, provider = unique_account(), unique_us_number(), SandboxProvider()
    apps = [build_application(pg_settings, provider) for _ in range(4)]
    barrier = threading.Barrier(len(apps))
    ids: list[object] = []

    def race(application: SmsChannels) -> None:
        barrier.wait()
        ids.append(application.connect(connect_command(account, number, key="k")).connection.id)

    threads = [threading.Thread(target=race, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for application in apps:
        application.close()
    assert len(ids) == len(apps)
    assert len(set(ids)) == 1


def _table_contents(database_url: str) -> Iterator[object]:
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            query = psycopg.sql.SQL("SELECT * FROM {}.{}").format(
                psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table)
            )
            for row in connection.execute(query):
                yield from row


def _canary_stored(database_url: str, canary: str) -> bool:
    for value in _table_contents(database_url):
        raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
        if canary.encode() in raw:
            return True
    return False


@pytest.mark.parametrize("encrypted", [True, False])
def test_with_a_cipher_key_no_compliance_value_is_stored_in_clear(
    pg_settings: Settings, isolated_database_url: str, encrypted: bool
) -> None:
    # The unencrypted run is the control: it proves the scan finds a canary when one is there.
    canary = f"CANARY-{unique_account()}"
    key = AESCipher.create_key(32) if encrypted else None
    settings = pg_settings.model_copy(
        update={
            "database_url": isolated_database_url,
            "cipher_key": SecretStr(key) if key else None,
        }
    )
    application = build_application(settings, SandboxProvider())
    account = unique_account()
    result = application.connect(
        replace(
            connect_command(account, unique_us_number()),
            compliance={"brand": {"displayName": canary}},
        )
    )
    application.update_compliance(
        account, result.connection.id, {"campaign": {"helpMessage": canary}}, by="u"
    )
    application.close()
    assert _canary_stored(isolated_database_url, canary) is not encrypted
