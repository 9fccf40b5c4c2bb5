"""Group commit on a real PostgreSQL: saves written together land in one transaction with
their own notification ids; a stale save fails alone and the rest of its group lands;
concurrent commands are grouped and every outcome is counted; switched off, each save is
its own transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.application import SmsChannels
from domain.errors import VersionConflictError
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.fail_fast_recorder import FailFastRecorder
from sms_channels.group_commit import GroupCommitRecorder, _Save
from sms_channels.settings import Settings
from tests.support.common import new_number, unique_us_number

TOPIC = "tests.integration.test_group_commit:Probe"


@pytest.fixture
def app(isolated_database_url: str) -> Iterator[SmsChannels]:
    application = build_application(Settings(database_url=isolated_database_url), SandboxProvider())
    yield application
    application.close()


def recorder_of(app: SmsChannels) -> GroupCommitRecorder:
    recorder = app.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    return recorder


def events(originator: UUID, versions: range) -> list[StoredEvent]:
    return [StoredEvent(originator, version, TOPIC, b"{}") for version in versions]


def transactions(url: str, originators: list[UUID]) -> dict[UUID, set[str]]:
    """Each originator's rows' writing transactions (``xmin``)."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT originator_id, xmin::text FROM smschannels_events"
            " WHERE originator_id = ANY(%s)",
            (originators,),
        ).fetchall()
    found: dict[UUID, set[str]] = {originator: set() for originator in originators}
    for originator, xmin in rows:
        found[originator].add(xmin)
    return found


def stored_ids(app: SmsChannels) -> dict[int, tuple[UUID, int]]:
    return {
        n.id: (UUID(str(n.originator_id)), n.originator_version)
        for n in app.recorder.select_notifications(0, 10_000)
    }


def test_a_group_is_one_transaction_and_each_save_gets_its_own_notification_ids(
    app: SmsChannels, isolated_database_url: str
) -> None:
    recorder = recorder_of(app)
    originators = [uuid4() for _ in range(3)]
    group = [_Save(events(o, range(1, n + 2))) for n, o in enumerate(originators)]
    recorder._write(group)
    assert recorder.groups_written == 1
    assert [save.error for save in group] == [None, None, None]
    ids = stored_ids(app)
    for save in group:
        assert save.ids is not None
        assert [ids[i] for i in save.ids] == [
            (e.originator_id, e.originator_version) for e in save.events
        ]
    written = transactions(isolated_database_url, originators)
    assert len(set.union(*written.values())) == 1


def test_a_stale_save_fails_alone_and_the_rest_of_its_group_lands(
    app: SmsChannels, isolated_database_url: str
) -> None:
    recorder = recorder_of(app)
    taken, first, last = uuid4(), uuid4(), uuid4()
    app.recorder.insert_events(events(taken, range(1, 2)))
    group = [
        _Save(events(first, range(1, 3))),
        _Save(events(taken, range(1, 3))),  # version 1 is already stored: stale
        _Save(events(last, range(1, 2))),
    ]
    recorder._write(group)
    assert recorder.groups_written == 0
    assert group[0].error is None
    assert group[2].error is None
    assert isinstance(group[1].error, IntegrityError)
    with pytest.raises(IntegrityError):
        group[1].outcome()
    ids = stored_ids(app)
    assert sorted(ids.values(), key=str) == sorted(
        [(taken, 1), (first, 1), (first, 2), (last, 1)], key=str
    )
    assert [ids[i] for i in group[0].outcome() or []] == [(first, 1), (first, 2)]
    written = transactions(isolated_database_url, [first, last])
    assert written[first] != written[last]  # written again, each in its own transaction


def test_two_saves_of_one_version_in_one_group_the_first_lands_and_the_second_fails(
    app: SmsChannels,
) -> None:
    recorder = recorder_of(app)
    same = uuid4()
    group = [_Save(events(same, range(1, 2))), _Save(events(same, range(1, 3)))]
    recorder._write(group)
    assert group[0].error is None
    assert isinstance(group[1].error, IntegrityError)
    assert [(e.originator_version) for e in app.recorder.select_events(same)] == [1]


def connect(number: str) -> ConnectNumber:
    return new_number("acc_group", number)


def test_concurrent_commands_are_grouped_and_every_one_lands(app: SmsChannels) -> None:
    threads, per_thread = 12, 8
    barrier = threading.Barrier(threads)
    connected: list[UUID] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            result = app.connect(connect(unique_us_number()))
            with lock:
                connected.append(result.connection.id)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
        assert not thread.is_alive()  # a save never waits forever for its group
    assert len(set(connected)) == threads * per_thread
    assert recorder_of(app).groups_written > 0
    for connection_id in connected:
        assert app.get_connection("acc_group", connection_id).status == "connected"
    ids = list(stored_ids(app))
    assert len(ids) == len(set(ids))


def test_concurrent_edits_of_one_version_land_once_and_the_rest_are_refused(
    app: SmsChannels,
) -> None:
    connection_id = app.connect(connect(unique_us_number())).connection.id
    version = app.get_connection("acc_group", connection_id).version
    threads = 8
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def edit(n: int) -> None:
        barrier.wait()
        try:
            app.update_compliance(
                "acc_group",
                connection_id,
                {"brand": {"displayName": f"Brand {n}"}},
                by="u",
                expected_version=version,
            )
            outcome = "saved"
        except VersionConflictError:
            outcome = "stale"
        with lock:
            outcomes.append(outcome)

    pool = [threading.Thread(target=edit, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
        assert not thread.is_alive()  # a save never waits forever for its group
    assert sorted(outcomes) == ["saved"] + ["stale"] * (threads - 1)
    assert app.get_connection("acc_group", connection_id).version == version + 1


def test_switched_off_the_plain_fail_fast_recorder_writes_each_save(
    isolated_database_url: str,
) -> None:
    settings = Settings(database_url=isolated_database_url, event_store_group_commit=False)
    application = build_application(settings, SandboxProvider())
    try:
        assert type(application.recorder) is FailFastRecorder
        application.connect(connect(unique_us_number()))
    finally:
        application.close()
