"""The one rule (``domain.serving``): degraded reasons, row actions, names and the dating of
a degraded spell, for a connection's facts and its agent's directory entry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.agent_directory import AgentInfo
from domain.capabilities import ConnectionFacts
from domain.regions import parse_regions
from domain.serving import (
    Names,
    Spell,
    assess,
    connection_since,
    degraded_since,
    facts_of_connection,
)
from domain.sms_connections import SmsConnection

WORKSPACE = "ws_1"
WITH_KB = AgentInfo(WORKSPACE, "Support", "Ava", "kb_1", "Help center")
WITHOUT_KB = AgentInfo(WORKSPACE, "Support", "Ava", None, None)
ELSEWHERE = AgentInfo("ws_2", "Sales", "Bob", "kb_2", "Pricing")
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def facts(
    status: str = "connected", *, agent: str | None = "agent_1", **more: object
) -> ConnectionFacts:
    values: dict[str, object] = {
        "status": status,
        "active": True,
        "workspace_id": WORKSPACE,
        "agent_id": agent,
        "country": "US",
        "registration_status": "approved",
        **more,
    }
    return ConnectionFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "agent", "entry", "reasons"),
    [
        ("connected", "agent_1", WITH_KB, ()),
        ("requested", "agent_1", WITH_KB, ()),
        ("connected", "agent_1", None, ("agent_not_found",)),
        ("connected", "agent_1", ELSEWHERE, ("agent_not_found",)),
        ("connected", "agent_1", WITHOUT_KB, ("kb_unresolved",)),
        ("connected", None, None, ("no_agent",)),
        ("reclaimed", "agent_1", WITH_KB, ("number_reclaimed",)),
        ("failed", "agent_1", None, ("provisioning_failed", "agent_not_found")),
        ("reclaimed", "agent_1", WITHOUT_KB, ("number_reclaimed", "kb_unresolved")),
    ],
)
def test_degraded_reasons_name_the_number_first_then_the_agent(
    status: str, agent: str | None, entry: AgentInfo | None, reasons: tuple[str, ...]
) -> None:
    serving = assess(facts(status, agent=agent), entry)
    assert serving.degraded_reasons == reasons
    assert serving.is_degraded == bool(reasons)


def test_an_unknown_agent_offers_assign_in_agents() -> None:
    assert assess(facts(), None).actions == ("edit", "delete", "assignInAgents")


def test_an_agent_without_knowledge_base_is_fixed_in_the_agent_not_by_reassigning() -> None:
    assert assess(facts(), WITHOUT_KB).actions == ("edit", "delete")


@pytest.mark.parametrize("status", ["reclaimed", "failed"])
def test_a_lost_number_offers_replace_number_until_it_is_replaced(status: str) -> None:
    assert "replaceNumber" in assess(facts(status), WITH_KB).actions
    assert "replaceNumber" not in assess(facts(status, replaced=True), WITH_KB).actions


@pytest.mark.parametrize("status", ["requested", "connected"])
def test_a_held_number_is_not_replaceable(status: str) -> None:
    assert "replaceNumber" not in assess(facts(status), WITH_KB).actions


def test_names_come_only_from_an_agent_of_the_connections_workspace() -> None:
    assert assess(facts(), WITH_KB).names == Names("Support", "Ava", "kb_1", "Help center")
    assert assess(facts(), ELSEWHERE).names == Names()
    assert assess(facts(), None).names == Names()


def test_capabilities_follow_the_same_facts() -> None:
    assert assess(facts(), WITH_KB).capabilities.ingestion.allowed
    assert assess(facts(), WITHOUT_KB).capabilities.ingestion.reason == "kb_unresolved"


def test_a_spell_begins_with_the_fact_that_degrades_the_connection() -> None:
    assert degraded_since((), None, ("agent_not_found",), T0) == T0


def test_a_spell_keeps_its_start_while_the_reasons_change() -> None:
    later = T0 + timedelta(hours=1)
    assert degraded_since(("agent_not_found",), T0, ("kb_unresolved",), later) == T0


def test_a_healthy_connection_has_no_spell() -> None:
    assert degraded_since(("agent_not_found",), T0, (), T0 + timedelta(hours=1)) is None


def test_a_spell_of_unknown_start_is_dated_by_the_next_fact() -> None:
    later = T0 + timedelta(hours=1)
    assert degraded_since(("agent_not_found",), None, ("agent_not_found",), later) == later


class _Connection:
    """The two timestamps ``connection_since`` reads of the write model."""

    created_on = T0
    modified_on = T0 + timedelta(minutes=5)


def test_an_answer_before_the_table_has_a_row_dates_the_spell_from_the_connection() -> None:
    since = connection_since(_Connection(), ("agent_not_found",), None)  # type: ignore[arg-type]
    assert since == T0


def test_an_answer_continues_the_spell_the_table_recorded() -> None:
    recorded = Spell(("agent_not_found",), T0 - timedelta(days=1))
    since = connection_since(_Connection(), ("kb_unresolved",), recorded)  # type: ignore[arg-type]
    assert since == recorded.since


def test_an_answer_ahead_of_a_healthy_row_dates_the_spell_by_its_last_change() -> None:
    since = connection_since(_Connection(), ("number_reclaimed",), Spell((), None))  # type: ignore[arg-type]
    assert since == _Connection.modified_on


def test_the_rule_decides_capabilities_under_the_regions_it_is_given() -> None:
    # Canada needs no registration in the packaged table; here it needs an approval.
    regions = parse_regions(
        """
        [registrations.approval]
        name = "Approval"
        description = "An approved campaign."
        permitted_statuses = ["approved"]
        source = "https://example.org/rule"

        [[countries]]
        iso_code = "CA"
        name = "Canada"
        dial_code = "+1"
        area_code_search = true
        registration = "approval"
        notes = ""
        source = "https://example.org/ca"
        """
    )
    pending_in_canada = facts(country="CA", registration_status="pending")
    assert assess(pending_in_canada, WITH_KB).capabilities.outbound_replies.allowed
    outbound = assess(pending_in_canada, WITH_KB, regions).capabilities.outbound_replies
    assert (outbound.allowed, outbound.reason) == (False, "campaign_pending")


def test_the_facts_of_a_connection_are_read_from_the_write_model() -> None:
    connection = SmsConnection.request(
        connection_id=uuid.uuid4(),
        account_id="acc_1",
        workspace_id="ws_9",
        agent_id="agent_9",
        mode="new",
        country="CA",
        area_code="416",
        phone_number="+14165550100",
        requested_by="u1",
    )
    connection.mark_connected("sandbox", "PN1")
    connection.change_registration_status(
        "rejected", raw_status=None, reason=None, provider_ref=None
    )
    assert facts_of_connection(connection) == ConnectionFacts(
        status="connected",
        active=False,
        workspace_id="ws_9",
        agent_id="agent_9",
        country="CA",
        registration_status="rejected",
        replaced=False,
    )
