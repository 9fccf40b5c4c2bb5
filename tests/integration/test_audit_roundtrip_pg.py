"""Drafts round-trip exactly, and edits replay to the same history, through PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from domain.application import SmsChannels
from domain.service.compliance_history import compliance_history
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account
from tests.support.compliance_payloads import (
    compliance_payloads,
    connect,
    edit_sequences,
    expected_changed_fields,
)

PG_EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def reader(pg_settings: Settings) -> Iterator[SmsChannels]:
    """A second application on the same database: what it reads came from PostgreSQL."""
    application = build_application(pg_settings, SandboxProvider())
    yield application
    application.close()


@PG_EXAMPLES
@given(payload=compliance_payloads)
def test_any_structurally_valid_payload_round_trips_exactly_through_postgres(
    pg_app: SmsChannels, reader: SmsChannels, payload: dict[str, Any]
) -> None:
    account = unique_account()
    connection_id = connect(pg_app, account)
    pg_app.update_compliance(account, connection_id, payload, by="u")
    stored = reader.get_connection(account, connection_id).compliance
    assert stored == payload
    assert json.dumps(stored) == json.dumps(payload)


@PG_EXAMPLES
@given(edits=edit_sequences)
def test_any_sequence_of_edits_replays_to_the_same_history_from_postgres(
    pg_app: SmsChannels, reader: SmsChannels, edits: list[tuple[str, dict[str, Any]]]
) -> None:
    account = unique_account()
    connection_id = connect(pg_app, account)
    expected: list[tuple[int, str, list[str], dict[str, Any]]] = []
    previous: dict[str, Any] | None = None
    for actor, payload in edits:
        result = pg_app.update_compliance(account, connection_id, payload, by=actor)
        changed = expected_changed_fields(previous, payload)
        if previous is None or changed:
            expected.append((result.connection.version, actor, changed, payload))
            previous = payload
    replayed = compliance_history(reader, connection_id, account_id=account)
    assert [(v.version, v.actor, v.changed_fields, v.compliance) for v in replayed.versions] == (
        expected
    )
    assert compliance_history(pg_app, connection_id, account_id=account) == replayed
