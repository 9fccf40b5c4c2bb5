"""Effective capabilities: one table over (status, active, agent/KB state, registration
status, country) → (ingestion, outbound replies) with their reasons."""

from __future__ import annotations

import pytest

from domain.agent_directory import AgentInfo
from domain.capabilities import (
    INGESTION_REASONS,
    OUTBOUND_REASONS,
    Capability,
    ConnectionFacts,
    effective_capabilities,
)
from domain.regions import parse_regions
from domain.sms_connections import REGISTRATION_STATUSES

WORKSPACE = "ws_1"
AGENTS: dict[str, AgentInfo | None] = {
    "kb": AgentInfo(WORKSPACE, "Support", "Ava", "kb_1", "Help center"),
    "no_kb": AgentInfo(WORKSPACE, "Support", "Ava", None, None),
    "other_workspace": AgentInfo("ws_2", "Sales", "Ava", "kb_1", "Help center"),
    "unknown": None,
}
OK = Capability(True)


def no(reason: str) -> Capability:
    return Capability(False, reason)


# (status, active, agent state, registration status, country) → (ingestion, outbound)
CASES: list[tuple[str, bool, str, str, str, Capability, Capability]] = [
    # US: replies only with an approved 10DLC campaign.
    ("connected", True, "kb", "approved", "US", OK, OK),
    ("connected", True, "kb", "not_submitted", "US", OK, no("registration_required")),
    ("connected", True, "kb", "submitted", "US", OK, no("campaign_pending")),
    ("connected", True, "kb", "pending", "US", OK, no("campaign_pending")),
    ("connected", True, "kb", "rejected", "US", OK, no("campaign_rejected")),
    ("connected", True, "kb", "suspended", "US", OK, no("campaign_suspended")),
    ("connected", True, "kb", "expired", "US", OK, no("campaign_expired")),
    # Regions without a registration: any status but a provider suspension.
    ("connected", True, "kb", "not_submitted", "CA", OK, OK),
    ("connected", True, "kb", "rejected", "GB", OK, OK),
    ("connected", True, "kb", "pending", "DE", OK, OK),
    ("connected", True, "kb", "suspended", "CA", OK, no("campaign_suspended")),
    # France: messages come in, replies never go out from these numbers.
    ("connected", True, "kb", "approved", "FR", OK, no("region_not_permitted")),
    ("connected", True, "kb", "not_submitted", "FR", OK, no("region_not_permitted")),
    # A country that left the rules table: ingestion unaffected, no replies.
    ("connected", True, "kb", "approved", "NZ", OK, no("region_unsupported")),
    # Ingestion off: both false, with the ingestion reason, whatever the registration.
    ("requested", False, "kb", "approved", "US", no("not_connected"), no("not_connected")),
    ("failed", False, "kb", "approved", "US", no("provisioning_failed"), no("provisioning_failed")),
    ("reclaimed", False, "kb", "approved", "US", no("number_reclaimed"), no("number_reclaimed")),
    ("deleted", False, "kb", "approved", "GB", no("connection_deleted"), no("connection_deleted")),
    ("connected", False, "kb", "approved", "US", no("inactive"), no("inactive")),
    ("connected", True, "no_kb", "approved", "US", no("kb_unresolved"), no("kb_unresolved")),
    ("connected", True, "unknown", "approved", "CA", no("agent_not_found"), no("agent_not_found")),
    (
        "connected",
        True,
        "other_workspace",
        "approved",
        "US",
        no("agent_not_found"),
        no("agent_not_found"),
    ),
    # The first unmet condition wins: status, then active, then the agent, then the KB.
    (
        "reclaimed",
        False,
        "unknown",
        "suspended",
        "US",
        no("number_reclaimed"),
        no("number_reclaimed"),
    ),
    ("connected", False, "no_kb", "not_submitted", "US", no("inactive"), no("inactive")),
    (
        "connected",
        True,
        "unknown",
        "not_submitted",
        "FR",
        no("agent_not_found"),
        no("agent_not_found"),
    ),
]


@pytest.mark.parametrize(
    ("status", "active", "agent", "registration", "country", "ingestion", "outbound"), CASES
)
def test_capabilities_follow_the_connection_agent_and_regional_rule(
    status: str,
    active: bool,
    agent: str,
    registration: str,
    country: str,
    ingestion: Capability,
    outbound: Capability,
) -> None:
    facts = ConnectionFacts(status, active, WORKSPACE, "agent_1", country, registration)
    capabilities = effective_capabilities(facts, AGENTS[agent])
    assert (capabilities.ingestion, capabilities.outbound_replies) == (ingestion, outbound)


def test_a_connection_without_an_agent_has_no_ingestion() -> None:
    facts = ConnectionFacts("connected", True, WORKSPACE, "", "US", "approved")
    capabilities = effective_capabilities(facts, AGENTS["kb"])
    assert capabilities.ingestion == no("no_agent")


@pytest.mark.parametrize("status", REGISTRATION_STATUSES)
@pytest.mark.parametrize("country", ["US", "CA", "GB", "DE", "FR"])
def test_every_reason_is_a_documented_code_and_allowed_means_no_reason(
    status: str, country: str
) -> None:
    for agent in AGENTS.values():
        facts = ConnectionFacts("connected", True, WORKSPACE, "agent_1", country, status)
        capabilities = effective_capabilities(facts, agent)
        for capability, codes in (
            (capabilities.ingestion, INGESTION_REASONS),
            (capabilities.outbound_replies, OUTBOUND_REASONS),
        ):
            assert (capability.reason is None) == capability.allowed
            assert capability.reason is None or capability.reason in codes


def test_the_rule_reads_the_given_regions_table() -> None:
    # A table where Canada needs 10DLC-like approval changes the answer, nothing else.
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
    facts = ConnectionFacts("connected", True, WORKSPACE, "agent_1", "CA", "pending")
    assert effective_capabilities(facts, AGENTS["kb"], regions).outbound_replies == no(
        "campaign_pending"
    )
