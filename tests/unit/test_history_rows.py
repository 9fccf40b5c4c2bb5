"""The direct history path (``api.history_reader`` → ``domain.service.history_rows``: stored rows
decrypted and decoded, no event objects, no replay) answers the same bytes as the library's
path it replaced (``compliance_history`` over event objects and the connection's replay,
then the route's narrowing, kept below as the reference), for random histories: any
sequence of compliance saves, registration facts (reported, submitted, level changes,
secondary vetting), moves, provisioning outcomes and deletion, read at random points (none,
a version, a time), on stores with and without a cipher and compressor, with registration
level changes rewritten as the previous code stored them (class version 1, upcast on read),
and on the facts stored by previous versions of the code (``tests/data``)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api.history_reader import read_history
from api.schemas.compliance import history_json
from domain.actors import PROVIDER, PROVIDER_ACTOR, USER
from domain.application import SmsChannels
from domain.errors import ConnectionNotFoundError, DomainError
from domain.registration_levels import LevelState, Reason
from domain.service.audit_verify import state_decoder
from domain.service.compliance_history import PointInTime, version_as_of
from domain.service.history_rows import decoded_facts, upcast
from domain.service.registration_history import RegistrationFact
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider
from tests.support.common import popo_app
from tests.support.compliance_payloads import GOOD, compliance_payloads, marked_payload
from tests.support.events import application_with_stored_events

DATA = Path(__file__).parent.parent / "data"
ENCRYPTED = {
    "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
    "CIPHER_KEY": AESCipher.create_key(32),
    "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
}
LEVEL_STATUSES = ["pending", "approved", "rejected", "action_required", "submitted"]


def library_answer(
    app: SmsChannels, connection_id: UUID, account: str | None, point: PointInTime
) -> bytes:
    """The history route's answer before the direct path (its body, as it was)."""
    history = app.compliance_history(connection_id, account_id=account)
    if not point.given:
        return history_json(history)
    in_effect = version_as_of(history, point)
    facts = [
        f
        for f in history.registration
        if (point.version is None or f.version <= point.version)
        and (point.at is None or f.at <= point.at)
    ]
    versions = [in_effect] if in_effect is not None else []
    return history_json(history, versions, facts)


def direct_answer(
    app: SmsChannels, connection_id: UUID, account: str | None, point: PointInTime
) -> bytes:
    read = read_history(app, connection_id, account_id=account)
    return history_json(read.history.as_of(point))


levels = st.builds(
    LevelState,
    status=st.sampled_from(LEVEL_STATUSES),
    raw_status=st.none() | st.sampled_from(["IN_PROGRESS", "APPROVED", "FAILED"]),
    provider_ref=st.none() | st.sampled_from(["BN1", "CM1"]),
    reasons=st.lists(
        st.builds(Reason, code=st.sampled_from(["30892", "30883"]), description=st.just("why")),
        max_size=2,
    ).map(tuple),
)
# Any structurally valid payload, or one of a few that differ in every field.
payloads = compliance_payloads | st.sampled_from(
    [GOOD, marked_payload("a")[0], marked_payload("b")[0], {"brand": None}]
)
saves = st.tuples(st.just("compliance"), payloads, st.sampled_from(["alice", "bob"]))
# Saves are drawn as often as every other step together; a deletion ends a history.
steps = st.one_of(
    saves,
    saves,
    saves,
    saves,
    saves,
    saves,
    saves,
    st.tuples(st.just("connected")),
    st.tuples(st.just("failed")),
    st.tuples(st.just("reclaimed")),
    st.tuples(st.just("reported"), st.sampled_from(LEVEL_STATUSES), st.none() | st.just("why")),
    st.tuples(st.just("submitted"), levels, levels),
    st.tuples(st.just("level"), st.sampled_from(["brand", "campaign", "number"]), levels),
    st.tuples(st.just("vetting")),
    st.tuples(st.just("moved"), st.sampled_from(["ws", "ws_2"])),
    st.tuples(st.just("deleted")),
)


# How a history starts: requested, connected, or connected and submitted for registration.
STARTS: list[tuple[tuple[Any, ...], ...]] = [
    (),
    (("connected",),),
    (("connected",), ("submitted", LevelState(), LevelState())),
]


def apply(connection: SmsConnection, step: tuple[Any, ...]) -> None:
    """One command on the aggregate; a refusal (e.g. a deleted connection) records nothing."""
    kind, *args = step
    commands: dict[str, Any] = {
        "compliance": connection.update_compliance,
        "connected": lambda: connection.mark_connected("sandbox", "PN1"),
        "failed": lambda: connection.mark_failed("x", "no number"),
        "reclaimed": lambda: connection.reclaim("released"),
        "reported": lambda status, reason: connection.change_registration_status(
            status, raw_status="RAW", reason=reason, provider_ref="BN1"
        ),
        "submitted": lambda brand, campaign: connection.submit_registration(
            by="carol",
            at=datetime(2026, 1, 1, tzinfo=UTC),
            digest=uuid4().hex,
            brand_registration_id=uuid4(),
            campaign_registration_id=uuid4(),
            brand=brand,
            campaign=campaign,
        ),
        "level": connection.record_level,
        "vetting": lambda: connection.request_secondary_vetting("carol"),
        "moved": lambda workspace: connection.move(workspace, "agent", "dave"),
        "deleted": lambda: connection.delete("dave"),
    }
    with contextlib.suppress(DomainError):
        commands[kind](*args)


def requested() -> SmsConnection:
    """A new connection of ``acc`` just requested (not saved)."""
    return SmsConnection.request(
        connection_id=uuid4(),
        account_id="acc",
        workspace_id="ws",
        agent_id="agent",
        mode="new",
        country="US",
        area_code=None,
        phone_number="+14155550123",
        requested_by="u",
    )


def recorded(app: SmsChannels, steps: list[tuple[Any, ...]], batches: int) -> UUID:
    """A connection of ``acc`` after ``steps``, saved in ``batches`` saves."""
    connection = requested()
    size = max(1, len(steps) // batches)
    for start in range(0, len(steps), size):
        for step in steps[start : start + size]:
            apply(connection, step)
        app.save(connection)
    app.save(connection)
    return connection.id


def as_stored_before_carriers(app: SmsChannels, connection_id: UUID) -> SmsChannels:
    """A new application (same keys) whose log holds the connection's facts with every
    registration level change as the previous code stored it (class version 1: no carriers
    nor throughput)."""
    decode, mapper = state_decoder(app.mapper), app.mapper
    rewritten = []
    for fact in app.recorder.select_events(connection_id):
        stored = fact
        if stored.topic.endswith("SmsConnection.RegistrationLevelChanged"):
            state = decode(stored.state)
            for name in ("class_version", "carriers", "throughput"):
                state.pop(name, None)
            data = mapper.transcoder.encode(state)
            if mapper.compressor is not None:
                data = mapper.compressor.compress(data)
            if mapper.cipher is not None:
                data = mapper.cipher.encrypt(data)
            stored = StoredEvent(
                stored.originator_id, stored.originator_version, stored.topic, data
            )
        rewritten.append(stored)
    old = SmsChannels(SandboxProvider(), env=dict(app.env))
    old.recorder.insert_events(rewritten)
    return old


def points(app: SmsChannels, connection_id: UUID) -> list[PointInTime]:
    """No point, every version (and one past the last), and the time of every fact (and
    just before it)."""
    events = list(app.events.get(connection_id))
    found = [PointInTime()]
    found += [PointInTime(version=v) for v in range(1, len(events) + 2)]
    for event in events:
        found += [
            PointInTime(at=event.timestamp),
            PointInTime(at=event.timestamp - timedelta(microseconds=1)),
        ]
    return found


# Explicit histories beside the random ones, always run: every kind of registration fact
# (reports for the whole connection with and without their reason, before the submission:
# after it they record nothing; level changes with reasons, vettings before and after the
# submission) in one history, plain and encrypted with old-version level changes.
EVERY_REGISTRATION_FACT: list[tuple[Any, ...]] = [
    ("reported", "submitted", None),
    ("connected",),
    ("reported", "action_required", "why"),
    ("vetting",),
    ("submitted", LevelState(), LevelState(status="submitted", raw_status="IN_PROGRESS")),
    ("reported", "rejected", "why"),
    ("level", "brand", LevelState(status="approved", reasons=(Reason("30892", "why"),))),
    ("reported", "approved", None),
    ("level", "campaign", LevelState(status="rejected", provider_ref="CM1")),
    ("vetting",),
    ("compliance", GOOD, "alice"),
    ("moved", "ws_2"),
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(steps=EVERY_REGISTRATION_FACT, batches=1, encrypted=False, old_levels=False)
@example(steps=EVERY_REGISTRATION_FACT, batches=3, encrypted=True, old_levels=True)
@given(
    steps=st.tuples(st.sampled_from(STARTS), st.lists(steps, min_size=2, max_size=16)).map(
        lambda first_rest: [*first_rest[0], *first_rest[1]]
    ),
    batches=st.integers(1, 3),
    encrypted=st.booleans(),
    old_levels=st.booleans(),
)
def test_the_direct_path_answers_the_library_paths_history_and_bytes_for_random_histories(
    steps: list[tuple[Any, ...]], batches: int, encrypted: bool, old_levels: bool
) -> None:
    app = popo_app(**(ENCRYPTED if encrypted else {}))
    connection_id = recorded(app, steps, batches)
    if old_levels:
        app = as_stored_before_carriers(app, connection_id)
    # The history itself, beyond what the route writes of it (the version read at, each
    # fact's raw status, reasons' descriptions and registration status), and the workspace.
    read = read_history(app, connection_id, account_id="acc")
    assert read.history == app.compliance_history(connection_id, account_id="acc")
    assert read.workspace_id == app.repository.get(connection_id).workspace_id
    for point in points(app, connection_id):
        assert direct_answer(app, connection_id, "acc", point) == library_answer(
            app, connection_id, "acc", point
        )


def test_the_direct_path_reads_old_level_changes_through_their_upcast() -> None:
    # A submission, then a level change stored as the previous code wrote it: the direct
    # path upcasts it (as the mapper would) and answers the same fact.
    app = popo_app(**ENCRYPTED)
    brand = LevelState(status="approved", raw_status="APPROVED", provider_ref="BN1")
    steps = [("connected",), ("submitted", LevelState(), LevelState()), ("level", "brand", brand)]
    connection_id = recorded(app, steps, 1)
    old = as_stored_before_carriers(app, connection_id)
    stored = old.recorder.select_events(connection_id)
    assert b"class_version" not in state_decoder(old.mapper)(stored[-1].state).__repr__().encode()
    rows = [(s.originator_version, s.topic, s.state) for s in stored]
    facts = decoded_facts(rows, state_decoder(old.mapper))
    assert [(f.version, f.cls) for f in facts] == [
        (e.originator_version, type(e)) for e in old.events.get(connection_id)
    ]
    assert (facts[-1].state["carriers"], facts[-1].state["throughput"]) == (None, None)
    answer = json.loads(direct_answer(old, connection_id, "acc", PointInTime()))
    assert [f["level"] for f in answer["registration"]] == ["submission", "brand"]
    assert direct_answer(old, connection_id, "acc", PointInTime()) == library_answer(
        old, connection_id, "acc", PointInTime()
    )


def test_a_status_reported_for_the_whole_connection_is_a_providers_fact_with_its_reason() -> None:
    # Reports for the whole connection (a registration made outside this service): level
    # ``connection``, the reported status as the registration's, the reason without a code;
    # none is recorded after a submission made here.
    app = popo_app(**ENCRYPTED)
    steps = [
        ("reported", "action_required", "why"),
        ("connected",),
        ("reported", "approved", None),
        ("submitted", LevelState(), LevelState()),
        ("reported", "rejected", "late"),
    ]
    connection_id = recorded(app, steps, 2)
    history = read_history(app, connection_id, account_id="acc").history
    stored: list[Any] = list(app.events.get(connection_id))
    assert history.registration[:2] == [
        RegistrationFact(
            actor=PROVIDER_ACTOR,
            actor_type=PROVIDER,
            type="registration.changed",
            version=2,
            at=stored[1].timestamp,
            level="connection",
            status="action_required",
            raw_status="RAW",
            reasons=(Reason("", "why"),),
            submitted_version=None,
            registration_status="action_required",
        ),
        RegistrationFact(
            actor=PROVIDER_ACTOR,
            actor_type=PROVIDER,
            type="registration.changed",
            version=4,
            at=stored[3].timestamp,
            level="connection",
            status="approved",
            raw_status="RAW",
            reasons=(),
            submitted_version=None,
            registration_status="approved",
        ),
    ]
    assert [f.level for f in history.registration] == ["connection", "connection", "submission"]
    assert (history.status, history.read_at_version) == ("connected", 5)


def test_a_status_reported_after_a_submission_by_older_code_is_under_that_submission() -> None:
    # Before 766a841 a report for the whole connection was recorded after a submission made
    # here too: such a stored fact names the submission then in effect, on both paths.
    app = popo_app()
    connection = requested()
    for step in [("connected",), ("submitted", LevelState(), LevelState())]:
        apply(connection, step)
    # The previous code's command, without today's guard: the event method itself.
    connection._registration_status_changed(
        status="approved", raw_status="RAW", reason=None, provider_ref="BN1"
    )
    app.save(connection)
    history = read_history(app, connection.id, account_id="acc").history
    assert [(f.level, f.submitted_version) for f in history.registration] == [
        ("submission", 2),
        ("connection", 2),
    ]
    assert history == app.compliance_history(connection.id, account_id="acc")


def test_a_vetting_request_is_the_users_fact_under_the_registrations_status_then() -> None:
    app = popo_app()
    brand = LevelState(status="approved")
    campaign = LevelState(status="rejected", raw_status="FAILED")
    steps = [
        ("connected",),
        ("submitted", LevelState(), LevelState()),
        ("level", "brand", brand),
        ("level", "campaign", campaign),
        ("vetting",),
    ]
    connection_id = recorded(app, steps, 1)
    facts = read_history(app, connection_id, account_id="acc").history.registration
    *_, campaign_fact, vetting = facts
    assert campaign_fact.raw_status == "FAILED"
    assert vetting.registration_status == campaign_fact.registration_status == "rejected"
    assert (vetting.actor, vetting.actor_type, vetting.type, vetting.level, vetting.status) == (
        "carol",
        USER,
        "registration.vetting_requested",
        "brand",
        "requested",
    )
    # Under the submission in effect (made at the connection's version 2).
    assert (vetting.raw_status, vetting.reasons, vetting.submitted_version) == (None, (), 2)


def test_an_old_level_change_is_raised_to_the_current_version_without_its_class_version() -> None:
    level = SmsConnection.RegistrationLevelChanged
    for recorded_as in ({}, {"class_version": 1}):
        state = upcast(level, {"level": "brand", **recorded_as})
        assert state == {"level": "brand", "carriers": None, "throughput": None}
    current = {"class_version": 2, "level": "brand", "carriers": [], "throughput": {}}
    assert upcast(level, current) == {"level": "brand", "carriers": [], "throughput": {}}


def test_a_state_of_a_class_without_versions_is_read_as_stored() -> None:
    for recorded_as in ({}, {"class_version": 1}):
        state = upcast(SmsConnection.ComplianceUpdated, {"updated_by": "u", **recorded_as})
        assert state == {"updated_by": "u"}


class _ThirdVersion:
    """A class two versions on, each step leaving its mark (the mapper's rule: every step
    from the recorded version to the current one, in order)."""

    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["steps"] = [*state.get("steps", []), "1-2"]

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["steps"] = [*state.get("steps", []), "2-3"]


def test_a_state_is_raised_by_every_step_from_its_recorded_version() -> None:
    assert upcast(_ThirdVersion, {}) == {"steps": ["1-2", "2-3"]}
    assert upcast(_ThirdVersion, {"class_version": 2}) == {"steps": ["2-3"]}
    assert upcast(_ThirdVersion, {"class_version": 3}) == {}


def test_another_accounts_or_an_unknown_connection_is_not_found_on_either_path() -> None:
    app = popo_app()
    connection_id = recorded(app, [("compliance", {"brand": None}, "alice")], 1)
    for unknown, account in ((connection_id, "acc_other"), (uuid4(), "acc")):
        with pytest.raises(ConnectionNotFoundError):
            library_answer(app, unknown, account, PointInTime())
        with pytest.raises(ConnectionNotFoundError) as caught:
            direct_answer(app, unknown, account, PointInTime())
        assert caught.value.connection_id == unknown


@pytest.mark.parametrize(
    "stored",
    [
        "events_before_explicit_classes.json",
        "events_before_keyed_brand_ids.json",
        "events_before_registration.json",
        "events_before_replace_number.json",
        "events_with_chain.json",
    ],
)
def test_the_direct_path_answers_the_library_paths_bytes_for_facts_stored_by_previous_code(
    stored: str,
) -> None:
    app = application_with_stored_events(
        SandboxProvider(), DATA / stored, env={"REGISTRATION_ID_KEY": "k" * 40}
    )
    records = json.loads((DATA / stored).read_text())
    connections = {
        UUID(r["originator_id"])
        for r in records
        if r["topic"].endswith("SmsConnection.NumberRequested") and r["originator_version"] == 1
    }
    assert connections
    for connection_id in connections:
        read = read_history(app, connection_id, account_id=None)
        assert read.history == app.compliance_history(connection_id, account_id=None)
        for point in points(app, connection_id):
            assert direct_answer(app, connection_id, None, point) == library_answer(
                app, connection_id, None, point
            )
