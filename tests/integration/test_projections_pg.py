"""Each read model's rows after each kind of event, directory-driven changes, loud
projection errors, and rebuilds, on a database of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from domain.service.directory import remove_agent, upsert_agent
from projections.base import ProjectionError
from projections.channels_table import ChannelsTableProjection
from projections.registry import PROJECTIONS
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_us_number
from workers.projector import ProjectorWorker, rebuild

ACCOUNT = "acc_projections"
WITH_KB = AgentInfo("ws", "Support", "Ava", "kb_1", "Help center")


@pytest.fixture
def url(isolated_database_url: str) -> str:
    return isolated_database_url


@pytest.fixture
def app(url: str) -> Iterator[SmsChannels]:
    application = build_application(Settings(database_url=url), SandboxProvider())
    yield application
    application.close()


def project(app: SmsChannels, url: str) -> None:
    for projection in PROJECTIONS.values():
        worker = ProjectorWorker(app, projection(), url)
        worker.catch_up()
        worker.close()


def rows(url: str, query: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as connection:
        return connection.execute(query, params).fetchall()  # type: ignore[arg-type]


def connect(app: SmsChannels, mode: str = "new", agent: str = "agent_1") -> Any:
    command = ConnectNumber(ACCOUNT, "ws", agent, mode, "US", None, unique_us_number(), "u")  # type: ignore[arg-type]
    return app.connect(command).connection


def channel(url: str, connection_id: Any) -> dict[str, Any]:
    (row,) = rows(url, "SELECT * FROM sms_channels_rows WHERE connection_id = %s", connection_id)
    return row


def test_a_connected_number_appears_in_the_channels_table(app: SmsChannels, url: str) -> None:
    connection = connect(app)
    project(app, url)
    row = channel(url, connection.id)
    assert (row["phone_number"], row["status"], row["active"], row["version"]) == (
        connection.phone_number,
        "connected",
        False,
        connection.version,
    )


def test_agent_activation_registration_and_compliance_counts_reach_the_row(
    app: SmsChannels, url: str
) -> None:
    connection = connect(app)
    app.update_settings(ACCOUNT, connection.id, by="u", agent_id="agent_2", active=True)
    app.record_registration_status(connection.id, "pending", raw_status="IN_REVIEW")
    app.update_compliance(ACCOUNT, connection.id, {"brand": {"displayName": "SECRET-X"}}, by="u")
    project(app, url)
    row = channel(url, connection.id)
    assert (row["agent_id"], row["active"], row["registration_status"]) == (
        "agent_2",
        True,
        "pending",
    )
    assert row["compliance_total"] > 0
    assert "SECRET-X" not in repr(rows(url, "SELECT * FROM sms_channels_rows"))


def test_a_deleted_connection_leaves_the_table(app: SmsChannels, url: str) -> None:
    connection = connect(app)
    project(app, url)
    app.delete(ACCOUNT, connection.id, by="u")
    project(app, url)
    assert (
        rows(url, "SELECT 1 FROM sms_channels_rows WHERE connection_id = %s", connection.id) == []
    )


def test_the_knowledge_base_is_resolved_through_the_agent(app: SmsChannels, url: str) -> None:
    connection = connect(app)
    upsert_agent(app, ACCOUNT, "agent_1", WITH_KB)
    project(app, url)
    row = channel(url, connection.id)
    assert (row["workspace_name"], row["agent_name"], row["kb_name"], row["is_degraded"]) == (
        "Support",
        "Ava",
        "Help center",
        False,
    )


def test_an_agent_losing_its_knowledge_base_degrades_its_rows_without_a_connection_event(
    app: SmsChannels, url: str
) -> None:
    first, second = connect(app), connect(app)
    upsert_agent(app, ACCOUNT, "agent_1", WITH_KB)
    project(app, url)
    upsert_agent(app, ACCOUNT, "agent_1", AgentInfo("ws", "Support", "Ava", None, None))
    project(app, url)
    for connection in (first, second):
        row = channel(url, connection.id)
        assert row["degraded_reasons"] == ["kb_unresolved"]
        assert row["degraded_since"] is not None


def test_a_deleted_agent_makes_its_rows_agent_not_found(app: SmsChannels, url: str) -> None:
    connection = connect(app)
    upsert_agent(app, ACCOUNT, "agent_1", WITH_KB)
    remove_agent(app, ACCOUNT, "agent_1")
    project(app, url)
    assert channel(url, connection.id)["degraded_reasons"] == ["agent_not_found"]
    assert rows(url, "SELECT * FROM agent_directory WHERE agent_id = 'agent_1'") == []


def test_an_agent_of_another_workspace_does_not_resolve(app: SmsChannels, url: str) -> None:
    connection = connect(app)
    upsert_agent(app, ACCOUNT, "agent_1", AgentInfo("ws_other", "Sales", "Ava", "kb", "KB"))
    project(app, url)
    assert channel(url, connection.id)["degraded_reasons"] == ["agent_not_found"]


def test_degraded_since_is_kept_while_degraded_and_cleared_when_healthy(
    app: SmsChannels, url: str
) -> None:
    connection = connect(app)
    project(app, url)
    query = (
        "SELECT degraded_reasons AS reasons, degraded_since AS since FROM sms_channels_rows"
        " WHERE connection_id = %s"
    )
    (before,) = rows(url, query, connection.id)
    upsert_agent(app, ACCOUNT, "agent_1", AgentInfo("ws", "Support", "Ava", None, None))
    project(app, url)
    (still,) = rows(url, query, connection.id)
    upsert_agent(app, ACCOUNT, "agent_1", WITH_KB)
    project(app, url)
    (healthy,) = rows(url, query, connection.id)
    assert (before["reasons"], still["reasons"]) == (["agent_not_found"], ["kb_unresolved"])
    assert still["since"] == before["since"]
    assert healthy == {"reasons": [], "since": None}


def test_reclaim_and_failure_are_degraded_reasons(app: SmsChannels, url: str) -> None:
    upsert_agent(app, ACCOUNT, "agent_1", WITH_KB)
    reclaimed = connect(app)
    app.record_reclaimed(reclaimed.id, "expired")
    pending = connect(app, mode="byon")
    app.record_provisioning_failed(pending.id, "hosting_failed", "ownership not verified")
    project(app, url)
    assert channel(url, reclaimed.id)["degraded_reasons"] == ["number_reclaimed"]
    assert channel(url, reclaimed.id)["reclaim_reason"] == "expired"
    assert channel(url, reclaimed.id)["actions"] == ["edit", "delete", "replaceNumber"]
    assert channel(url, pending.id)["degraded_reasons"] == ["provisioning_failed"]


def test_sms_requests_follow_the_number_lifecycle(app: SmsChannels, url: str) -> None:
    fulfilled, failed, reclaimed, cancelled, waiting = (
        connect(app),
        connect(app, "byon"),
        connect(app),
        connect(app, "byon"),
        connect(app, "byon"),
    )
    app.record_hosting_progress(waiting.id, "Waiting for the letter of authorization.")
    app.record_hosting_progress(failed.id, "Waiting for the ownership to be verified.")
    app.record_provisioning_failed(failed.id, "hosting_failed", "not verified")
    app.record_reclaimed(reclaimed.id, "released")
    app.delete(ACCOUNT, cancelled.id, by="u")
    project(app, url)
    found = {
        r["connection_id"]: (r["status"], r["reason"])
        for r in rows(url, "SELECT * FROM sms_requests WHERE account_id = %s", ACCOUNT)
    }
    assert found == {
        fulfilled.id: ("fulfilled", None),
        failed.id: ("failed", "hosting_failed"),
        reclaimed.id: ("reclaimed", "released"),
        cancelled.id: ("cancelled", None),
        waiting.id: ("pending", "Waiting for the letter of authorization."),
    }


class ExplodingProjection(ChannelsTableProjection):
    """The channels projection, failing on AgentAssigned (a bug stand-in)."""

    def handle(self, event: Any) -> None:
        if type(event).__qualname__ == "SmsConnection.AgentAssigned":
            raise RuntimeError("boom")
        super().handle(event)


def test_a_projection_error_stops_exactly_at_the_failing_event_and_names_it(
    app: SmsChannels, url: str
) -> None:
    connection = connect(app)
    failing = app.update_settings(ACCOUNT, connection.id, by="u", agent_id="agent_9")
    broken = ProjectorWorker(app, ExplodingProjection(), url)
    with pytest.raises(ProjectionError) as caught:
        broken.catch_up()
    broken.close()
    assert caught.value.notification_id == failing.position
    (tracking,) = rows(url, "SELECT * FROM sms_projection_tracking WHERE name = 'channels_table'")
    # The events before the failing one were applied (narrowed down one by one); the stop
    # names the failing event's position, aggregate id and topic for the operator.
    assert tracking["position"] < failing.position
    assert tracking["error_position"] == failing.position
    assert tracking["error_event_id"] == connection.id
    assert tracking["error_topic"].endswith("SmsConnection.AgentAssigned")
    assert tracking["error"] == "RuntimeError"
    assert channel(url, connection.id)["agent_id"] != "agent_9"
    # The fixed projection resumes from the recorded position and clears the error.
    fixed = ProjectorWorker(app, ChannelsTableProjection(), url)
    fixed.catch_up()
    fixed.close()
    assert channel(url, connection.id)["agent_id"] == "agent_9"
    (tracking,) = rows(url, "SELECT * FROM sms_projection_tracking WHERE name = 'channels_table'")
    assert tracking["error"] is None


def test_small_batches_give_the_same_rows_as_large_ones(app: SmsChannels, url: str) -> None:
    for _ in range(5):
        connection = connect(app)
        app.update_settings(ACCOUNT, connection.id, by="u", active=True)
    upsert_agent(app, ACCOUNT, "agent_1", WITH_KB)
    project(app, url)
    large = rows(url, "SELECT * FROM sms_channels_rows ORDER BY connection_id")
    rebuild(app, "channels_table", url, batch_size=1)
    assert rows(url, "SELECT * FROM sms_channels_rows ORDER BY connection_id") == large


@pytest.mark.parametrize("name", list(PROJECTIONS))
def test_a_rebuild_reproduces_the_live_tables(app: SmsChannels, url: str, name: str) -> None:
    for _ in range(3):
        connection = connect(app)
        app.update_compliance(ACCOUNT, connection.id, {"brand": {"city": "SF"}}, by="u")
    connect(app, "byon")
    upsert_agent(app, ACCOUNT, "agent_1", WITH_KB)
    project(app, url)
    tables = PROJECTIONS[name].tables
    before = {t: rows(url, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    position = rebuild(app, name, url)
    after = {t: rows(url, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    assert after == before
    assert position == app.current_position()


def test_an_sms_request_is_listed_in_the_workspace_its_connection_moved_to(
    app: SmsChannels, url: str
) -> None:
    pending = connect(app, "byon")
    upsert_agent(app, ACCOUNT, "agent_2", AgentInfo("ws_2", "Sales", "Bo", None, None))
    app.update_settings(ACCOUNT, pending.id, by="u", workspace_id="ws_2", agent_id="agent_2")
    project(app, url)
    (row,) = rows(url, "SELECT * FROM sms_requests WHERE connection_id = %s", pending.id)
    assert row["workspace_id"] == "ws_2"
    assert row["updated_at"] == row["created_at"]  # a move is not a change of the request
