"""Events stored by the code before replace-number and workspace moves (issue 14: new
``Replaced`` / ``WorkspaceChanged`` events, ``replaced_by`` on the aggregate, new row columns)
still load: the aggregate, the answer made from it, and the channels-table row all read
them, and the old connection accepts the new commands."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from api.schemas.connections import connection_out
from domain.application import SmsChannels
from domain.service.commands import NewNumber
from domain.service.directory import find_agent
from tests.support.events import application_with_stored_events
from tests.support.fakes import FailingProvider
from tests.unit.test_one_truth import MemoryChannelsTable, listed

STORED = Path(__file__).parent.parent / "data" / "events_before_replace_number.json"
ACCOUNT = "acc_old"
CONNECTION = UUID("1d111b20-e733-552f-a262-bc3446a0d545")


@pytest.fixture
def app() -> SmsChannels:
    """An application whose log holds exactly what the previous code wrote: a connection
    requested, connected, switched on, given a compliance draft, then reclaimed (expired),
    and its agent's directory entry without a knowledge base."""
    return application_with_stored_events(FailingProvider(), STORED)


def test_an_old_connection_loads_with_no_replacement(app: SmsChannels) -> None:
    connection = app.get_connection(ACCOUNT, CONNECTION)
    assert (connection.status, connection.reclaim_reason) == ("reclaimed", "expired")
    assert connection.replaced_by is None


def test_the_answer_and_the_row_of_old_events_agree(app: SmsChannels) -> None:
    table = MemoryChannelsTable(app)
    table.catch_up()
    row = table.row(CONNECTION)
    assert row is not None
    listed_row = listed(row)
    connection = app.get_connection(ACCOUNT, CONNECTION)
    single = connection_out(connection, find_agent(app, ACCOUNT, "agent_1")).model_dump(
        mode="json", by_alias=True
    )
    assert listed_row["degraded"]["reasons"] == ["number_reclaimed", "kb_unresolved"]
    for field in ("degraded", "actions", "reclaimReason", "replacedBy", "capabilities"):
        assert single[field] == listed_row[field], field
    assert "replaceNumber" in single["actions"]


def test_an_old_reclaimed_connection_can_be_replaced(app: SmsChannels) -> None:
    number = NewNumber("new", "US", "415", "+14155550124", "u2", "replace-1")
    replacement = app.replace_number(ACCOUNT, CONNECTION, number).connection
    assert app.get_connection(ACCOUNT, CONNECTION).replaced_by == replacement.id
    assert replacement.compliance == {
        "brand": {"displayName": "Acme"},
        "campaign": {"directLending": False},
    }
