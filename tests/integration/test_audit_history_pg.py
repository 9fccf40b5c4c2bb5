"""History and point-in-time correctness across 200 compliance edits by several actors, on
PostgreSQL, with other events interleaved and the connection deleted at the end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.errors import ConnectionNotFoundError
from domain.service.compliance_history import (
    ComplianceHistory,
    PointInTime,
    compliance_history,
    version_as_of,
)
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, unique_account
from tests.support.compliance_payloads import connect

EDITS = 200
ACTORS = ("alice", "bob", "carol", "dave")


@dataclass(frozen=True)
class Edit:
    version: int
    actor: str
    payload: dict[str, Any]
    started: datetime  # wall clock before the command
    finished: datetime  # wall clock after it returned


@dataclass(frozen=True)
class Story:
    account: str
    connection_id: UUID
    edits: list[Edit]
    final_version: int


def payload_of(i: int) -> dict[str, Any]:
    # Each edit changes the display name, and every few edits other fields too.
    return {
        "brand": {"displayName": f"Brand {i}", "city": ["SF", "LA", "NYC"][i % 3]},
        "campaign": {"messageSamples": [f"Sample {i // 5}", None], "embeddedLink": i % 2 == 0},
    }


@pytest.fixture(scope="module")
def story(database_url: str) -> Story:
    application = build_application(
        Settings(database_url=database_url, jwt_secret=JWT_SECRET), SandboxProvider()
    )
    try:
        return write_story(application)
    finally:
        application.close()


def write_story(application: SmsChannels) -> Story:
    account = unique_account()
    connection_id = connect(application, account)
    edits: list[Edit] = []
    for i in range(EDITS):
        if i % 25 == 10:  # other facts between edits: versions are not all compliance ones
            application.update_settings(account, connection_id, by="ops", active=i % 50 == 10)
            application.record_registration_status(connection_id, "submitted", raw_status="S")
        started = datetime.now(UTC)
        result = application.update_compliance(
            account, connection_id, payload_of(i), by=ACTORS[i % len(ACTORS)]
        )
        edits.append(
            Edit(
                result.connection.version,
                ACTORS[i % len(ACTORS)],
                payload_of(i),
                started,
                datetime.now(UTC),
            )
        )
    final = application.delete(account, connection_id, by="ops")
    return Story(account, connection_id, edits, final.connection.version)


@pytest.fixture(scope="module")
def history(story: Story, database_url: str) -> Iterator[ComplianceHistory]:
    # Read by a fresh application, as an auditor's process would.
    application = build_application(Settings(database_url=database_url), SandboxProvider())
    yield compliance_history(application, story.connection_id, account_id=story.account)
    application.close()


def expected_as_of_version(story: Story, version: int) -> Edit | None:
    earlier = [edit for edit in story.edits if edit.version <= version]
    return earlier[-1] if earlier else None


def test_the_history_holds_every_edit_in_order(story: Story, history: ComplianceHistory) -> None:
    assert [(v.version, v.actor, v.compliance) for v in history.versions] == [
        (e.version, e.actor, e.payload) for e in story.edits
    ]


def test_each_version_names_the_fields_its_edit_changed(history: ComplianceHistory) -> None:
    first, second, sixth = history.versions[0], history.versions[1], history.versions[5]
    assert first.changed_fields == [
        "brand.city",
        "brand.displayName",
        "campaign.embeddedLink",
        "campaign.messageSamples",
    ]
    assert second.changed_fields == ["brand.city", "brand.displayName", "campaign.embeddedLink"]
    assert "campaign.messageSamples" in sixth.changed_fields


def test_each_recorded_time_lies_within_its_edit(story: Story, history: ComplianceHistory) -> None:
    outside = [
        edit.version
        for edit, version in zip(story.edits, history.versions, strict=True)
        if not edit.started <= version.recorded_at <= edit.finished
    ]
    assert outside == []


def test_as_of_every_aggregate_version_gives_the_payload_in_effect_then(
    story: Story, history: ComplianceHistory
) -> None:
    wrong = []
    for version in range(1, story.final_version + 1):
        expected = expected_as_of_version(story, version)
        found = version_as_of(history, PointInTime(version=version))
        if (found and found.compliance) != (expected and expected.payload):
            wrong.append(version)
    assert wrong == []


def test_as_of_the_moment_after_each_edit_gives_that_edit(
    story: Story, history: ComplianceHistory
) -> None:
    found = [version_as_of(history, PointInTime(at=edit.finished)) for edit in story.edits]
    assert [v.version if v else None for v in found] == [e.version for e in story.edits]


def test_as_of_the_moment_before_each_edit_gives_the_previous_one(
    story: Story, history: ComplianceHistory
) -> None:
    found = [version_as_of(history, PointInTime(at=edit.started)) for edit in story.edits]
    assert [v.version if v else None for v in found] == [
        None,
        *(e.version for e in story.edits[:-1]),
    ]


def test_the_deleted_connection_keeps_its_whole_history(
    story: Story, history: ComplianceHistory
) -> None:
    assert (history.status, history.read_at_version) == ("deleted", story.final_version)
    assert len(history.versions) == EDITS


def test_another_account_cannot_read_the_history(story: Story, pg_app: SmsChannels) -> None:
    with pytest.raises(ConnectionNotFoundError):
        compliance_history(pg_app, story.connection_id, account_id=unique_account())
