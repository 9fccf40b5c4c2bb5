"""A poison event (one no projection can write) stops each read model at it, named by
position, id and topic; an operator's ``projections skip`` resumes it, the decision is an
audited fact, and the connection's row is marked for attention. Real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from domain.application import SmsChannels
from domain.operator_decisions import skip_decisions
from domain.service.commands import ConnectNumber
from projections.channels_table import ChannelsTableProjection
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_us_number, wait_for
from workers.outage import is_transient
from workers.projector import ProjectorWorker

ACCOUNT = "acc_poison"


@pytest.fixture
def url(isolated_database_url: str) -> str:
    return isolated_database_url


@pytest.fixture
def app(url: str) -> Iterator[SmsChannels]:
    application = build_application(Settings(database_url=url), SandboxProvider())
    yield application
    application.close()


def tracking(url: str, name: str) -> dict[str, Any]:
    with psycopg.connect(url, row_factory=dict_row) as connection:
        row = connection.execute(
            "SELECT * FROM sms_projection_tracking WHERE name = %s", (name,)
        ).fetchone()
    return row or {}


def row_of(url: str, connection_id: Any) -> dict[str, Any]:
    with psycopg.connect(url, row_factory=dict_row) as connection:
        row = connection.execute(
            "SELECT * FROM sms_channels_rows WHERE connection_id = %s", (connection_id,)
        ).fetchone()
    assert row is not None
    return row


def skip_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``sms-channels projections skip …`` as an operator runs it: a process of its own."""
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "sms_channels.cli", "projections", "skip", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def poison(app: SmsChannels, connection_id: Any) -> int:
    """An AgentAssigned whose agent id holds a NUL, written past the domain's checks (as
    an older release or a bug could have): PostgreSQL text cannot store it."""
    connection = app.repository.get(connection_id)
    connection._agent_assigned(agent_id="evil\x00agent", assigned_by="u")
    (recording,) = app.save(connection)
    return recording.notification.id


def test_a_poison_event_stops_the_table_at_it_and_an_operators_skip_resumes_it(
    app: SmsChannels, url: str
) -> None:
    number = unique_us_number()
    command = ConnectNumber(ACCOUNT, "ws", "agent_1", "new", "US", None, number, "u")
    connection = app.connect(command).connection
    position = poison(app, connection.id)
    later = app.update_settings(ACCOUNT, connection.id, by="u", active=True).position
    stop = threading.Event()
    worker = ProjectorWorker(app, ChannelsTableProjection(), url, batch_size=100)
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        # Stopped exactly at the poison event, which the tracking row names.
        wait_for(lambda: tracking(url, "channels_table").get("error") is not None, timeout=30)
        stopped = tracking(url, "channels_table")
        assert stopped["error_position"] == position
        assert stopped["error_event_id"] == connection.id
        assert stopped["error_topic"].endswith("SmsConnection.AgentAssigned")
        assert stopped["position"] == position - 1
        assert thread.is_alive()  # waiting for the operator, not crashed
        # The operator's decision, from the shell.
        result = skip_cli(
            url, "channels_table", "--position", str(position),
            "--reason", "NUL in an agent id (written before the text rule)", "--by", "ops_ann",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        wait_for(lambda: tracking(url, "channels_table")["position"] >= later, timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
        worker.close()
    resumed = tracking(url, "channels_table")
    assert resumed["error"] is None
    row = row_of(url, connection.id)
    assert (row["active"], row["agent_id"], row["attention"]) == (True, "agent_1", True)
    (decision,) = skip_decisions(app)
    assert (decision.projection, decision.position, decision.event_id) == (
        "channels_table",
        position,
        connection.id,
    )
    assert decision.decided_by == "ops_ann"


def test_only_the_position_a_projection_stopped_at_can_be_skipped(
    app: SmsChannels, url: str
) -> None:
    result = skip_cli(url, "channels_table", "--position", "1", "--reason", "x")
    assert result.returncode == 1
    assert "not stopped" in result.stderr
    assert list(skip_decisions(app)) == []


def test_an_over_long_key_is_permanent_and_a_lost_connection_transient() -> None:
    limit = psycopg.errors.ProgramLimitExceeded("index row size exceeds btree maximum")
    assert not is_transient(limit)
    assert not is_transient(psycopg.errors.CharacterNotInRepertoire("NUL"))
    assert not is_transient(RuntimeError("a bug"))
    assert is_transient(psycopg.OperationalError("connection lost"))
    assert is_transient(psycopg.errors.LockNotAvailable("lock timeout"))


class FailsOnlyInBatches(ChannelsTableProjection):
    """A stand-in for a failure that only a whole batch triggers (no single event does)."""

    def flush(self, cursor: Any) -> None:
        if len(self.dirty) > 1:
            raise psycopg.errors.DataError("only as a batch")
        super().flush(cursor)


def test_a_failure_no_single_event_reproduces_stops_nothing(app: SmsChannels, url: str) -> None:
    for _ in range(3):
        command = ConnectNumber(
            ACCOUNT, "ws", "agent_1", "new", "US", None, unique_us_number(), "u"
        )
        app.connect(command)
    worker = ProjectorWorker(app, FailsOnlyInBatches(), url, batch_size=100)
    try:
        worker.catch_up()
    finally:
        worker.close()
    state = tracking(url, "channels_table")
    assert (state["position"], state["error"]) == (app.current_position(), None)
    assert worker.stopped is None
