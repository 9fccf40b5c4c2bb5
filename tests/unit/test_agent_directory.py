"""The agent directory as recorded input, in memory: upsert, change, remove, find."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from uuid import UUID, uuid5

import pytest

from domain.agent_directory import AGENTS_NAMESPACE, AgentInfo, DirectoryAgent, directory_agent_id
from domain.application import SmsChannels
from domain.errors import InvalidTextError, VersionConflictError
from domain.ids import ACCOUNTS_NAMESPACE
from domain.service.directory import agent_version, find_agent, remove_agent, upsert_agent
from domain.service.store import SAVE_ATTEMPTS
from providers.sandbox import SandboxProvider

INFO = AgentInfo("ws_1", "Support", "Ava", "kb_1", "Help centre")
RENAMED = AgentInfo("ws_1", "Support", "Ava 2", "kb_2", "FAQ")


@pytest.fixture
def app() -> Iterator[SmsChannels]:
    application = SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def test_the_id_is_derived_from_account_and_agent() -> None:
    account_key = uuid5(ACCOUNTS_NAMESPACE, "acc")
    expected = uuid5(uuid5(AGENTS_NAMESPACE, str(account_key)), "agent_1")
    assert directory_agent_id("acc", "agent_1") == expected
    assert directory_agent_id("other", "agent_1") != expected


def test_an_upserted_agent_is_found_with_its_details(app: SmsChannels) -> None:
    position = upsert_agent(app, "acc", "agent_1", INFO)
    assert position == app.current_position() == 1
    assert find_agent(app, "acc", "agent_1") == INFO
    assert find_agent(app, "other", "agent_1") is None


def test_the_same_details_again_record_nothing(app: SmsChannels) -> None:
    upsert_agent(app, "acc", "agent_1", INFO)
    assert upsert_agent(app, "acc", "agent_1", INFO) is None
    assert app.current_position() == 1


def test_changed_details_are_recorded_and_found(app: SmsChannels) -> None:
    upsert_agent(app, "acc", "agent_1", INFO)
    assert upsert_agent(app, "acc", "agent_1", RENAMED) == 2
    assert find_agent(app, "acc", "agent_1") == RENAMED


def test_a_removed_agent_is_not_found_and_removing_again_records_nothing(
    app: SmsChannels,
) -> None:
    upsert_agent(app, "acc", "agent_1", INFO)
    assert remove_agent(app, "acc", "agent_1") == 2
    assert find_agent(app, "acc", "agent_1") is None
    assert remove_agent(app, "acc", "agent_1") is None
    assert remove_agent(app, "acc", "never_seen") is None
    assert app.current_position() == 2


def test_removing_an_unknown_agent_asks_the_store_for_no_write(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves: list[tuple[object, ...]] = []
    monkeypatch.setattr(app, "save", lambda *objects, **_: saves.append(objects) or [])
    assert remove_agent(app, "acc", "never_seen") is None
    assert saves == []  # not even an empty transaction


def test_an_agent_reported_again_after_removal_comes_back_even_unchanged(
    app: SmsChannels,
) -> None:
    upsert_agent(app, "acc", "agent_1", INFO)
    remove_agent(app, "acc", "agent_1")
    assert upsert_agent(app, "acc", "agent_1", INFO) == 3
    assert find_agent(app, "acc", "agent_1") == INFO


def test_every_event_names_the_account_and_the_agent() -> None:
    agent = DirectoryAgent.create("acc", "agent_1", INFO)
    agent.update(RENAMED)
    agent.remove()
    events = agent.collect_events()
    assert [(e.account_id, e.agent_id) for e in events] == [("acc", "agent_1")] * 3
    assert agent.id == directory_agent_id("acc", "agent_1")
    assert (events[1].name, events[1].knowledge_base_id) == ("Ava 2", "kb_2")
    assert isinstance(agent.id, UUID)


def test_a_directory_write_whose_precondition_no_longer_holds_is_refused_and_records_nothing(
    memory_app: SmsChannels,
) -> None:
    info = AgentInfo("ws_1", "Support", "Ava", None, None)
    upsert_agent(memory_app, "acc_1", "agent_1", info)  # version 1
    read = agent_version(memory_app, "acc_1", "agent_1")
    upsert_agent(memory_app, "acc_1", "agent_1", replace(info, name="Ava B"))  # someone else
    head = memory_app.current_position()
    with pytest.raises(VersionConflictError) as refused:
        upsert_agent(memory_app, "acc_1", "agent_1", replace(info, name="Ava C"), read.__eq__)
    assert refused.value.actual == 2
    with pytest.raises(VersionConflictError):
        remove_agent(memory_app, "acc_1", "agent_1", read.__eq__)
    assert memory_app.current_position() == head


def test_the_agents_version_is_none_unless_it_is_listed(app: SmsChannels) -> None:
    assert agent_version(app, "acc", "agent_1") is None
    upsert_agent(app, "acc", "agent_1", INFO)
    upsert_agent(app, "acc", "agent_1", RENAMED)
    assert agent_version(app, "acc", "agent_1") == 2
    remove_agent(app, "acc", "agent_1")
    assert agent_version(app, "acc", "agent_1") is None


@pytest.mark.parametrize(
    ("account", "agent", "field"), [("acc 1", "agent_1", "acc"), ("acc", "agent\n1", "agentId")]
)
def test_removing_an_agent_checks_both_ids_and_names_the_field(
    app: SmsChannels, account: str, agent: str, field: str
) -> None:
    with pytest.raises(InvalidTextError) as refused:
        remove_agent(app, account, agent)
    assert refused.value.field == field


def test_a_write_that_loses_a_race_is_decided_again_on_fresh_state(app: SmsChannels) -> None:
    upsert_agent(app, "acc", "agent_1", INFO)
    races: list[int | None] = []

    def admits(current: int | None) -> bool:
        # Another writer saves this agent between this write's read and its save, once.
        if not races:
            races.append(current)
            upsert_agent(app, "acc", "agent_1", replace(INFO, name="Ava B"))
        return True

    assert upsert_agent(app, "acc", "agent_1", RENAMED, admits) == 3
    assert races == [1]
    assert find_agent(app, "acc", "agent_1") == RENAMED


def test_a_write_that_keeps_losing_the_race_is_a_version_conflict(app: SmsChannels) -> None:
    upsert_agent(app, "acc", "agent_1", INFO)
    names = iter(f"Ava {n}" for n in range(10))
    races: list[int | None] = []

    def admits(current: int | None) -> bool:
        races.append(current)
        upsert_agent(app, "acc", "agent_1", replace(INFO, name=next(names)))
        return True

    with pytest.raises(VersionConflictError) as lost:
        remove_agent(app, "acc", "agent_1", admits)
    assert (lost.value.expected, lost.value.actual) == (None, None)
    assert races == list(range(1, SAVE_ATTEMPTS + 1))  # decided on each fresh version
    assert find_agent(app, "acc", "agent_1") is not None
