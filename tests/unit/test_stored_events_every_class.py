"""Events stored by the code before the events became explicit classes (issue 15: ``@event("…")``
made the classes; now every event is a nested class the type checker sees) still load: one
event of every class, captured from that code, decodes to the class of the same name, every
aggregate replays to what the old code recorded, and the read models' reducers apply them.
The stored topics are the contract: none was added, renamed or lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.utils import get_topic

from domain.agent_directory import DirectoryAgent
from domain.application import SmsChannels
from domain.number_claims import NumberClaim
from domain.operator_decisions import ProjectionSkip, skip_decisions
from domain.provider_deliveries import ProviderDelivery
from domain.registrations import LevelRegistration, RegistrationRef
from domain.service.compliance_history import compliance_history
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider
from tests.support.events import application_with_stored_events
from tests.unit.test_one_truth import MemoryChannelsTable

STORED = Path(__file__).parent.parent / "data" / "events_before_explicit_classes.json"
ACCOUNT = "acc_layout"
# Every class of event this service stores, by the name its topic gives it.
CLASSES: list[type[Any]] = [
    SmsConnection.NumberRequested, SmsConnection.HostingStarted, SmsConnection.NumberConnected,
    SmsConnection.ProvisioningFailed, SmsConnection.NumberReclaimed,
    SmsConnection.RegistrationStatusChanged, SmsConnection.RegistrationSubmitted,
    SmsConnection.RegistrationLevelChanged, SmsConnection.AgentAssigned,
    SmsConnection.WorkspaceChanged, SmsConnection.ActiveChanged,
    SmsConnection.ComplianceUpdated, SmsConnection.Replaced, SmsConnection.ConnectionDeleted,
    DirectoryAgent.Upserted, DirectoryAgent.Changed, DirectoryAgent.Removed,
    NumberClaim.Created, NumberClaim.Taken, NumberClaim.Released,
    LevelRegistration.Opened, LevelRegistration.ConnectionLinked, LevelRegistration.Resubmitted,
    LevelRegistration.ProviderRefRecorded, LevelRegistration.StatusChanged,
    RegistrationRef.Indexed, ProviderDelivery.Received, ProjectionSkip.Decided,
]  # fmt: skip


def uid(name: str) -> UUID:
    """The ids the capture script used."""
    return uuid5(NAMESPACE_URL, "h15/" + name)


@pytest.fixture
def app() -> SmsChannels:
    """The log the previous code wrote: a connection taken through every fact (hosting,
    connect, reported status, agent, move, switch on, compliance, submission, a level's
    change, reclaim, replacement), a second one failed and deleted, a number claim, a
    directory agent upserted, changed and removed, a brand registration through its
    steps, its reference index, a provider delivery and an operator's skip decision."""
    return application_with_stored_events(SandboxProvider(), STORED)


def test_every_stored_topic_is_the_topic_of_an_explicit_class_and_back(app: SmsChannels) -> None:
    stored = {n.topic for n in app.recorder.select_notifications(start=1, limit=1000)}
    assert stored == {get_topic(cls) for cls in CLASSES}
    assert len(stored) == 28
    assert get_topic(SmsConnection.NumberRequested) == (
        "domain.sms_connections:SmsConnection.NumberRequested"
    )


def test_every_stored_event_decodes_to_the_class_of_its_topic(app: SmsChannels) -> None:
    for notification in app.recorder.select_notifications(start=1, limit=1000):
        event = app.mapper.to_domain_event(notification)
        assert get_topic(type(event)) == notification.topic


def test_the_connections_replay_to_what_the_old_code_recorded(app: SmsChannels) -> None:
    first = app.get_connection(ACCOUNT, uid("c1"))
    assert (first.status, first.reclaim_reason, first.replaced_by) == (
        "reclaimed",
        "expired",
        uid("c2"),
    )
    assert (first.workspace_id, first.agent_id, first.hosting_order_ref) == (
        "ws_2",
        "agent_3",
        "HO1",
    )
    assert first.submission is not None and first.submission.digest == "d1"  # noqa: PT018
    assert first.level("brand").status == "action_required"
    assert first.level("brand").reasons[0].fields == ("brand.ein",)
    assert first.registration_status == "action_required"
    history = compliance_history(app, uid("c1"), account_id=ACCOUNT)
    assert [v.compliance for v in history.versions] == [{"brand": {"displayName": "Acme"}}]
    assert [f.type for f in history.registration] == [
        "registration.changed",
        "registration.submitted",
        "registration.changed",
    ]
    second: SmsConnection = app.repository.get(uid("c2"))
    assert (second.is_deleted, second.failure_code) == (True, "E1")


def test_the_other_aggregates_replay_to_what_the_old_code_recorded(app: SmsChannels) -> None:
    claims = [app.repository.get(n.originator_id) for n in _of(app, NumberClaim.Taken)]
    assert [claim.holder for claim in claims] == [uid("c2")]
    agent = app.repository.get(_of(app, DirectoryAgent.Removed)[0].originator_id)
    assert agent.deleted is True and agent.info.name == "Ava B"  # noqa: PT018
    brand: LevelRegistration = app.repository.get(uid("b1"))
    assert (brand.attempt, brand.digest, brand.connection_ids) == (2, "d2", [uid("c1")])
    ref: RegistrationRef = app.repository.get(_of(app, RegistrationRef.Indexed)[0].originator_id)
    assert ref.target_id == uid("b1")
    delivery = app.repository.get(_of(app, ProviderDelivery.Received)[0].originator_id)
    assert (delivery.outcome, delivery.connection_id) == ("applied", uid("c1"))
    [decision] = list(skip_decisions(app))
    assert (decision.projection, decision.event_id) == ("channels_table", uid("c1"))


def test_the_channels_table_reducers_apply_the_old_events(app: SmsChannels) -> None:
    table = MemoryChannelsTable(app)
    table.catch_up()
    row = table.row(uid("c1"))
    assert row is not None
    assert (row["status"], row["workspace_id"], row["agent_id"]) == ("reclaimed", "ws_2", "agent_3")
    assert (row["replaced_by"], row["registration_status"]) == (uid("c2"), "action_required")
    assert row["attention"] is True  # the skip decision names this connection
    assert table.row(uid("c2")) is None  # deleted


def _of(app: SmsChannels, cls: type[Any]) -> list[Any]:
    topic = get_topic(cls)
    return [n for n in app.recorder.select_notifications(start=1, limit=1000) if n.topic == topic]
