"""Snapshots are best effort (``SmsChannels.take_snapshot``): one is taken of the aggregate
at the version asked for, with the projector given; a failure to take one never fails the
caller and is logged (the aggregate, the version, the error's type)."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from eventsourcing.application import project_aggregate

from domain.application import SmsChannels
from providers.sandbox import SandboxProvider
from tests.support.common import new_number

SNAPSHOTTING = {"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"}


def test_a_snapshot_is_taken_at_the_version_asked_for_with_the_projector_given() -> None:
    app = SmsChannels(SandboxProvider(), env=SNAPSHOTTING)
    connection = app.connect(new_number("acc")).connection
    projected: list[Any] = []

    def projector(aggregate: Any, events: Any) -> Any:
        projected.append(aggregate)
        return project_aggregate(aggregate, events)

    app.take_snapshot(connection.id, version=1, projector_func=projector)
    assert projected == [None]
    assert app.snapshots is not None
    (snapshot,) = app.snapshots.get(connection.id, desc=True, limit=1)
    assert (snapshot.originator_id, snapshot.originator_version) == (connection.id, 1)
    app.take_snapshot(connection.id)
    (latest,) = app.snapshots.get(connection.id, desc=True, limit=1)
    assert latest.originator_version == connection.version


def test_a_snapshot_that_cannot_be_taken_fails_nothing_and_is_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = SmsChannels(SandboxProvider(), env=SNAPSHOTTING)
    connection = app.connect(new_number("acc")).connection
    assert app.snapshots is not None

    def lost(*_: Any, **__: Any) -> None:
        raise OSError("the snapshot store went away")

    monkeypatch.setattr(app.snapshots, "put", lost)
    with structlog.testing.capture_logs() as logs:
        app.take_snapshot(connection.id, version=2)
    assert {"event": "snapshot_not_taken", "aggregate_id": str(connection.id), "version": 2,
            "error_type": "OSError", "log_level": "warning"} in logs  # fmt: skip
