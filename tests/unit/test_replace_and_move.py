"""The application's new commands, in memory: replace-number, workspace moves, and the
resumable interrupted connect."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.errors import (
    ConnectionNotFoundError,
    InvalidTransitionError,
    NumberAlreadyConnectedError,
    UnknownAgentError,
)
from domain.ids import legacy_connection_id
from domain.providers import (
    NumberUnavailableError,
    ProviderUnavailableError,
    ProvisioningInterruptedError,
)
from domain.service.commands import ConnectNumber, NewNumber
from domain.service.directory import upsert_agent
from domain.sms_connections import SmsConnection
from tests.support.fakes import FailingProvider

ACCOUNT = "acc"


def connect(
    number: str = "+14155550123", workspace: str = "ws", key: str | None = None
) -> ConnectNumber:
    return ConnectNumber(ACCOUNT, workspace, "agent", "new", "US", "415", number, "u", key)


@pytest.fixture
def provider() -> FailingProvider:
    return FailingProvider()


@pytest.fixture
def app(provider: FailingProvider) -> SmsChannels:
    return SmsChannels(provider, env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def new_number(key: str = "r1", number: str = "+14155550124") -> NewNumber:
    return NewNumber("new", "US", "415", number, "u2", key)


def test_a_connected_number_cannot_be_replaced_and_nothing_is_recorded(app: SmsChannels) -> None:
    connected = app.connect(connect()).connection
    before = app.current_position()
    with pytest.raises(InvalidTransitionError):
        app.replace_number(ACCOUNT, connected.id, new_number())
    assert app.current_position() == before


def test_a_deleted_connection_is_not_found_for_a_replacement(app: SmsChannels) -> None:
    old = app.connect(connect()).connection
    app.record_reclaimed(old.id, "released")
    app.delete(ACCOUNT, old.id, by="u")
    before = app.current_position()
    with pytest.raises(ConnectionNotFoundError) as caught:
        app.replace_number(ACCOUNT, old.id, new_number())
    assert caught.value.connection_id == old.id
    assert app.current_position() == before


def test_a_connection_is_replaced_once(app: SmsChannels) -> None:
    old = app.connect(connect()).connection
    app.record_reclaimed(old.id, "released")
    first = app.replace_number(ACCOUNT, old.id, new_number("r1")).connection
    with pytest.raises(InvalidTransitionError):
        app.replace_number(ACCOUNT, old.id, new_number("r2", "+14155550125"))
    assert app.get_connection(ACCOUNT, old.id).replaced_by == first.id


def test_a_failed_replacement_can_itself_be_replaced(
    app: SmsChannels, provider: FailingProvider
) -> None:
    old = app.connect(connect()).connection
    app.record_reclaimed(old.id, "reclaimed")
    provider.error = NumberUnavailableError()
    with pytest.raises(NumberUnavailableError):
        app.replace_number(ACCOUNT, old.id, new_number("r1"))
    provider.error = None
    # The old connection points at its replacement even though the provider refused it.
    replaced_by = app.get_connection(ACCOUNT, old.id).replaced_by
    assert replaced_by is not None
    failed = app.get_connection(ACCOUNT, replaced_by)
    assert failed.status == "failed"
    again = app.replace_number(ACCOUNT, failed.id, new_number("r2", "+14155550127")).connection
    assert (again.status, again.workspace_id) == ("connected", "ws")
    assert app.get_connection(ACCOUNT, failed.id).replaced_by == again.id


def test_a_move_needs_an_agent_listed_in_the_target_workspace(app: SmsChannels) -> None:
    connection = app.connect(connect()).connection
    upsert_agent(app, ACCOUNT, "agent_2", AgentInfo("ws_1", "One", "Bo", None, None))
    with pytest.raises(UnknownAgentError):
        app.update_settings(ACCOUNT, connection.id, by="u", workspace_id="ws_2", agent_id="agent_2")
    moved = app.update_settings(
        ACCOUNT, connection.id, by="u", workspace_id="ws_1", agent_id="agent_2"
    ).connection
    assert (moved.workspace_id, moved.agent_id) == ("ws_1", "agent_2")


def test_an_interrupted_connect_names_its_pending_connection_and_a_plain_retry_resumes_it(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError(9)
    with pytest.raises(ProvisioningInterruptedError) as interrupted:
        app.connect(connect())
    assert interrupted.value.retry_after_seconds == 9
    pending = app.get_connection(ACCOUNT, interrupted.value.connection_id)
    assert pending.status == "requested"
    provider.error = None
    resumed = app.connect(connect()).connection
    assert (resumed.id, resumed.status) == (pending.id, "connected")


def test_a_retry_for_another_workspace_does_not_take_over_a_pending_request(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError()
    with pytest.raises(ProvisioningInterruptedError):
        app.connect(connect())
    provider.error = None
    with pytest.raises(NumberAlreadyConnectedError):
        app.connect(connect(workspace="ws_other"))


def test_a_replacement_gets_the_new_numbers_area_code_and_a_replay_answers_it_again(
    app: SmsChannels,
) -> None:
    old = app.connect(connect()).connection
    app.record_reclaimed(old.id, "released")
    number = NewNumber("new", "US", "212", "+12125550124", "u2", "replace-key-1")
    first = app.replace_number(ACCOUNT, old.id, number).connection
    assert (first.area_code, first.phone_number) == ("212", "+12125550124")
    again = app.replace_number(ACCOUNT, old.id, number).connection  # the same Idempotency-Key
    assert again.id == first.id


def test_a_move_to_a_workspace_without_the_agent_names_that_workspace(app: SmsChannels) -> None:
    connection = app.connect(connect()).connection
    with pytest.raises(UnknownAgentError) as refused:
        app.update_settings(ACCOUNT, connection.id, by="u", workspace_id="ws_2", agent_id="a_2")
    assert refused.value.message == "The agent is not in the directory of workspace 'ws_2'."


def test_the_replaced_connection_records_who_replaced_it(app: SmsChannels) -> None:
    old = app.connect(connect()).connection
    app.record_reclaimed(old.id, "released")
    new = app.replace_number(ACCOUNT, old.id, new_number("r1")).connection
    replaced = list(app.events.get(old.id))[-1]
    assert (type(replaced).__name__, replaced.replacement_id, replaced.replaced_by) == (
        "Replaced", new.id, "u2",
    )  # fmt: skip


def legacy_connection(app: SmsChannels, key: str, workspace: str) -> UUID:
    """A connection made by a release that derived its id from (account, key) only."""
    legacy = SmsConnection.request(
        connection_id=legacy_connection_id(ACCOUNT, key), account_id=ACCOUNT,
        workspace_id=workspace, agent_id="agent", mode="new", country="US", area_code="415",
        phone_number="+14155550123", requested_by="u",
    )  # fmt: skip
    legacy.mark_connected("sandbox", "PNlegacy")
    app.save(legacy)
    return legacy.id


def test_a_replay_of_a_key_used_before_workspaces_finds_the_legacy_connection(
    app: SmsChannels,
) -> None:
    legacy_id = legacy_connection(app, "old-key", "ws")
    replay = app.connect(connect(key="old-key"))
    assert (replay.connection.id, replay.created) == (legacy_id, False)


def test_a_legacy_connection_of_another_workspace_is_not_a_replay(app: SmsChannels) -> None:
    legacy_id = legacy_connection(app, "old-key", "ws_other")
    result = app.connect(connect(number="+14155550124", key="old-key"))
    assert result.connection.id != legacy_id
    assert result.created
