"""Each refused transition by name (with its error and message), each event's recorded facts,
and the number claim's guard, in memory. These pin the mutants that survived the suite
before (see tests/MUTANTS.md): a transition allowed from a wrong state, an edit after a
rejection not flagged, a claim freed by a connection that does not hold it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import ConnectionDeletedError, InvalidTransitionError, NotConnectedError
from domain.ids import sms_request_id
from domain.number_claims import NumberClaim
from domain.sms_connections import REGISTRATION_STATUSES, SmsConnection

NUMBER = "+14155550123"


def requested(mode: str = "new") -> SmsConnection:
    return SmsConnection.request(
        connection_id=uuid4(),
        account_id="acc",
        workspace_id="ws-1",
        agent_id="agent",
        mode=mode,  # type: ignore[arg-type]
        country="US",
        area_code="415",
        phone_number=NUMBER,
        requested_by="ann",
    )


def in_state(status: str) -> SmsConnection:
    """A connection brought to ``status`` by the provider facts that lead there."""
    connection = requested()
    if status in ("connected", "reclaimed"):
        connection.mark_connected("sandbox", "PN1")
    if status == "reclaimed":
        connection.reclaim("expired")
    if status == "failed":
        connection.mark_failed("number_unavailable", "sold")
    return connection


def last_event(connection: SmsConnection) -> Any:
    return connection.pending_events[-1]


# --- refused transitions: the right error, the right words, nothing recorded --------------

REFUSALS: list[tuple[str, Callable[[SmsConnection], None], str]] = [
    ("reclaimed", lambda c: c.mark_connected("sandbox", "PN1"), "Cannot connect a connection"),
    ("failed", lambda c: c.mark_connected("sandbox", "PN1"), "Cannot connect a connection"),
    ("connected", lambda c: c.mark_connected("sandbox", "PN2"), "Cannot connect a connection"),
    ("connected", lambda c: c.mark_failed("x", "y"), "Cannot fail a connection"),
    ("reclaimed", lambda c: c.mark_failed("x", "y"), "Cannot fail a connection"),
    ("requested", lambda c: c.reclaim("expired"), "Cannot reclaim a connection"),
    ("failed", lambda c: c.reclaim("expired"), "Cannot reclaim a connection"),
    (
        "connected",
        lambda c: c.record_hosting_started("sandbox", "HR1"),
        "Cannot start hosting for a connection",
    ),
]


@pytest.mark.parametrize(
    ("status", "command", "words"), REFUSALS, ids=[f"{s}-{w}" for s, _, w in REFUSALS]
)
def test_a_provider_fact_that_does_not_fit_the_state_is_refused_and_records_nothing(
    status: str, command: Callable[[SmsConnection], None], words: str
) -> None:
    connection = in_state(status)
    version = connection.version
    with pytest.raises(InvalidTransitionError) as refused:
        command(connection)
    assert str(refused.value) == f"{words} that is {status}."
    assert (connection.status, connection.version) == (status, version)


def test_reclaim_is_refused_for_a_requested_or_failed_connection() -> None:
    for status in ("requested", "failed"):
        with pytest.raises(InvalidTransitionError):
            in_state(status).reclaim("reclaimed")


def test_a_connected_connection_refuses_a_connect_with_another_provider_ref() -> None:
    # Only the same reference is a repeat: another one is a second purchase, which the
    # application must give back (test_connect_flow covers that path end to end).
    connection = in_state("connected")
    connection.mark_connected("sandbox", "PN1")  # a repeat: no-op
    with pytest.raises(InvalidTransitionError):
        connection.mark_connected("sandbox", "PN2")
    assert (connection.provider_ref, connection.version) == ("PN1", 2)


def test_a_connected_connection_cannot_fail() -> None:
    connection = in_state("connected")
    with pytest.raises(InvalidTransitionError):
        connection.mark_failed("number_unavailable", "late refusal")
    assert (connection.status, connection.failure_code) == ("connected", None)


def test_activation_refused_names_the_state() -> None:
    with pytest.raises(NotConnectedError) as refused:
        in_state("reclaimed").activate(by="ann")
    assert refused.value.status == "reclaimed"


def test_a_command_to_a_deleted_connection_names_it() -> None:
    connection = in_state("connected")
    connection.delete(by="ann")
    with pytest.raises(ConnectionDeletedError) as refused:
        connection.assign_agent("other", by="ann")
    assert refused.value.connection_id == connection.id


# --- changed since submission after every provider answer ---------------------------------


@pytest.mark.parametrize(
    "status", [s for s in REGISTRATION_STATUSES if s not in ("not_submitted", "submitted")]
)
def test_an_edit_after_a_provider_answer_marks_changed_since_submission(status: str) -> None:
    # After a rejection (or approval, suspension…) an edited payload can be submitted again:
    # the connection must say it differs from what the provider saw.
    connection = in_state("connected")
    connection.update_compliance({"brand": {"displayName": "Acme"}}, by="ann")
    connection.change_registration_status(status, raw_status=None, reason=None, provider_ref="B")
    assert connection.changed_since_submission is False
    connection.update_compliance({"brand": {"displayName": "Acme Inc"}}, by="ann")
    assert connection.changed_since_submission is True


def test_a_new_submission_clears_changed_since_submission() -> None:
    connection = in_state("connected")
    connection.change_registration_status(
        "rejected", raw_status=None, reason=None, provider_ref="B"
    )
    connection.update_compliance({"brand": {"displayName": "Acme"}}, by="ann")
    connection.change_registration_status(
        "submitted", raw_status=None, reason=None, provider_ref="B"
    )
    assert connection.changed_since_submission is False


# --- what each event records --------------------------------------------------------------


def test_the_request_records_every_fact_of_the_command() -> None:
    connection = requested(mode="byon")
    assert (
        connection.account_id,
        connection.workspace_id,
        connection.agent_id,
        connection.mode,
        connection.country,
        connection.area_code,
        connection.phone_number,
        connection.requested_by,
    ) == ("acc", "ws-1", "agent", "byon", "US", "415", NUMBER, "ann")
    assert connection.request_id == sms_request_id(connection.id)


def test_provider_facts_record_the_provider_and_its_references() -> None:
    hosted = requested(mode="byon")
    hosted.record_hosting_started("twilio", "HR1")
    assert (hosted.provider, hosted.hosting_order_ref) == ("twilio", "HR1")
    hosted.mark_connected("twilio", "PN9")
    assert (hosted.provider, hosted.provider_ref) == ("twilio", "PN9")
    hosted.change_registration_status(
        "rejected", raw_status="FAILED", reason="30882", provider_ref="BN1"
    )
    event = last_event(hosted)
    assert (event.status, event.raw_status, event.reason, event.provider_ref) == (
        "rejected",
        "FAILED",
        "30882",
        "BN1",
    )
    assert hosted.registration_reason == "30882"


def test_every_operator_event_records_who_acted() -> None:
    connection = in_state("connected")
    connection.assign_agent("agent-2", by="bob")
    assert last_event(connection).assigned_by == "bob"
    connection.activate(by="cat")
    assert (last_event(connection).active, last_event(connection).changed_by) == (True, "cat")
    connection.deactivate(by="dan")
    assert (last_event(connection).active, last_event(connection).changed_by) == (False, "dan")
    assert connection.active is False
    connection.update_compliance({"brand": {}}, by="eve")
    assert last_event(connection).updated_by == "eve"
    connection.delete(by="fay")
    assert last_event(connection).deleted_by == "fay"


# --- the number claim ---------------------------------------------------------------------


def test_a_claim_records_its_number_and_holder() -> None:
    holder = uuid4()
    claim = NumberClaim.take_new(NUMBER, holder)
    assert (claim.phone_number, claim.holder) == (NUMBER, holder)


def test_a_claim_is_released_only_by_its_holder() -> None:
    # A failed and B took the number: A letting go again (deleted) must leave B's claim.
    first, second = uuid4(), uuid4()
    claim = NumberClaim.take_new(NUMBER, first)
    claim.release(first)
    assert last_event(claim).connection_id == first
    claim.take(second)
    version = claim.version
    claim.release(first)
    assert (claim.holder, claim.version) == (second, version)
