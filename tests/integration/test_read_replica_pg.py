"""DATABASE_READ_URL: queries go to the read replica, and ``waitFor`` waits for the
replica's own tracking position (read-your-writes on the replica).

The "replica" is the same PostgreSQL reached as another role, ``sms_replica_reader``, whose
``search_path`` puts a schema of its own first: there a copy of the tracking table stands
for a standby that has not yet applied the projector's last commit (the test moves it
forward), while the read models' tables are the primary's. What is read through the
replica's URL is therefore told apart from what is read on the primary."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from psycopg import sql

from api.query_pool import ReadModels
from sms_channels.worker_set import build_workers
from tests.e2e.provider_support import Service, running_service, sandbox_settings
from tests.support.common import auth, unique_account, unique_us_number, wait_for

READER = "sms_replica_reader"
LAGGED = "replica_lag"
CHANNELS = "/channels/sms/connections"


def reader_url(database_url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    info["user"] = READER
    info["application_name"] = "sms-replica-test"
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})


@pytest.fixture
def replica(isolated_database_url: str) -> str:
    """The read URL: role ``sms_replica_reader``, SELECT only, its tracking table lagging."""
    with psycopg.connect(isolated_database_url, autocommit=True) as connection:
        # Roles are the cluster's: another test session may have created it already.
        with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(READER)))
        database = connection.info.dbname
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(LAGGED)))
        connection.execute(
            sql.SQL(
                "CREATE TABLE {}.sms_projection_tracking (LIKE public.sms_projection_tracking"
                " INCLUDING ALL)"
            ).format(sql.Identifier(LAGGED))
        )
        for schema in ("public", LAGGED):
            connection.execute(
                sql.SQL(
                    "GRANT USAGE ON SCHEMA {s} TO {r};"
                    " GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r};"
                    " ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {r}"
                ).format(s=sql.Identifier(schema), r=sql.Identifier(READER))
            )
        connection.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = {}, public").format(
                sql.Identifier(READER), sql.Identifier(database), sql.Identifier(LAGGED)
            )
        )
    return reader_url(isolated_database_url)


def replica_applies(database_url: str, name: str, position: int) -> None:
    """The standby catches up: its copy of ``name``'s tracking row reaches ``position``."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            f"INSERT INTO {LAGGED}.sms_projection_tracking (name, position) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
            (name, position),
        )


def primary_position(database_url: str, name: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT position FROM public.sms_projection_tracking WHERE name = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Deployment:
    service: Service
    database_url: str


@pytest.fixture
def deployment(isolated_database_url: str, replica: str) -> Iterator[Deployment]:
    """The API reading from the replica, the channels-table projection on the primary."""
    stop = threading.Event()
    workers = build_workers(sandbox_settings(isolated_database_url))
    projections = workers.projections(stop, ["channels_table"]).start()
    try:
        with running_service(
            isolated_database_url, database_read_url=replica, read_wait_seconds=1.0
        ) as service:
            yield Deployment(service, isolated_database_url)
    finally:
        stop.set()
        projections.join()
        workers.close()


def listed(http: httpx.Client, account: str, position: int) -> httpx.Response:
    return http.get(CHANNELS, params={"waitFor": position}, headers=auth(account))


def test_wait_for_waits_for_the_replicas_position_not_the_primarys(
    deployment: Deployment,
) -> None:
    http, url = deployment.service.http, deployment.database_url
    account = unique_account()
    created = deployment.service.connect(account, unique_us_number())
    assert created.status_code == 201
    position = created.json()["position"]
    wait_for(lambda: primary_position(url, "channels_table") >= position)

    # The primary has applied the write; the replica has not: the bounded wait ends with
    # the replica's lag, counted from the replica's position.
    behind = listed(http, account, position)
    assert behind.status_code == 200
    assert int(behind.headers["X-Projection-Lag"]) >= 1

    # A reader waiting while the replica catches up is answered once it has.
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(listed(http, account, position)))
    waiting.start()
    replica_applies(url, "channels_table", position)
    waiting.join(timeout=5)
    (caught_up,) = answers
    assert "X-Projection-Lag" not in caught_up.headers
    assert [row["id"] for row in caught_up.json()["items"]] == [created.json()["id"]]


def test_queries_and_exports_use_the_read_url_and_the_rest_the_primary(
    isolated_database_url: str, replica: str
) -> None:
    read_models = ReadModels(
        isolated_database_url,
        events_table="smschannels_events",
        pool_size=2,
        wait_seconds=1.0,
        read_conninfo=replica,
    )
    try:
        with read_models.cursor() as cursor:
            assert cursor.execute("SELECT current_user").fetchone() == (READER,)
        with read_models.export_cursor() as cursor:
            assert cursor.execute("SELECT current_user").fetchone() == (READER,)
        with read_models.control_cursor() as cursor:
            assert cursor.execute("SELECT current_user").fetchone() != (READER,)
        assert read_models.replica
    finally:
        read_models.close()


def test_without_a_read_url_everything_reads_the_primary(isolated_database_url: str) -> None:
    read_models = ReadModels(
        isolated_database_url, events_table="smschannels_events", pool_size=2, wait_seconds=1.0
    )
    try:
        assert not read_models.replica
        assert read_models.read_conninfo == read_models.conninfo
        assert read_models.pool.conninfo == read_models.control.conninfo
    finally:
        read_models.close()
