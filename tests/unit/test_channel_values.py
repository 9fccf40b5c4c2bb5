"""What the feeds say about one connection: reasons of disconnection, what changed, the
registration event, and the routing value (all from the one serving rule)."""

from __future__ import annotations

import uuid

import pytest

from domain.agent_directory import AgentInfo
from domain.serving import assess, facts_of_connection
from domain.sms_connections import SmsConnection
from workers.feeds.values import (
    DirectoryEntry,
    changes_between,
    digest,
    disconnected,
    registration_changed,
    routing_value,
)

KB = AgentInfo("ws_1", "Support", "Ava", "kb_1", "Help")
NO_KB = AgentInfo("ws_1", "Support", "Ava", None, None)


def live() -> SmsConnection:
    connection = SmsConnection.request(
        connection_id=uuid.uuid4(), account_id="acc_1", workspace_id="ws_1",
        agent_id="agent_1", mode="new", country="US", area_code=None,
        phone_number="+14155550123", requested_by="u",
    )  # fmt: skip
    connection.mark_connected("sandbox", "PN1")
    connection.activate("u")
    return connection


def copy_of(connection: SmsConnection) -> SmsConnection:
    twin: SmsConnection = SmsConnection.__new__(SmsConnection)
    twin.__dict__.update(connection.__dict__)
    return twin


@pytest.mark.parametrize(
    ("act", "kind", "reason"),
    [
        (lambda c: c.delete("u"), SmsConnection.ConnectionDeleted, "deleted"),
        (lambda c: c.reclaim("expired"), SmsConnection.NumberReclaimed, "expired"),
        (lambda c: c.reclaim("released"), SmsConnection.NumberReclaimed, "released"),
    ],
)
def test_a_disconnection_names_its_reason(act, kind, reason) -> None:  # type: ignore[no-untyped-def]
    connection = live()
    act(connection)
    event = disconnected(kind, connection, 7)
    assert event is not None
    assert event.reason == reason
    assert "phoneNumber" not in event.model_dump(by_alias=True)


def test_a_fact_that_disconnects_nothing_makes_no_disconnection() -> None:
    assert disconnected(SmsConnection.ActiveChanged, live(), 7) is None


def test_the_event_id_is_the_same_for_the_same_fact() -> None:
    connection = live()
    connection.delete("u")
    first = disconnected(SmsConnection.ConnectionDeleted, connection, 9)
    again = disconnected(SmsConnection.ConnectionDeleted, connection, 9)
    later = disconnected(SmsConnection.ConnectionDeleted, connection, 10)
    assert first is not None and again is not None and later is not None  # noqa: PT018
    assert first.event_id == again.event_id != later.event_id


def test_changes_say_which_of_active_agent_workspace_and_capabilities_changed() -> None:
    before = live()
    after = copy_of(before)
    after.deactivate("u")
    was, now = assess(facts_of_connection(before), KB), assess(facts_of_connection(after), KB)
    assert changes_between(before, after, was, now) == ["active", "capabilities"]
    same = assess(facts_of_connection(before), NO_KB)
    assert changes_between(before, before, was, same) == ["capabilities"]
    assert changes_between(before, before, was, was) == []


def test_registration_changed_carries_the_status_only() -> None:
    before = live()
    after = copy_of(before)
    after.change_registration_status("approved", raw_status="SECRET-RAW", reason="why",
                                     provider_ref="C1")  # fmt: skip
    event = registration_changed(before, after, 12)
    assert event is not None
    assert (event.registration_status, event.previous_registration_status) == (
        "approved",
        "not_submitted",
    )
    assert "SECRET-RAW" not in event.value().decode()
    assert registration_changed(after, after, 13) is None


def test_the_routing_value_follows_the_directory_and_its_digest_ignores_the_version() -> None:
    connection = live()
    with_kb = routing_value(connection, DirectoryEntry(KB, None), 5)
    without = routing_value(connection, DirectoryEntry(NO_KB, None), 6)
    assert (with_kb.ingestion_enabled, with_kb.knowledge_base_id) == (True, "kb_1")
    assert (without.ingestion_enabled, without.knowledge_base_id) == (False, None)
    assert digest(with_kb) == digest(routing_value(connection, DirectoryEntry(KB, None), 99))
    assert digest(with_kb) != digest(without)
