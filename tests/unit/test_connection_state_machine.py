"""Any sequence of commands keeps the aggregate's invariants, and the aggregate replayed
from its stored events equals the live one (Hypothesis stateful test, in memory)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.application import SmsChannels
from domain.errors import DomainError
from domain.sms_connections import REGISTRATION_STATUSES, SmsConnection
from providers.sandbox import SandboxProvider

agents = st.sampled_from(["", "agent-1", "agent-2"])
texts = st.text(max_size=30)
compliance_payloads = st.fixed_dictionaries(
    {},
    optional={
        "brand": st.fixed_dictionaries(
            {},
            optional={
                "displayName": texts,
                "city": texts | st.none(),
                "entity": st.sampled_from(["", "NON_PROFIT", "BOGUS"]),
            },
        ),
        "campaign": st.fixed_dictionaries(
            {},
            optional={
                "messageSamples": st.lists(texts, max_size=6),
                "termsAndConditions": st.booleans() | st.integers(),
            },
        ),
    },
)


class ConnectionLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.connection = SmsConnection.request(
            connection_id=uuid4(),
            account_id="acc",
            workspace_id="ws",
            agent_id="agent-1",
            mode="new",
            country="US",
            area_code="415",
            phone_number="+14155550123",
            requested_by="u",
        )
        self.app.save(self.connection)
        self.registration_status = "not_submitted"
        self.was_deleted = False

    def attempt(self, command: Any) -> None:
        """Run a command; a refused one must change nothing."""
        version = self.connection.version
        state = dict(vars(self.connection))
        try:
            command()
        except DomainError:
            assert self.connection.version == version
            assert dict(vars(self.connection)) == state
        self.app.save(self.connection)

    @rule(ref=st.sampled_from(["PN1", "PN2"]))
    def connect(self, ref: str) -> None:
        self.attempt(lambda: self.connection.mark_connected("sandbox", ref))

    @rule()
    def fail(self) -> None:
        self.attempt(lambda: self.connection.mark_failed("number_unavailable", "sold"))

    @rule(reason=st.sampled_from(["reclaimed", "expired", "released"]))
    def reclaim(self, reason: Any) -> None:
        self.attempt(lambda: self.connection.reclaim(reason))

    @rule(agent=agents)
    def assign_agent(self, agent: str) -> None:
        self.attempt(lambda: self.connection.assign_agent(agent, by="u"))

    @rule()
    def activate(self) -> None:
        self.attempt(lambda: self.connection.activate(by="u"))

    @rule()
    def deactivate(self) -> None:
        self.attempt(lambda: self.connection.deactivate(by="u"))

    @rule(payload=compliance_payloads)
    def update_compliance(self, payload: dict[str, Any]) -> None:
        self.attempt(lambda: self.connection.update_compliance(payload, by="u"))

    @rule(status=st.sampled_from([*REGISTRATION_STATUSES, "bogus"]))
    def provider_reports_registration(self, status: str) -> None:
        self.attempt(
            lambda: self.connection.change_registration_status(
                status, raw_status=status.upper(), reason=None, provider_ref="CM1"
            )
        )
        if not self.was_deleted and status in REGISTRATION_STATUSES:
            self.registration_status = status

    @precondition(lambda self: not self.was_deleted)
    @rule()
    def delete(self) -> None:
        self.attempt(lambda: self.connection.delete(by="u"))
        self.was_deleted = True

    @invariant()
    def active_implies_connected_with_an_agent(self) -> None:
        if self.connection.active:
            assert self.connection.status == "connected"
            assert self.connection.agent_id

    @invariant()
    def an_agent_is_always_assigned(self) -> None:
        assert self.connection.agent_id

    @invariant()
    def only_provider_facts_move_the_registration_status(self) -> None:
        assert self.connection.registration_status == self.registration_status

    @invariant()
    def deleted_is_terminal(self) -> None:
        assert (self.connection.status == "deleted") == self.was_deleted

    @invariant()
    def stored_compliance_passes_the_shape_check(self) -> None:
        from domain.compliance import check_compliance  # noqa: PLC0415

        if self.connection.compliance is not None:
            check_compliance(self.connection.compliance)

    @invariant()
    def replay_from_stored_events_equals_the_live_aggregate(self) -> None:
        replayed = self.app.repository.get(self.connection.id)
        assert vars(replayed) == vars(self.connection)

    def teardown(self) -> None:
        self.app.close()


ConnectionLifecycle.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None
)
test_connection_lifecycle = ConnectionLifecycle.TestCase
