"""The channel feeds read each aggregate state once per batch and keep past states from batch
to batch, publishing what they published before: the number's value as it is now (real
PostgreSQL, the builder without a broker: what it would publish is compared)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import orjson
import psycopg
import pytest

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from domain.service.directory import upsert_agent
from tests.support.common import unique_account, unique_us_number
from workers.feeds.relay import FeedBuilder
from workers.feeds.routing_state import CREATE_ROUTING_STATE, RoutingState

WITH_KB = AgentInfo("ws_1", "Support", "Agent one", "kb_1", "Handbook")
WITHOUT_KB = AgentInfo("ws_1", "Support", "Agent one", None, None)


@pytest.fixture
def state(database_url: str) -> Iterator[RoutingState]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(CREATE_ROUTING_STATE)
        yield RoutingState(connection)


def counted_reads(app: SmsChannels, monkeypatch: pytest.MonkeyPatch) -> Counter[Any]:
    """Every ``repository.get`` from now on, by (id, version asked for)."""
    reads: Counter[Any] = Counter()
    get = app.repository.get

    def counting(aggregate_id: UUID, version: int | None = None, **kwargs: Any) -> Any:
        reads[(aggregate_id, version)] += 1
        return get(aggregate_id, version=version, **kwargs)

    monkeypatch.setattr(app.repository, "get", counting)
    return reads


def test_a_batch_reads_each_state_once_and_publishes_the_numbers_current_value(
    pg_app: SmsChannels, state: RoutingState, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, number = unique_account(), unique_us_number()
    start = pg_app.recorder.max_notification_id() or 0
    upsert_agent(pg_app, account, "agent_1", WITH_KB)
    command = ConnectNumber(account, "ws_1", "agent_1", "new", "US", None, number, "u")
    connection_id = pg_app.connect(command).connection.id
    pg_app.update_settings(account, connection_id, by="u", active=True)
    upsert_agent(pg_app, account, "agent_1", WITHOUT_KB)
    batch = [
        n
        for n in pg_app.recorder.select_notifications(start, 1000, inclusive_of_start=False)
        if str(n.originator_id) in {str(connection_id)} or "DirectoryAgent" in n.topic
    ]
    assert len(batch) >= 5  # the agent twice, the connection's request, connect, switch-on
    reads = counted_reads(pg_app, monkeypatch)
    builder = FeedBuilder(pg_app, state, "events", "routing")
    messages = builder.messages(batch)
    assert all(n == 1 for (_, version), n in reads.items() if version is not None), reads
    assert reads[(connection_id, None)] == 1  # the connection as it is now: once
    values = [orjson.loads(m.value) for m in messages if m.topic == "routing" and m.value]
    assert len(values) == 1  # one value: the number as it is now (the same one each fact)
    assert (values[0]["phoneNumber"], values[0]["active"]) == (number, True)
    assert (values[0]["knowledgeBaseId"], values[0]["ingestionEnabled"]) == (None, False)


def test_a_later_batch_finds_a_past_state_read_by_an_earlier_one(
    pg_app: SmsChannels, state: RoutingState, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = unique_account()
    upsert_agent(pg_app, account, "agent_1", WITH_KB)
    command = ConnectNumber(account, "ws_1", "agent_1", "new", "US", None, unique_us_number(), "u")
    connection_id = pg_app.connect(command).connection.id
    pg_app.update_settings(account, connection_id, by="u", active=True)  # version 3
    facts = list(pg_app.recorder.select_events(connection_id))
    first = [n for n in pg_app.recorder.select_notifications(0, 100_000)
             if str(n.originator_id) == str(connection_id)]  # fmt: skip
    assert [n.originator_version for n in first] == [f.originator_version for f in facts]
    remembered: dict[tuple[UUID, int], Any] = {}
    FeedBuilder(pg_app, state, "events", None, remembered=remembered).messages(first[:2])
    reads = counted_reads(pg_app, monkeypatch)
    FeedBuilder(pg_app, state, "events", None, remembered=remembered).messages(first[2:3])
    assert reads[(connection_id, 3)] == 1  # the switch-on's own state: read now
    assert reads[(connection_id, 2)] == 0  # the state before it: kept from batch 1
