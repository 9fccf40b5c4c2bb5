"""The application service's commands, in memory: claims, idempotency, provider outcomes."""

from __future__ import annotations

import dataclasses

import pytest

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.errors import (
    ConnectionDeletedError,
    ConnectionNotFoundError,
    IdempotencyKeyReusedError,
    NotConnectedError,
    NumberAlreadyConnectedError,
    VersionConflictError,
)
from domain.ids import connection_id_for
from domain.providers import NumberUnavailableError
from domain.service.commands import ConnectNumber
from tests.support.fakes import FailingProvider


def connect(
    number: str = "+14155550123", key: str | None = None, mode: str = "new", account: str = "acc"
) -> ConnectNumber:
    return ConnectNumber(
        account_id=account,
        workspace_id="ws",
        agent_id="agent",
        mode=mode,
        country="US",
        area_code="415",  # type: ignore[arg-type]
        phone_number=number,
        requested_by="u",
        idempotency_key=key,
    )


@pytest.fixture
def provider() -> FailingProvider:
    return FailingProvider()


@pytest.fixture
def app(provider: FailingProvider) -> SmsChannels:
    return SmsChannels(provider, env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_connect_new_buys_the_number_and_connects(
    app: SmsChannels, provider: FailingProvider
) -> None:
    result = app.connect(connect())
    assert result.connection.status == "connected"
    assert result.created is True
    assert provider.holds("+14155550123")


def test_connect_byon_stays_requested_with_a_hosting_order(app: SmsChannels) -> None:
    result = app.connect(connect(mode="byon"))
    assert (result.connection.status, result.connection.hosting_order_ref is not None) == (
        "requested",
        True,
    )


def test_the_connection_id_is_uuid5_of_account_and_idempotency_key(app: SmsChannels) -> None:
    result = app.connect(connect(key="k-1"))
    assert result.connection.id == connection_id_for("acc", "ws", "k-1")


def test_a_replayed_idempotency_key_returns_the_first_connection(app: SmsChannels) -> None:
    first = app.connect(connect(key="k-1"))
    again = app.connect(connect(key="k-1"))
    assert (again.connection.id, again.created, again.connection.version) == (
        first.connection.id,
        False,
        first.connection.version,
    )


def test_an_idempotency_key_reused_for_another_number_is_refused(app: SmsChannels) -> None:
    app.connect(connect(key="k-1"))
    with pytest.raises(IdempotencyKeyReusedError):
        app.connect(connect(number="+14155550124", key="k-1"))


def test_an_idempotency_key_reused_for_another_agent_is_refused(app: SmsChannels) -> None:
    app.connect(connect(key="k-1"))
    other_agent = dataclasses.replace(connect(key="k-1"), agent_id="agent-2")
    with pytest.raises(IdempotencyKeyReusedError):
        app.connect(other_agent)


def test_a_replay_repeats_the_agent_asked_even_after_a_reassignment(app: SmsChannels) -> None:
    first = app.connect(connect(key="k-1"))
    app.upsert_agent("acc", "agent-2", AgentInfo("ws", "Support", "Bo", None, None))
    app.update_settings("acc", first.connection.id, by="u", agent_id="agent-2")
    again = app.connect(connect(key="k-1"))
    assert (again.connection.id, again.created, again.connection.agent_id) == (
        first.connection.id,
        False,
        "agent-2",
    )


def test_the_same_key_in_another_account_is_another_connection(app: SmsChannels) -> None:
    first = app.connect(connect(key="k-1"))
    other = app.connect(connect(number="+14155550124", key="k-1", account="acc-2"))
    assert other.connection.id != first.connection.id


def test_a_number_held_by_a_live_connection_cannot_be_connected_again(app: SmsChannels) -> None:
    app.connect(connect())
    with pytest.raises(NumberAlreadyConnectedError):
        app.connect(connect())


def test_deleting_frees_the_number_and_releases_it_at_the_provider(
    app: SmsChannels, provider: FailingProvider
) -> None:
    first = app.connect(connect())
    app.delete("acc", first.connection.id, by="u")
    assert provider.released == [first.connection.provider_ref]
    assert app.connect(connect()).connection.status == "connected"


def test_a_reclaimed_number_can_be_connected_again(
    app: SmsChannels, provider: FailingProvider
) -> None:
    first = app.connect(connect())
    provider.release(first.connection.provider_ref or "")  # the provider takes it back
    app.record_reclaimed(first.connection.id, "reclaimed")
    assert app.connect(connect()).connection.id != first.connection.id


def test_a_provider_refusal_records_the_failure_and_frees_the_claim(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = NumberUnavailableError()
    with pytest.raises(NumberUnavailableError):
        app.connect(connect(key="k-1"))
    failed = app.get_connection("acc", connection_id_for("acc", "ws", "k-1"))
    assert failed.status == "failed"
    provider.error = None
    assert app.connect(connect()).connection.status == "connected"


def test_a_replay_of_a_failed_connect_answers_the_same_error(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = NumberUnavailableError()
    with pytest.raises(NumberUnavailableError):
        app.connect(connect(key="k-1"))
    provider.error = None
    with pytest.raises(NumberUnavailableError):
        app.connect(connect(key="k-1"))


def test_another_accounts_connection_is_not_found(app: SmsChannels) -> None:
    result = app.connect(connect())
    with pytest.raises(ConnectionNotFoundError):
        app.get_connection("intruder", result.connection.id)
    with pytest.raises(ConnectionNotFoundError):
        app.update_settings("intruder", result.connection.id, by="x", active=True)


def test_a_deleted_connection_is_hidden_but_auditable(app: SmsChannels) -> None:
    result = app.connect(connect())
    app.delete("acc", result.connection.id, by="u")
    with pytest.raises(ConnectionNotFoundError):
        app.get_connection("acc", result.connection.id)
    with pytest.raises(ConnectionDeletedError):
        app.update_compliance("acc", result.connection.id, {"brand": {}}, by="u")
    assert app.get_connection_for_audit("acc", result.connection.id).status == "deleted"


def test_a_stale_expected_version_is_refused(app: SmsChannels) -> None:
    result = app.connect(connect())
    version = result.connection.version
    app.update_settings("acc", result.connection.id, by="u", active=True, expected_version=version)
    with pytest.raises(VersionConflictError):
        app.update_settings(
            "acc", result.connection.id, by="u", active=False, expected_version=version
        )
    assert app.get_connection("acc", result.connection.id).active is True


def test_agent_and_activation_are_one_write(app: SmsChannels) -> None:
    result = app.connect(connect(mode="byon"))  # requested: activation must fail
    with pytest.raises(NotConnectedError) as refused:
        app.update_settings("acc", result.connection.id, by="u", agent_id="agent-2", active=True)
    assert refused.value.status == "requested"
    # Neither half was recorded: the agent assignment went down with the refused activation.
    unchanged = app.get_connection("acc", result.connection.id)
    assert (unchanged.agent_id, unchanged.version) == ("agent", result.connection.version)


def test_commands_return_the_position_of_their_events(app: SmsChannels) -> None:
    first = app.connect(connect())
    second = app.update_compliance("acc", first.connection.id, {"brand": {}}, by="u")
    assert second.position > first.position == 3  # NumberRequested + claim, NumberConnected
    assert second.position == app.current_position()
