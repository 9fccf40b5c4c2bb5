"""What a command reads (issue 35, fewer round trips): only connections are snapshotted, so
the aggregates that never are (claims, directory agents, registrations) are read with one
query, their events, not the snapshot's and then the events'; and a connect with a new
Idempotency-Key finds "nothing recorded under this key" with one small query per id it
looks under, instead of two loads. Counted on the in-memory stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.errors import VersionConflictError
from domain.ids import number_claim_id
from domain.number_claims import NumberClaim
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider
from tests.unit.test_connect_flow import NUMBER, command

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class Counted:
    """An event store's ``get``, counted."""

    def __init__(self, store: Any) -> None:
        self.store, self.calls = store, 0

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.store.get(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture
def app() -> Iterator[SmsChannels]:
    application = SmsChannels(SandboxProvider(), env=POPO)
    application.upsert_agent("acc", "agent", AgentInfo("ws", "Support", "Ava", "kb", "Help"))
    yield application
    application.close()


def counted(app: SmsChannels) -> tuple[Counted, Counted]:
    events, snapshots = Counted(app.repository.event_store), Counted(app.repository.snapshot_store)
    app.repository.event_store = events  # type: ignore[assignment]
    app.repository.snapshot_store = snapshots  # type: ignore[assignment]
    return events, snapshots


def test_a_connect_with_a_new_key_reads_no_snapshot_and_one_query_per_aggregate(
    app: SmsChannels,
) -> None:
    events, snapshots = counted(app)
    result = app.connect(command(key="a-new-key"))
    assert result.created
    assert result.connection.status == "connected"
    assert snapshots.calls == 0
    # "recorded?" under the key's id and under its legacy id, then the number's claim (before:
    # the same three aggregates, each a snapshot query and an events query).
    assert events.calls == 3


def test_a_replayed_key_still_answers_the_first_connection(app: SmsChannels) -> None:
    first = app.connect(command(key="k-replayed"))
    again = app.connect(command(key="k-replayed"))
    assert again.connection.id == first.connection.id
    assert not again.created


def test_aggregates_read_without_their_snapshot_are_the_same(app: SmsChannels) -> None:
    connection_id = app.connect(command(key="k-same")).connection.id
    claim_id = number_claim_id(NUMBER)
    assert app.find(claim_id, snapshots=False) == app.find(claim_id)
    assert isinstance(app.find(claim_id, snapshots=False), NumberClaim)
    # A connection read without its snapshot replays every event to the same state.
    for _ in range(60):  # past the snapshot interval (50): a snapshot exists
        app.update_settings("acc", connection_id, by="u", active=True)
        app.update_settings("acc", connection_id, by="u", active=False)
    assert app.snapshots is not None
    assert list(app.snapshots.get(connection_id))
    with_snapshot = app.find(connection_id)
    replayed = app.find(connection_id, snapshots=False)
    assert isinstance(replayed, SmsConnection)
    assert replayed.version == with_snapshot.version
    assert replayed.__dict__ == with_snapshot.__dict__


class Asked:
    """A snapshot store whose reads are kept (the ids asked about)."""

    def __init__(self, store: Any) -> None:
        self.store, self.ids = store, []

    def get(self, originator_id: Any, *args: Any, **kwargs: Any) -> Any:
        self.ids.append(originator_id)
        return self.store.get(originator_id, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_the_registration_commands_ask_the_snapshot_store_about_connections_only() -> None:
    """Submitting, the worker's steps (brand, campaign, number, vetting, an in-place
    update), the polls and the brand's read find registrations and reference entries from
    their events alone (issue 35: one query each), keyed ids or not. (The provider's facts,
    a poll of levels included, read their reference entries as any aggregate: not counted.)"""
    from providers.sandbox import SandboxProvider as Sandbox  # noqa: PLC0415
    from tests.unit.test_registration import connected, edited, run_steps, submit  # noqa: PLC0415
    from tests.unit.test_registration_carriers import SAMPLES, deliver  # noqa: PLC0415

    provider = Sandbox()
    app = SmsChannels(provider, env={**POPO, "REGISTRATION_ID_KEY": "k" * 40})
    store = app.repository.snapshot_store
    asked = Asked(store)
    app.repository.snapshot_store = asked  # type: ignore[assignment]
    account = "acc-reads"
    connection_ids = [connected(app, account), connected(app, account)]
    for connection_id in connection_ids:
        submit(app, account, connection_id)
        run_steps(app, connection_id)
    first = connection_ids[0]
    number = app.get_connection(account, first).phone_number
    app.repository.snapshot_store = store  # type: ignore[assignment]  # the provider's facts
    deliver(app, provider.decide_registration(number, "approved", level="brand"))
    deliver(app, provider.decide_registration(number, "rejected", level="campaign", code="30892"))
    app.repository.snapshot_store = asked  # type: ignore[assignment]
    app.request_secondary_vetting(account, first, by="u1", expected_version=None)
    app.update_compliance(account, first, edited(messageSamples=SAMPLES), by="u1")
    submit(app, account, first)  # the campaign updated in place
    assert run_steps(app, first) == ["brand", "campaign", "number"]  # vetting, update, number
    app.poll_vettings(first)
    app.brand_registration_of(app.get_connection(account, first))
    assert asked.ids
    assert set(asked.ids) <= set(connection_ids)


def test_a_connection_is_read_from_its_snapshot_unless_told_otherwise(app: SmsChannels) -> None:
    connection_id = app.connect(command(key="k-snap")).connection.id
    for _ in range(30):  # 60 events: past the snapshot interval (50)
        app.update_settings("acc", connection_id, by="u", active=True)
        app.update_settings("acc", connection_id, by="u", active=False)
    _, snapshots = counted(app)
    app.find(connection_id)
    assert snapshots.calls == 1  # the snapshot, then only the events after it
    app.find(connection_id, snapshots=False)
    assert snapshots.calls == 1


def test_a_change_under_an_if_match_naming_no_version_expected_version_0(
    app: SmsChannels,
) -> None:
    """Weak or foreign tags only admit no version (``api.preconditions``): 412 naming 0."""
    connection_id = app.connect(command(key="k-weak")).connection.id
    with pytest.raises(VersionConflictError) as caught:
        app.update_settings("acc", connection_id, by="u", active=True, expected_version=frozenset())
    assert (caught.value.expected, caught.value.actual) == (
        0, app.get_connection("acc", connection_id).version)  # fmt: skip
