"""The channels table's capability columns on PostgreSQL: they change with connection,
registration and directory events, a rebuild reproduces them, and an older table gains
them through the idempotent migration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from domain.service.directory import remove_agent, upsert_agent
from projections.channels_table import ADDED_COLUMNS, ChannelsTableProjection
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account, unique_us_number
from workers.projector import ProjectorWorker, create_schema, rebuild

WITH_KB = AgentInfo("ws", "Support", "Ava", "kb_1", "Help center")
WITHOUT_KB = AgentInfo("ws", "Support", "Ava", None, None)
CAPABILITY_COLUMNS = [name for name, _ in ADDED_COLUMNS]


@pytest.fixture
def url(isolated_database_url: str) -> str:
    return isolated_database_url


@pytest.fixture
def app(url: str) -> Iterator[SmsChannels]:
    application = build_application(Settings(database_url=url), SandboxProvider())
    yield application
    application.close()


def project(app: SmsChannels, url: str) -> None:
    worker = ProjectorWorker(app, ChannelsTableProjection(), url)
    worker.catch_up()
    worker.close()


def query(url: str, statement: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as connection:
        return connection.execute(statement, params).fetchall()  # type: ignore[arg-type]


def capabilities(url: str, connection_id: UUID) -> tuple[Any, ...]:
    (row,) = query(
        url,
        "SELECT ingestion_enabled, ingestion_reason, outbound_permitted, outbound_reason"
        " FROM sms_channels_rows WHERE connection_id = %s",
        connection_id,
    )
    return tuple(row.values())


def active_us_connection(app: SmsChannels, account: str) -> UUID:
    command = ConnectNumber(account, "ws", "agent_1", "new", "US", None, unique_us_number(), "u")
    connection_id = app.connect(command).connection.id
    app.update_settings(account, connection_id, by="u", active=True)
    return connection_id


def test_capabilities_follow_directory_and_registration_events(app: SmsChannels, url: str) -> None:
    account = unique_account()
    connection_id = active_us_connection(app, account)
    project(app, url)
    # Active, but the agent is not in the directory yet.
    assert capabilities(url, connection_id) == (False, "agent_not_found", False, "agent_not_found")

    # The directory learns the agent with a knowledge base: messages come in, no replies
    # until the provider approves the campaign.
    upsert_agent(app, account, "agent_1", WITH_KB)
    project(app, url)
    assert capabilities(url, connection_id) == (True, None, False, "registration_required")

    app.record_registration_status(connection_id, "approved", raw_status="VERIFIED")
    project(app, url)
    assert capabilities(url, connection_id) == (True, None, True, None)

    # The agent loses its knowledge base (a directory event only): both go off.
    upsert_agent(app, account, "agent_1", WITHOUT_KB)
    project(app, url)
    assert capabilities(url, connection_id) == (False, "kb_unresolved", False, "kb_unresolved")

    upsert_agent(app, account, "agent_1", WITH_KB)
    app.record_registration_status(connection_id, "suspended", raw_status="SUSPENDED")
    project(app, url)
    assert capabilities(url, connection_id) == (True, None, False, "campaign_suspended")

    remove_agent(app, account, "agent_1")
    project(app, url)
    assert capabilities(url, connection_id) == (False, "agent_not_found", False, "agent_not_found")


def test_a_reclaimed_number_loses_both_capabilities(app: SmsChannels, url: str) -> None:
    account = unique_account()
    connection_id = active_us_connection(app, account)
    upsert_agent(app, account, "agent_1", WITH_KB)
    app.record_registration_status(connection_id, "approved")
    app.record_reclaimed(connection_id, "reclaimed")
    project(app, url)
    assert capabilities(url, connection_id) == (
        False,
        "number_reclaimed",
        False,
        "number_reclaimed",
    )


def test_a_rebuild_reproduces_the_capabilities(app: SmsChannels, url: str) -> None:
    account = unique_account()
    approved, suspended, without_kb = (active_us_connection(app, account) for _ in range(3))
    upsert_agent(app, account, "agent_1", WITH_KB)
    app.record_registration_status(approved, "approved")
    app.record_registration_status(suspended, "suspended")
    app.update_settings(account, without_kb, by="u", agent_id="agent_2")
    upsert_agent(app, account, "agent_2", WITHOUT_KB)
    project(app, url)
    before = query(url, "SELECT * FROM sms_channels_rows ORDER BY connection_id")
    assert {capabilities(url, c)[3] for c in (approved, suspended, without_kb)} == {
        None,
        "campaign_suspended",
        "kb_unresolved",
    }
    rebuild(app, "channels_table", url, batch_size=2)
    assert query(url, "SELECT * FROM sms_channels_rows ORDER BY connection_id") == before


def test_the_migration_adds_the_columns_to_an_older_table_and_a_rebuild_fills_them(
    app: SmsChannels, url: str
) -> None:
    account = unique_account()
    connection_id = active_us_connection(app, account)
    upsert_agent(app, account, "agent_1", WITH_KB)
    project(app, url)
    # The table as the previous release created it: without the capability columns.
    with psycopg.connect(url, autocommit=True) as connection:
        for name in CAPABILITY_COLUMNS:
            connection.execute(f"ALTER TABLE sms_channels_rows DROP COLUMN {name}")  # type: ignore[arg-type]

    create_schema(url)
    create_schema(url)  # idempotent
    # Untouched rows deny both until recomputed, never claim a capability.
    assert capabilities(url, connection_id) == (False, "not_computed", False, "not_computed")

    rebuild(app, "channels_table", url)
    assert capabilities(url, connection_id) == (True, None, False, "registration_required")


def test_the_migration_drops_the_retired_degraded_state_read_model(url: str) -> None:
    # What the previous release left: the degraded-state tables and its tracking row, which
    # nothing reads now (its reasons and since live in the channels table).
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS sms_degraded_state (id uuid)")
        connection.execute("CREATE TABLE IF NOT EXISTS sms_degraded_agents (id text)")
        connection.execute(
            "INSERT INTO sms_projection_tracking (name, position) VALUES ('degraded_state', 3)"
            " ON CONFLICT (name) DO NOTHING"
        )
    create_schema(url)
    left = query(
        url,
        "SELECT to_regclass('sms_degraded_state') AS state,"
        " to_regclass('sms_degraded_agents') AS agents,"
        " (SELECT count(*) FROM sms_projection_tracking WHERE name = 'degraded_state') AS tracked",
    )
    assert left == [{"state": None, "agents": None, "tracked": 0}]
