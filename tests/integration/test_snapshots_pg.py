"""Snapshots of ``SmsConnection`` (issue 28, item 4; ``domain/snapshots.py``) on a real
PostgreSQL with encrypted events: a long history loads from its newest snapshot (at most an
interval of events read), while the chain verification and the compliance history still
read every stored event; a snapshot restores the exact state, value objects included, and
holds no readable compliance value at rest."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.cipher import AESCipher
from pydantic import SecretStr

from domain.application import SmsChannels
from domain.providers import RegistrationAnswer
from domain.service.audit_verify import verify_connection
from domain.snapshots import SNAPSHOT_INTERVAL
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, unique_account
from tests.support.compliance_payloads import GOOD
from tests.unit.test_registration import connected
from tests.unit.test_registration_commands import Scripted, registered

CHANGES = 1_500
CANARY = GOOD["brand"]["displayName"]  # a compliance value the payload holds


@pytest.fixture
def encrypted(isolated_database_url: str) -> Settings:
    return Settings(
        database_url=isolated_database_url,
        jwt_secret=JWT_SECRET,
        cipher_key=SecretStr(AESCipher.create_key(32)),
    )


@pytest.fixture
def app(encrypted: Settings) -> Iterator[SmsChannels]:
    application = build_application(encrypted, Scripted())
    yield application
    application.close()


class CountingReads:
    """Counts the events the application's event store hands out (loads read through it)."""

    def __init__(self, app: SmsChannels) -> None:
        self.read = 0
        original = app.events.get

        def get(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for event in original(*args, **kwargs):
                self.read += 1
                yield event

        app.events.get = get  # type: ignore[method-assign]


def test_a_long_history_loads_from_a_snapshot_and_verification_reads_every_event(
    app: SmsChannels, encrypted: Settings
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    for n in range(CHANGES):
        app.update_settings(account, connection_id, by="u1", agent_id=f"agent_{n % 7}")
    version = app.get_connection(account, connection_id).version
    assert version > CHANGES

    fresh = build_application(encrypted, Scripted())  # no cache: a load as a new process
    try:
        reads = CountingReads(fresh)
        loaded = fresh.get_connection(account, connection_id)
        assert loaded.version == version
        read_after_snapshot = reads.read
        assert read_after_snapshot < SNAPSHOT_INTERVAL  # the events after the newest snapshot
        replayed = project_aggregate(None, fresh.events.get(connection_id))
        assert vars(replayed) == vars(loaded)

        from_snapshot = _median_seconds(lambda: fresh.get_connection(account, connection_id))
        from_events = _median_seconds(
            lambda: project_aggregate(None, fresh.events.get(connection_id))
        )
        print(
            f"load of a {version}-event connection: {from_events * 1000:.1f} ms replaying every"
            f" event, {from_snapshot * 1000:.1f} ms from the snapshot"
            f" ({read_after_snapshot} events read)"
        )
        assert from_snapshot < from_events / 3

        verification = verify_connection(
            fresh.recorder, fresh.mapper, connection_id, account_id=account
        )
        assert verification.verified
        assert verification.facts == version  # every stored fact, not the snapshot
        history = fresh.compliance_history(connection_id, account_id=account)
        assert history.read_at_version == version
    finally:
        fresh.close()


def _median_seconds(load: Callable[[], object], times: int = 5) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        load()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def test_a_snapshot_restores_submission_levels_and_reasons_exactly(
    app: SmsChannels, encrypted: Settings
) -> None:
    provider = app.provider
    assert isinstance(provider, Scripted)
    reasons = ({"code": "30892", "description": "Opt-in missing", "fields": ["a.b"]},)
    provider.answers["number"] = lambda ref: RegistrationAnswer(
        "QE3", "action_required", "WAIT", reasons
    )
    account = unique_account()
    connection_id = registered(app, account)
    before = app.get_connection(account, connection_id)
    assert before.submission is not None
    assert before.levels
    app.take_snapshot(connection_id)

    fresh = build_application(encrypted, Scripted())
    try:
        reads = CountingReads(fresh)
        after = fresh.get_connection(account, connection_id)
        assert reads.read == 0  # nothing after the snapshot: the state is the snapshot's
        assert vars(after) == vars(before)
        assert type(after.submission) is type(before.submission)
        assert after.level("number").reasons == before.level("number").reasons
        assert after.level("number").reasons[0].fields == ("a.b",)  # tuples stay tuples
    finally:
        fresh.close()
    url = encrypted.database_url
    assert url is not None
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT state FROM smschannels_snapshots WHERE originator_id = %s", (connection_id,)
        ).fetchall()
    assert rows
    assert all(CANARY.encode() not in bytes(state) for (state,) in rows)  # encrypted at rest
