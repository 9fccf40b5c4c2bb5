"""The application's own doors to the agent directory and the audit reads: each passes the
account, the agent or connection and the precondition it was given (the modules behind them
have their own tests; these check the application's methods reach them whole)."""

from __future__ import annotations

import pytest

from domain.agent_directory import AgentInfo
from domain.errors import ConnectionNotFoundError, VersionConflictError
from tests.support.common import connected_id, popo_app

MAIN = AgentInfo("ws", "Main", "Agent", "kb_1", "KB")
RENAMED = AgentInfo("ws", "Main", "Agent renamed", "kb_1", "KB")


def test_an_agent_recorded_through_the_application_is_found_with_its_version() -> None:
    app = popo_app()
    assert app.upsert_agent("acc", "agent_1", MAIN) is not None
    assert app.find_agent("acc", "agent_1") == MAIN
    assert app.find_agent("acc_other", "agent_1") is None
    assert app.find_agent("acc", "agent_2") is None
    assert app.agent_version("acc", "agent_1") == 1
    assert app.agent_version("acc_other", "agent_1") is None
    assert app.agent_version("acc", "agent_2") is None


def test_the_applications_directory_writes_honour_their_precondition() -> None:
    app = popo_app()
    app.upsert_agent("acc", "agent_1", MAIN)
    with pytest.raises(VersionConflictError):
        app.upsert_agent("acc", "agent_1", RENAMED, admits=lambda version: version == 7)
    assert app.find_agent("acc", "agent_1") == MAIN
    app.upsert_agent("acc", "agent_1", RENAMED, admits=lambda version: version == 1)
    assert app.find_agent("acc", "agent_1") == RENAMED
    with pytest.raises(VersionConflictError):
        app.remove_agent("acc", "agent_1", admits=lambda version: version is None)
    assert app.remove_agent("acc_other", "agent_1") is None
    assert app.find_agent("acc", "agent_1") == RENAMED
    assert app.remove_agent("acc", "agent_1", admits=lambda version: version == 2) is not None
    assert app.find_agent("acc", "agent_1") is None


def test_the_applications_audit_reads_are_scoped_to_the_account_asked_for() -> None:
    app = popo_app()
    connection_id = connected_id(app)
    app.update_compliance("acc", connection_id, {"brand": {"displayName": "Acme"}}, by="u")
    history = app.compliance_history(connection_id, account_id="acc")
    assert (history.connection_id, len(history.versions)) == (connection_id, 1)
    connection, facts = app.registration_view(connection_id, account_id="acc")
    assert (connection.id, facts) == (connection_id, [])
    for read in (app.compliance_history, app.registration_view):
        with pytest.raises(ConnectionNotFoundError):
            read(connection_id, account_id="acc_other")
