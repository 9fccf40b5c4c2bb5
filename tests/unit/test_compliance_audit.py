"""Compliance audit in memory: versions replayed from the connection's own events, points
in time, tenant isolation, deleted connections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from domain.application import SmsChannels
from domain.errors import ConnectionNotFoundError, InvalidPointInTimeError
from domain.ids import number_claim_id
from domain.service.compliance_history import (
    PointInTime,
    compliance_history,
    parse_as_of,
    registration_view,
    version_as_of,
)
from tests.support.common import unique_account
from tests.support.compliance_payloads import GOOD, connect, edit_sequences, expected_changed_fields

ACC = "acc_audit"


def history_of(app: SmsChannels, connection_id: Any, account: str | None = ACC) -> Any:
    return compliance_history(app, connection_id, account_id=account)


def test_a_connection_never_given_compliance_has_an_empty_history(memory_app: SmsChannels) -> None:
    history = history_of(memory_app, connect(memory_app, ACC))
    assert (history.versions, history.status) == ([], "connected")


def test_a_draft_sent_with_connect_is_the_first_version_by_the_requester(
    memory_app: SmsChannels,
) -> None:
    draft = {"brand": {"displayName": "Acme", "city": None}}
    (first,) = history_of(memory_app, connect(memory_app, ACC, draft)).versions
    assert (first.version, first.actor, first.changed_fields, first.compliance) == (
        2,  # right after NumberRequested: the draft is part of the request
        "requester",
        ["brand.displayName"],
        draft,
    )


def test_each_save_is_a_version_with_its_actor_fields_and_whole_payload(
    memory_app: SmsChannels,
) -> None:
    connection_id = connect(memory_app, ACC)
    first, second = {"brand": {"city": "SF"}}, {"brand": {"city": "LA", "state": "CA"}}
    memory_app.update_compliance(ACC, connection_id, first, by="alice")
    memory_app.update_compliance(ACC, connection_id, second, by="bob")
    versions = history_of(memory_app, connection_id).versions
    assert [(v.actor, v.changed_fields, v.compliance) for v in versions] == [
        ("alice", ["brand.city"], first),
        ("bob", ["brand.city", "brand.state"], second),
    ]


def test_an_unchanged_save_adds_no_version(memory_app: SmsChannels) -> None:
    connection_id = connect(memory_app, ACC, {"brand": {"city": "SF"}})
    memory_app.update_compliance(ACC, connection_id, {"brand": {"city": "SF"}}, by="bob")
    assert len(history_of(memory_app, connection_id).versions) == 1


def test_recorded_times_are_the_events_times_in_utc(memory_app: SmsChannels) -> None:
    before = datetime.now(UTC)
    (version,) = history_of(memory_app, connect(memory_app, ACC, {"brand": {}})).versions
    assert before <= version.recorded_at <= datetime.now(UTC)


def test_as_of_a_version_between_saves_gives_the_payload_saved_before_it(
    memory_app: SmsChannels,
) -> None:
    connection_id = connect(memory_app, ACC)
    first = memory_app.update_compliance(ACC, connection_id, {"brand": {"city": "SF"}}, by="u")
    between = memory_app.update_settings(ACC, connection_id, by="u", active=True)
    memory_app.update_compliance(ACC, connection_id, {"brand": {"city": "LA"}}, by="u")
    history = history_of(memory_app, connection_id)
    in_effect = version_as_of(history, PointInTime(version=between.connection.version))
    assert in_effect is not None
    assert (in_effect.version, in_effect.compliance) == (
        first.connection.version,
        {"brand": {"city": "SF"}},
    )


def test_as_of_a_version_before_the_first_save_is_nothing(memory_app: SmsChannels) -> None:
    history = history_of(memory_app, connect(memory_app, ACC, {"brand": {}}))
    assert version_as_of(history, PointInTime(version=1)) is None


def test_as_of_a_time_before_the_first_save_is_nothing(memory_app: SmsChannels) -> None:
    history = history_of(memory_app, connect(memory_app, ACC, {"brand": {}}))
    earlier = history.versions[0].recorded_at - timedelta(microseconds=1)
    assert version_as_of(history, PointInTime(at=earlier)) is None


def test_as_of_the_recorded_time_of_a_version_gives_that_version(memory_app: SmsChannels) -> None:
    connection_id = connect(memory_app, ACC, {"brand": {"city": "SF"}})
    memory_app.update_compliance(ACC, connection_id, {"brand": {"city": "LA"}}, by="u")
    history = history_of(memory_app, connection_id)
    first = history.versions[0]
    assert version_as_of(history, PointInTime(at=first.recorded_at)) == first


def test_another_accounts_connection_is_not_found(memory_app: SmsChannels) -> None:
    connection_id = connect(memory_app, ACC, {"brand": {}})
    with pytest.raises(ConnectionNotFoundError):
        history_of(memory_app, connection_id, account=unique_account())


def test_the_operator_scope_reads_a_connection_of_any_account(memory_app: SmsChannels) -> None:
    connection_id = connect(memory_app, unique_account(), {"brand": {}})
    assert len(history_of(memory_app, connection_id, account=None).versions) == 1


def test_an_id_that_is_not_a_connection_is_not_found(memory_app: SmsChannels) -> None:
    connect(memory_app, ACC)
    with pytest.raises(ConnectionNotFoundError):
        history_of(memory_app, number_claim_id("+14155550123"), account=None)


def test_a_deleted_connection_stays_auditable(memory_app: SmsChannels) -> None:
    connection_id = connect(memory_app, ACC, {"brand": {"city": "SF"}})
    memory_app.delete(ACC, connection_id, by="u")
    history = history_of(memory_app, connection_id)
    assert (history.status, [v.compliance for v in history.versions]) == (
        "deleted",
        [{"brand": {"city": "SF"}}],
    )


NINE_THIRTY = datetime(2025, 1, 31, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-31T09:30:00Z", NINE_THIRTY),
        ("2025-01-31t09:30:00.25z", NINE_THIRTY + timedelta(milliseconds=250)),
        ("2025-01-31 04:30:00-05:00", NINE_THIRTY),
    ],
)
def test_rfc3339_times_with_a_zone_are_accepted(text: str, expected: datetime) -> None:
    assert parse_as_of(text) == expected


@pytest.mark.parametrize(
    "text", ["2024-06-01T12:00:00", "2024-06-01", "1717243200", "yesterday", "2024-02-30T00:00:00Z"]
)
def test_times_without_a_zone_or_not_rfc3339_are_refused_without_echo(text: str) -> None:
    with pytest.raises(InvalidPointInTimeError) as caught:
        parse_as_of(text)
    assert caught.value.field == "asOf"
    assert text not in caught.value.message


def test_a_version_and_a_time_together_are_refused() -> None:
    with pytest.raises(InvalidPointInTimeError):
        PointInTime(version=2, at=datetime.now(UTC))


def test_version_zero_is_refused() -> None:
    with pytest.raises(InvalidPointInTimeError):
        PointInTime(version=0)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=edit_sequences)
def test_any_sequence_of_edits_replays_to_the_same_history(
    memory_app: SmsChannels, edits: list[tuple[str, dict[str, Any]]]
) -> None:
    # The operator saves drafts one after another; the audit replays exactly those saves
    # that changed something, each with its actor, changed fields and whole payload.
    connection_id = connect(memory_app, ACC)
    expected: list[tuple[int, str, list[str], dict[str, Any]]] = []
    previous: dict[str, Any] | None = None
    for actor, payload in edits:
        result = memory_app.update_compliance(ACC, connection_id, payload, by=actor)
        changed = expected_changed_fields(previous, payload)
        if previous is None or changed:
            expected.append((result.connection.version, actor, changed, payload))
            previous = payload
    history = history_of(memory_app, connection_id)
    assert [(v.version, v.actor, v.changed_fields, v.compliance) for v in history.versions] == (
        expected
    )
    assert (
        history.versions[-1].compliance == memory_app.get_connection(ACC, connection_id).compliance
    )
    assert history_of(memory_app, connection_id) == history


# --- registration facts beside the versions --------------------------------------------------


def submitted(app: SmsChannels, account: str) -> Any:
    connection_id = connect(app, account, GOOD)
    version = app.get_connection(account, connection_id).version
    app.submit_registration(account, connection_id, by="u_sub", expected_version=version)
    return connection_id


def test_the_history_lists_the_registration_facts_beside_the_versions(
    memory_app: SmsChannels,
) -> None:
    connection_id = submitted(memory_app, ACC)
    submitted_at = memory_app.get_connection(ACC, connection_id).version - 1
    history = history_of(memory_app, connection_id)
    assert [(f.type, f.actor, f.submitted_version) for f in history.registration] == [
        ("registration.submitted", "u_sub", submitted_at),  # the version it submitted
    ]


def test_the_registration_view_is_the_live_connection_of_its_account_and_its_facts(
    memory_app: SmsChannels,
) -> None:
    connection_id = submitted(memory_app, ACC)
    connection, facts = registration_view(memory_app, connection_id, account_id=ACC)
    assert (connection.id, connection.account_id) == (connection_id, ACC)
    assert [f.type for f in facts] == ["registration.submitted"]
    with pytest.raises(ConnectionNotFoundError) as other:
        registration_view(memory_app, connection_id, account_id=unique_account())
    assert other.value.connection_id == connection_id
    memory_app.delete(ACC, connection_id, by="u")
    with pytest.raises(ConnectionNotFoundError) as deleted:
        registration_view(memory_app, connection_id, account_id=ACC)
    assert deleted.value.connection_id == connection_id
    unknown = number_claim_id("+14155550123")
    with pytest.raises(ConnectionNotFoundError) as missing:
        registration_view(memory_app, unknown, account_id=ACC)
    assert missing.value.connection_id == unknown
