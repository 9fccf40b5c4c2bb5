"""The shared reducers' batch helpers and edges (``projections.reducers``), on events of the
in-memory application: which connections and agents a batch touches (first-seen order, once
each), which directory entries it may consult, a fact for a connection with no row, a
deletion, a directory fact, and the facts the capability rule reads of a row. (What each
connection event changes in a row is held by test_one_truth.py, one example per reducer.)"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.capabilities import ConnectionFacts
from domain.operator_decisions import ProjectionSkip
from domain.service.commands import ConnectNumber
from domain.service.directory import remove_agent, upsert_agent
from domain.sms_connections import SmsConnection
from projections.reducers import (
    agent_keys,
    agents_needed,
    apply_connection_event,
    apply_directory_event,
    connection_ids,
    facts_of,
    is_connection_event,
    is_directory_event,
)
from tests.support.common import popo_app

INFO = AgentInfo("ws_1", "Support", "Agent one", "kb_1", "Handbook")


def events_of(application: SmsChannels, after: int = 0) -> list[Any]:
    notifications = application.recorder.select_notifications(start=after + 1, limit=1000)
    return [application.mapper.to_domain_event(n) for n in notifications]


def connect(application: SmsChannels, number: str, agent: str = "agent_1") -> Any:
    command = ConnectNumber("acc", "ws_1", agent, "new", "US", None, number, "u")
    return application.connect(command).connection


def skip(event_id: Any) -> Any:
    decision = ProjectionSkip.decide(projection="channels_table", position=3, event_id=event_id,
                                     topic=None, reason="poison", decided_by="op")  # fmt: skip
    return decision.collect_events()[0]


def test_a_batch_touches_its_connections_once_each_in_first_seen_order() -> None:
    application = popo_app()
    first = connect(application, "+14155550100")
    upsert_agent(application, "acc", "agent_1", INFO)
    second = connect(application, "+14155550101")
    application.update_settings("acc", first.id, by="u", active=True)
    skipped = uuid4()
    events = [*events_of(application), skip(skipped), skip(None), skip(first.id)]
    assert connection_ids(events) == [first.id, second.id, skipped]
    assert connection_ids([]) == []


def test_a_batch_changes_the_agents_its_directory_facts_name_once_each() -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_2", INFO)
    upsert_agent(application, "acc", "agent_1", INFO)
    connect(application, "+14155550100")
    remove_agent(application, "acc", "agent_2")
    assert agent_keys(events_of(application)) == [("acc", "agent_2"), ("acc", "agent_1")]


def test_the_agents_a_batch_may_consult() -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_1", INFO)
    before = connect(application, "+14155550100", agent="agent_2")
    position = application.recorder.max_notification_id() or 0
    new = connect(application, "+14155550101", agent="agent_3")
    application.update_settings("acc", before.id, by="u", agent_id="agent_1")
    application.update_settings("acc", new.id, by="u", agent_id="agent_1")
    batch = events_of(application, position)
    rows = {before.id: {"account_id": "acc", "agent_id": "agent_2"}}
    assert agents_needed(batch, rows) == [
        ("acc", "agent_2"),  # a loaded row's agent
        ("acc", "agent_3"),  # named by a connection requested in the batch
        ("acc", "agent_1"),  # assigned to the loaded row's connection
        ("acc", "agent_1"),  # assigned to the one requested in the batch
    ]
    # An agent assigned to a connection neither loaded nor requested in the batch: not known
    # to be of any account, so not looked up.
    assert agents_needed(batch[-1:], {}) == []


def test_the_directory_facts_of_the_batch_come_first_in_the_agents_needed() -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_9", INFO)
    rows = {uuid4(): {"account_id": "acc", "agent_id": "agent_1"}}
    assert agents_needed(events_of(application), rows) == [("acc", "agent_9"), ("acc", "agent_1")]


def test_a_fact_of_a_connection_without_a_row_is_refused_and_a_deletion_drops_the_row() -> None:
    application = popo_app()
    connection = connect(application, "+14155550100")
    application.delete("acc", connection.id, by="u")
    requested, *later = [e for e in events_of(application) if is_connection_event(e)]
    with pytest.raises(LookupError, match="NumberConnected for a connection"):
        apply_connection_event(None, later[0])
    row = apply_connection_event(None, requested)
    assert row is not None
    assert (row["version"], row["updated_at"]) == (1, requested.timestamp)
    assert row["created_at"] == requested.timestamp
    for event in later[:-1]:
        row = apply_connection_event(row, event)
    assert row is not None
    assert (row["status"], row["version"]) == ("connected", later[-2].originator_version)
    assert row["updated_at"] == later[-2].timestamp
    assert isinstance(later[-1], SmsConnection.ConnectionDeleted)
    assert apply_connection_event(row, later[-1]) is None


def test_a_directory_fact_gives_the_agent_and_its_details_and_a_removal_none() -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_1", INFO)
    remove_agent(application, "acc", "agent_1")
    recorded, removed = events_of(application)
    assert apply_directory_event(recorded) == (("acc", "agent_1"), INFO)
    assert apply_directory_event(removed) == (("acc", "agent_1"), None)
    assert is_directory_event(recorded)
    assert not is_connection_event(recorded)


def test_the_capability_rule_reads_a_rows_facts() -> None:
    row = {"status": "connected", "active": True, "workspace_id": "ws_1", "agent_id": "a1",
           "country": "US", "registration_status": "approved", "replaced_by": None}  # fmt: skip
    assert facts_of(row) == ConnectionFacts(
        status="connected",
        active=True,
        workspace_id="ws_1",
        agent_id="a1",
        country="US",
        registration_status="approved",
        replaced=False,
    )
    assert facts_of({**row, "replaced_by": uuid4()}).replaced is True
    del row["replaced_by"]  # rows written before replacements existed
    assert facts_of(row).replaced is False


def test_a_requested_connection_starts_a_row_with_every_column() -> None:
    application = popo_app()
    command = ConnectNumber("acc", "ws_1", "agent_1", "byon", "US", "415", "+14155550100", "u",
                            idempotency_key="k1")  # fmt: skip
    connection = application.connect(command).connection
    (requested,) = [e for e in events_of(application) if is_connection_event(e)][:1]
    row = apply_connection_event(None, requested)
    assert row is not None
    assert row == {
        "connection_id": connection.id,
        "request_id": requested.request_id,
        "account_id": "acc",
        "workspace_id": "ws_1",
        "agent_id": "agent_1",
        "phone_number": "+14155550100",
        "country": "US",
        "area_code": "415",
        "mode": "byon",
        "status": "requested",
        "active": False,
        "registration_status": "not_submitted",
        "failure_code": None,
        "reclaim_reason": None,
        "replaced_by": None,
        "compliance_complete": 0,
        "compliance_total": row["compliance_total"],
        "attention": False,
        "registration_carriers": [],
        "created_at": requested.timestamp,
        "version": 1,
        "updated_at": requested.timestamp,
    }
    assert row["compliance_total"] > 0
    assert requested.request_id is not None
