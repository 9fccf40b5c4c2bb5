"""Events stored by the code before registration with the provider (issue 12: the connection's
status became derived from three levels; ``RegistrationStatusChanged`` stays as the status
reported for the whole connection) still load: the aggregate, the channels-table row and the
registration read all say what the old events said, and the old connection can submit."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.service.compliance_history import registration_view
from providers.sandbox import SandboxProvider
from tests.support.events import application_with_stored_events
from tests.unit.test_one_truth import MemoryChannelsTable

STORED = Path(__file__).parent.parent / "data" / "events_before_registration.json"
ACCOUNT = "acc_old_reg"
CONNECTION = UUID("b88ec922-d24e-50f5-9e1e-4c83d8d47c48")


@pytest.fixture
def app() -> SmsChannels:
    """The log the previous code wrote: a connection connected, given a complete compliance
    payload, then reported pending (IN_REVIEW) and approved (VERIFIED) by the provider."""
    return application_with_stored_events(SandboxProvider(), STORED)


def test_an_old_reported_status_loads_as_the_connections_status(app: SmsChannels) -> None:
    connection = app.get_connection(ACCOUNT, CONNECTION)
    assert connection.registration_status == "approved"
    assert (connection.registration_raw_status, connection.registration_ref) == (
        "VERIFIED",
        "CMaaaa",
    )
    assert connection.submission is None


def test_the_row_of_old_events_carries_the_reported_status(app: SmsChannels) -> None:
    table = MemoryChannelsTable(app)
    table.catch_up()
    row = table.row(CONNECTION)
    assert row is not None
    assert row["registration_status"] == "approved"


def test_the_timeline_lists_the_old_reports(app: SmsChannels) -> None:
    _, facts = registration_view(app, CONNECTION, account_id=ACCOUNT)
    assert [(f.level, f.status) for f in facts] == [
        ("connection", "pending"),
        ("connection", "approved"),
    ]
    assert facts[0].reasons[0].description == "Carrier review"


def test_an_old_connection_can_submit_and_then_follows_its_levels(app: SmsChannels) -> None:
    version = app.get_connection(ACCOUNT, CONNECTION).version
    app.submit_registration(ACCOUNT, CONNECTION, by="u1", expected_version=version)
    assert app.get_connection(ACCOUNT, CONNECTION).registration_status == "submitted"
