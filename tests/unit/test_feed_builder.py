"""The channel feeds' batch builder (``workers.feeds.relay.FeedBuilder``) without Kafka or
PostgreSQL: the in-memory application's log, and the routing state in memory. What each
fact publishes, in order (its lifecycle events, then the routing values it changes), when a
value is republished (only when its content changed), tombstones (only by the connection
that held the number), either feed alone, and a replay's event ids."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast
from uuid import UUID, uuid4

import orjson
import pytest

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from domain.service.directory import remove_agent, upsert_agent
from tests.support.common import popo_app
from workers.feeds import relay as feeds_relay
from workers.feeds.contracts import ChannelConnectedV1, LifecycleEnvelope, RoutingValueV1
from workers.feeds.relay import AgentUsers, FeedBuilder, message
from workers.feeds.routing_state import RoutingState, Served
from workers.log_relay import Outgoing

WITH_KB = AgentInfo("ws_1", "Support", "Agent one", "kb_1", "Handbook")
WITHOUT_KB = AgentInfo("ws_1", "Support", "Agent one", None, None)
NUMBER = "+14155550123"


class MemoryRoutingState(RoutingState):
    """The routing state's table as a dict (``rows``); a batch's changes as the real one."""

    def __init__(self) -> None:
        super().__init__(cast(Any, None))
        self.rows: dict[str, Served] = {}

    def get(self, phone_number: str) -> Served | None:
        if phone_number in self.changes:
            return self.changes[phone_number]
        return self.rows.get(phone_number)

    def channels_using(self, account_id: str, agent_id: str) -> list[UUID]:
        served = sorted({**self.rows, **self.changes}.items())
        agent = (account_id, agent_id)
        return [s.channel_id for _, s in served if s and (s.account_id, s.agent_id) == agent]

    def save(self) -> None:
        for phone, served in self.changes.items():
            if served is None:
                self.rows.pop(phone, None)
            else:
                self.rows[phone] = served
        self.changes = {}


class Feeds:
    """The live relay's batches over ``application``'s log, without the broker."""

    def __init__(
        self,
        application: SmsChannels,
        events_topic: str | None = "events",
        routing_topic: str | None = "routing",
    ) -> None:
        self.application = application
        self.state = MemoryRoutingState()
        self.topics = (events_topic, routing_topic)
        self.position = 0
        self.remembered: dict[tuple[UUID, int], Any] = {}

    def batch(self) -> list[Outgoing]:
        notifications = self.application.recorder.select_notifications(
            start=self.position, limit=1000, inclusive_of_start=False
        )
        builder = FeedBuilder(
            self.application, self.state, *self.topics, remembered=self.remembered
        )
        out = builder.messages(notifications)
        self.state.save()
        if notifications:
            self.position = notifications[-1].id
        return out


def kinds(messages: list[Outgoing]) -> list[tuple[str, str]]:
    """(topic, event type) of each message: ``sms.routing`` / ``tombstone`` for routing."""
    out = []
    for m in messages:
        if m.topic == "routing":
            out.append((m.topic, "tombstone" if m.value is None else "sms.routing"))
        else:
            assert m.value is not None
            out.append((m.topic, orjson.loads(m.value)["eventType"]))
    return out


def value(message: Outgoing) -> dict[str, Any]:
    assert message.value is not None
    decoded: dict[str, Any] = orjson.loads(message.value)
    return decoded


def headers(message: Outgoing) -> dict[str, bytes]:
    return dict(message.headers)


def connect(application: SmsChannels, number: str = NUMBER, agent: str = "agent_1") -> Any:
    command = ConnectNumber("acc", "ws_1", agent, "new", "US", None, number, "u")
    return application.connect(command).connection


def live(application: SmsChannels, number: str = NUMBER) -> Any:
    """A connected, active number whose agent has a knowledge base."""
    upsert_agent(application, "acc", "agent_1", WITH_KB)
    connection = connect(application, number)
    application.update_settings("acc", connection.id, by="u", active=True)
    return connection


def test_a_connect_publishes_its_routing_value_and_channel_connected_keyed_by_channel() -> None:
    application = popo_app()
    feeds = Feeds(application)
    upsert_agent(application, "acc", "agent_1", WITH_KB)
    connection = connect(application)
    first = feeds.batch()
    assert kinds(first) == [("routing", "sms.routing"), ("events", "channel.connected")]
    routing, connected = first
    assert routing.key == NUMBER.encode()
    assert value(routing)["channelId"] == str(connection.id)
    assert (value(routing)["active"], value(routing)["ingestionEnabled"]) == (False, False)
    assert headers(routing) == {"eventType": b"sms.routing", "schemaVersion": b"2",
                                "contentType": b"application/json"}  # fmt: skip
    assert connected.key == str(connection.id).encode()
    assert headers(connected)["eventType"] == b"channel.connected"
    assert value(connected)["channelId"] == str(connection.id)


def test_switching_on_publishes_channel_updated_then_the_new_routing_value() -> None:
    application = popo_app()
    feeds = Feeds(application)
    upsert_agent(application, "acc", "agent_1", WITH_KB)
    connection = connect(application)
    feeds.batch()
    application.update_settings("acc", connection.id, by="u", active=True)
    updated, routing = feeds.batch()
    assert value(updated)["eventType"] == "channel.updated"
    assert value(updated)["changes"] == ["active", "capabilities"]
    assert updated.key == str(connection.id).encode()
    assert (value(routing)["active"], value(routing)["ingestionEnabled"]) == (True, True)
    assert value(routing)["version"] == feeds.position  # the log position of the fact


def test_a_fact_that_changes_no_published_content_publishes_nothing() -> None:
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    feeds.batch()
    application.update_compliance("acc", connection.id, {"brand": {"city": "SF"}}, by="u")
    assert feeds.batch() == []
    assert feeds.batch() == []


def test_a_directory_change_updates_the_capabilities_of_every_channel_served_with_the_agent() -> (
    None
):
    application = popo_app()
    feeds = Feeds(application)
    first, second = live(application), live(application, "+14155550124")
    other = connect(application, "+14155550125", agent="agent_2")
    feeds.batch()
    upsert_agent(application, "acc", "agent_1", WITHOUT_KB)
    out = feeds.batch()
    changed_at = application.find_agent("acc", "agent_1")
    assert changed_at is not None
    assert kinds(out) == [("events", "channel.updated"), ("events", "channel.updated"),
                          ("routing", "sms.routing"), ("routing", "sms.routing")]  # fmt: skip
    assert [m.key for m in out] == [str(first.id).encode(), str(second.id).encode(),
                                    NUMBER.encode(), b"+14155550124"]  # fmt: skip
    assert all(value(m)["changes"] == ["capabilities"] for m in out[:2])
    assert all(value(m)["ingestionEnabled"] is False for m in out[2:])
    assert other.id not in {value(m).get("channelId") for m in out}


def test_a_directory_change_that_changes_no_capability_publishes_no_event() -> None:
    application = popo_app()
    feeds = Feeds(application)
    live(application)
    feeds.batch()
    upsert_agent(application, "acc", "agent_1", replace(WITH_KB, name="Agent renamed"))
    assert ("events", "channel.updated") not in kinds(feeds.batch())


def test_a_reclaim_disconnects_the_channel_and_tombstones_its_number() -> None:
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    feeds.batch()
    application.record_reclaimed(connection.id, "reclaimed")
    disconnected, tombstone = feeds.batch()
    assert (value(disconnected)["eventType"], value(disconnected)["reason"]) == (
        "channel.disconnected",
        "reclaimed",
    )
    assert (tombstone.topic, tombstone.key, tombstone.value) == ("routing", NUMBER.encode(), None)
    assert headers(tombstone) == {"eventType": b"sms.routing", "schemaVersion": b"1",
                                  "contentType": b"application/json"}  # fmt: skip
    assert feeds.state.rows == {}


def test_a_delete_disconnects_the_channel_and_tombstones_its_number() -> None:
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    feeds.batch()
    application.delete("acc", connection.id, by="u")
    assert kinds(feeds.batch()) == [("events", "channel.disconnected"), ("routing", "tombstone")]


def test_only_the_connection_holding_the_number_tombstones_it() -> None:
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    feeds.batch()
    taken = Served(uuid4(), "acc", "agent_1", "digest")
    feeds.state.rows[NUMBER] = taken  # the number is another connection's now
    application.delete("acc", connection.id, by="u")
    assert kinds(feeds.batch()) == [("events", "channel.disconnected")]
    assert feeds.state.rows[NUMBER] == taken


def test_a_number_never_published_is_not_tombstoned() -> None:
    application = popo_app()
    connection = live(application)
    application.delete("acc", connection.id, by="u")
    # The relay catches up only now: the number stopped being served before it was seen.
    out = Feeds(application).batch()
    assert ("routing", "tombstone") not in kinds(out)
    assert ("routing", "sms.routing") not in kinds(out)


def test_either_feed_alone() -> None:
    application = popo_app()
    live(application)
    assert {t for t, _ in kinds(Feeds(application, routing_topic=None).batch())} == {"events"}
    assert {t for t, _ in kinds(Feeds(application, events_topic=None).batch())} == {"routing"}
    assert Feeds(application, None, None).batch() == []


def test_a_replay_republishes_the_live_relays_event_ids() -> None:
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    live_ids = [value(m)["eventId"] for m in feeds.batch() if m.topic == "events"]
    upsert_agent(application, "acc", "agent_1", WITHOUT_KB)
    live_ids += [value(m)["eventId"] for m in feeds.batch() if m.topic == "events"]
    application.delete("acc", connection.id, by="u")
    live_ids += [value(m)["eventId"] for m in feeds.batch() if m.topic == "events"]
    notifications = application.recorder.select_notifications(start=0, limit=1000)
    builder = FeedBuilder(application, MemoryRoutingState(), "events", None, users=AgentUsers())
    replayed = [value(m)["eventId"] for m in builder.messages(notifications)]
    assert replayed == live_ids
    assert len(live_ids) == 4  # connected, updated (switched on), updated (directory), disconnected


def test_agent_users_follow_the_walk_through_the_log() -> None:
    application = popo_app()
    users = AgentUsers()
    upsert_agent(application, "acc", "agent_1", WITH_KB)
    numbers = [f"+1415555019{n}" for n in (9, 7, 5, 3, 1)]  # connected in reverse order
    connections = [connect(application, number) for number in numbers]
    for connection in connections:
        users.record(connection)
    in_number_order = [c.id for c in reversed(connections)]
    assert users.using("acc", "agent_1") == in_number_order
    assert users.using("acc", "agent_2") == []
    assert users.using("other", "agent_1") == []
    first = connections[-1]
    assert users.version_of(first.id) == first.version
    application.delete("acc", first.id, by="u")
    users.record(application.repository.get(first.id))
    assert users.using("acc", "agent_1") == in_number_order[1:]
    assert users.version_of(first.id) is None


def test_a_routing_message_names_its_schema_version() -> None:
    application = popo_app()
    feeds = Feeds(application)
    live(application)
    v2 = next(m for m in feeds.batch() if m.topic == "routing")
    assert headers(v2)["schemaVersion"] == b"2"
    aliases = {field.alias for field in RoutingValueV1.model_fields.values()}
    v1_value = RoutingValueV1.model_validate({k: v for k, v in value(v2).items() if k in aliases})
    v1 = message("routing", v1_value)
    assert (v1.key, headers(v1)["schemaVersion"]) == (NUMBER.encode(), b"1")


def test_a_directory_fact_touches_a_channel_served_earlier_in_the_same_batch() -> None:
    """One batch: the agent recorded, the channel connected and switched on, then the
    directory drops the knowledge base. Capabilities read the directory as it is now, so
    switching on changes only ``active``; the directory fact then finds the channel the
    batch began serving and publishes its capabilities' change."""
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    upsert_agent(application, "acc", "agent_1", WITHOUT_KB)
    out = feeds.batch()
    assert kinds(out) == [("routing", "sms.routing"), ("events", "channel.connected"),
                          ("events", "channel.updated"), ("events", "channel.updated")]  # fmt: skip
    assert [value(m)["changes"] for m in out[2:]] == [["active"], ["capabilities"]]
    assert all(m.key == str(connection.id).encode() for m in out[1:])
    assert value(out[0])["ingestionEnabled"] is False
    assert feeds.state.rows[NUMBER].channel_id == connection.id


def test_a_builder_remembers_a_bounded_number_of_aggregates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feeds_relay, "REMEMBERED", 4)
    application = popo_app()
    for n in range(4):
        live(application, f"+1415555010{n}")
    feeds = Feeds(application)
    assert len(feeds.batch()) > 0
    assert 0 < len(feeds.remembered) <= 4 + 1  # a current state is kept at its version too


def test_each_event_id_is_derived_from_its_facts_place_in_the_log() -> None:
    """A replay rebuilds the same ids only if each is derived from the fact that made it:
    ``channel.connected`` from the connection's connected version, the lifecycle events
    from the log position of their fact."""
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    events = [m for m in feeds.batch() if m.topic == "events"]
    connected_id = ChannelConnectedV1.event_id_for(connection.id, 2)
    assert value(events[0])["eventId"] == str(connected_id)

    def ids_of_the_next_fact() -> list[tuple[str, str]]:
        out = [value(m) for m in feeds.batch() if m.topic == "events"]
        return [(v["eventType"], v["eventId"]) for v in out]

    def expected(*event_types: str) -> list[tuple[str, str]]:
        """The ids of the events of the batch's fact of the connection (a directory fact
        for a directory change)."""
        notifications = application.recorder.select_notifications(start=1, limit=1000)
        position = (
            notifications[-1].id
            if event_types == ("channel.updated",)
            else max(n.id for n in notifications if UUID(str(n.originator_id)) == connection.id)
        )
        return [(t, str(LifecycleEnvelope.event_id_for(t, connection.id, position)))
                for t in event_types]  # fmt: skip

    application.record_registration_status(connection.id, "approved")
    # One fact, two events: the capabilities' change first, then the registration's.
    assert ids_of_the_next_fact() == expected("channel.updated", "channel.registration_changed")
    upsert_agent(application, "acc", "agent_1", WITHOUT_KB)
    assert ids_of_the_next_fact() == expected("channel.updated")
    application.record_reclaimed(connection.id, "reclaimed")
    assert ids_of_the_next_fact() == expected("channel.disconnected")


def test_a_directory_change_is_dated_when_the_directory_changed() -> None:
    application = popo_app()
    feeds = Feeds(application)
    live(application)
    feeds.batch()
    upsert_agent(application, "acc", "agent_1", WITHOUT_KB)
    (notification,) = application.recorder.select_notifications(start=feeds.position + 1, limit=9)
    fact: Any = application.mapper.to_domain_event(notification)
    changed_at = fact.timestamp
    (updated,) = [m for m in feeds.batch() if m.topic == "events"]
    assert value(updated)["occurredAt"] == changed_at.isoformat().replace("+00:00", "Z")


def test_a_directory_change_with_the_routing_feed_alone_publishes_only_routing() -> None:
    application = popo_app()
    feeds = Feeds(application, events_topic=None)
    live(application)
    feeds.batch()
    upsert_agent(application, "acc", "agent_1", WITHOUT_KB)
    assert kinds(feeds.batch()) == [("routing", "sms.routing")]


def test_channels_of_different_agents_in_one_batch_read_their_own_agent() -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_2", WITHOUT_KB)
    live(application)
    connect(application, "+14155550124", agent="agent_2")
    routing = {m.key: value(m) for m in Feeds(application).batch() if m.topic == "routing"}
    assert routing[NUMBER.encode()]["knowledgeBaseId"] == "kb_1"
    assert routing[b"+14155550124"]["knowledgeBaseId"] is None


def test_agent_users_forget_a_connection_they_never_held() -> None:
    application = popo_app()
    connection = connect(application)
    application.delete("acc", connection.id, by="u")
    users = AgentUsers()
    users.record(application.repository.get(connection.id))  # never served: nothing to drop
    assert users.version_of(connection.id) is None


def test_removing_the_agent_updates_its_channels_capabilities() -> None:
    application = popo_app()
    feeds = Feeds(application)
    connection = live(application)
    feeds.batch()
    remove_agent(application, "acc", "agent_1")
    updated, routing = feeds.batch()
    assert (value(updated)["eventType"], value(updated)["changes"]) == (
        "channel.updated",
        ["capabilities"],
    )
    assert headers(updated) == {"eventType": b"channel.updated", "schemaVersion": b"1",
                                "contentType": b"application/json"}  # fmt: skip
    assert updated.key == str(connection.id).encode()
    assert value(routing)["ingestionEnabled"] is False


def test_an_agent_first_recorded_after_its_channel_was_served_updates_the_channel() -> None:
    application = popo_app()
    feeds = Feeds(application)
    connection = connect(application)
    application.update_settings("acc", connection.id, by="u", active=True)
    feeds.batch()
    upsert_agent(application, "acc", "agent_1", WITH_KB)  # the agent's first fact
    updated, routing = feeds.batch()
    assert value(updated)["changes"] == ["capabilities"]
    assert value(routing)["ingestionEnabled"] is True


def test_channel_connected_is_built_from_the_connection_as_it_stood_then() -> None:
    application = popo_app()
    upsert_agent(application, "acc", "agent_2", WITH_KB)
    connection = connect(application)
    application.update_settings("acc", connection.id, by="u", agent_id="agent_2")
    (connected,) = [m for m in Feeds(application).batch() if headers(m)["eventType"] ==
                    b"channel.connected"]  # fmt: skip
    assert value(connected)["agentId"] == "agent_1"
