"""The connection's life cycle against an independent reference model (Hypothesis stateful
tests, in memory).

``LifecycleModel`` below is written from the design's table of states and rules, not from
the aggregate's code: for every command it predicts either the exact error type that refuses
it or the state the connection lands in. The machines drive the real code with random
command sequences and compare after every step, so a transition allowed from a wrong state,
a refusal with the wrong error, or a claim freed by the wrong connection fails here.

Registration levels (brand / campaign / number, from the registration issue) are not in the
aggregate yet: the model covers the provider-reported registration status only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from domain.application import SmsChannels
from domain.errors import (
    AgentRequiredError,
    ComplianceInvalidError,
    ConnectionDeletedError,
    DomainError,
    InvalidRegistrationStatusError,
    InvalidTransitionError,
    NotConnectedError,
    NumberAlreadyConnectedError,
)
from domain.ids import connection_id_for, number_claim_id
from domain.number_claims import NumberClaim
from domain.service.commands import ConnectNumber
from domain.sms_connections import REGISTRATION_STATUSES, SmsConnection
from providers.sandbox import SandboxProvider

NUMBER = "+14155550123"
# Payloads whose validity and differences the model knows without asking the code.
PAYLOADS: dict[str, dict[str, Any]] = {
    "empty": {},
    "sf": {"brand": {"city": "SF"}},
    "la": {"brand": {"city": "LA"}},
    "flow": {"campaign": {"messageFlow": "Customers text JOIN to opt in."}},
}
INVALID_PAYLOAD = {"brand": {"notAField": "x"}}

# --- the reference model ------------------------------------------------------------------

# The design's rules as data: the states each provider fact may move a connection out of,
# and the state it then holds. A fact repeated in its target state is a no-op.
PROVIDER_FACTS: dict[str, tuple[frozenset[str], str]] = {
    "connect": (frozenset({"requested"}), "connected"),
    "fail": (frozenset({"requested"}), "failed"),
    "reclaim": (frozenset({"connected"}), "reclaimed"),
}
HOLDING = frozenset({"requested", "connected"})
Outcome = type[DomainError] | None  # the error type that refuses a command, or None


@dataclass(frozen=True)
class LifecycleModel:
    """What one connection is, as the design describes it."""

    status: str = "requested"
    active: bool = False
    agent: str = "agent-1"
    provider_ref: str | None = None
    hosting_ref: str | None = None
    compliance: str | None = None  # a key of PAYLOADS
    registration: str = "not_submitted"
    changed_since_submission: bool = False
    version: int = 1

    def recorded(self, **changes: Any) -> LifecycleModel:
        """The model after one recorded event."""
        return replace(self, version=self.version + 1, **changes)

    def provider_fact(self, fact: str, ref: str | None = None) -> tuple[Outcome, LifecycleModel]:
        sources, target = PROVIDER_FACTS[fact]
        if self.status == "deleted":
            return ConnectionDeletedError, self
        if self.status == target and (fact != "connect" or ref == self.provider_ref):
            return None, self
        if self.status not in sources:
            return InvalidTransitionError, self
        if fact == "connect":
            return None, self.recorded(status=target, provider_ref=ref)
        return None, self.recorded(status=target, active=False)

    def start_hosting(self, ref: str) -> tuple[Outcome, LifecycleModel]:
        if self.status == "deleted":
            return ConnectionDeletedError, self
        if self.status != "requested":
            return InvalidTransitionError, self
        return None, self.recorded(hosting_ref=ref)

    def registration_reported(self, status: str) -> tuple[Outcome, LifecycleModel]:
        if self.status == "deleted":
            return ConnectionDeletedError, self
        if status not in REGISTRATION_STATUSES:
            return InvalidRegistrationStatusError, self
        changed = self.changed_since_submission and status not in ("submitted", "not_submitted")
        return None, self.recorded(registration=status, changed_since_submission=changed)

    def assign(self, agent: str) -> tuple[Outcome, LifecycleModel]:
        if self.status == "deleted":
            return ConnectionDeletedError, self
        if not agent:
            return AgentRequiredError, self
        return None, self if agent == self.agent else self.recorded(agent=agent)

    def activate(self) -> tuple[Outcome, LifecycleModel]:
        if self.status == "deleted":
            return ConnectionDeletedError, self
        if self.status != "connected":
            return NotConnectedError, self
        return None, self if self.active else self.recorded(active=True)

    def deactivate(self) -> tuple[Outcome, LifecycleModel]:
        if self.status == "deleted":
            return ConnectionDeletedError, self
        return None, self.recorded(active=False) if self.active else self

    def edit_compliance(self, payload: str | None) -> tuple[Outcome, LifecycleModel]:
        """``payload`` is a key of PAYLOADS, or None for the invalid payload."""
        if self.status == "deleted":
            return ConnectionDeletedError, self
        if payload is None:
            return ComplianceInvalidError, self
        if self.compliance is not None and PAYLOADS[payload] == PAYLOADS[self.compliance]:
            return None, self
        flagged = self.changed_since_submission or self.registration != "not_submitted"
        return None, self.recorded(compliance=payload, changed_since_submission=flagged)

    def delete(self) -> tuple[Outcome, LifecycleModel]:
        if self.status == "deleted":
            return ConnectionDeletedError, self
        return None, self.recorded(status="deleted", active=False)


def observed(connection: SmsConnection) -> LifecycleModel:
    """The aggregate seen through the model's fields."""
    compliance = next(
        (key for key, value in PAYLOADS.items() if value == connection.compliance), None
    )
    return LifecycleModel(
        status=connection.status,
        active=connection.active,
        agent=connection.agent_id,
        provider_ref=connection.provider_ref,
        hosting_ref=connection.hosting_order_ref,
        compliance=compliance,
        registration=connection.registration_status,
        changed_since_submission=connection.changed_since_submission,
        version=connection.version,
    )


def run(command: Any) -> Outcome:
    """The type of the domain error ``command`` raised, or None."""
    try:
        command()
    except DomainError as error:
        return type(error)
    return None


# --- one connection: every command, from every state --------------------------------------


class ConnectionLifecycle(RuleBasedStateMachine):
    """Any command sequence on one connection matches the model step by step; refused
    commands record nothing; the aggregate replayed from the store equals the live one."""

    def __init__(self) -> None:
        super().__init__()
        self.app = SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.model = LifecycleModel()
        self.connection = SmsConnection.request(
            connection_id=uuid4(),
            account_id="acc",
            workspace_id="ws",
            agent_id="agent-1",
            mode="byon",
            country="US",
            area_code="415",
            phone_number=NUMBER,
            requested_by="u",
        )
        self.app.save(self.connection)

    def step(self, command: Any, expected: tuple[Outcome, LifecycleModel]) -> None:
        error, model = expected
        before = dict(vars(self.connection))
        assert run(command) is error
        if error is not None:  # a refused command changes nothing, not even in memory
            assert dict(vars(self.connection)) == before
        self.model = model
        self.app.save(self.connection)

    @rule(ref=st.sampled_from(["PN1", "PN2"]))
    def provider_connects(self, ref: str) -> None:
        self.step(
            lambda: self.connection.mark_connected("sandbox", ref),
            self.model.provider_fact("connect", ref),
        )

    @rule()
    def provider_fails(self) -> None:
        self.step(
            lambda: self.connection.mark_failed("number_unavailable", "sold"),
            self.model.provider_fact("fail"),
        )

    @rule(reason=st.sampled_from(["reclaimed", "expired", "released"]))
    def provider_reclaims(self, reason: Any) -> None:
        self.step(lambda: self.connection.reclaim(reason), self.model.provider_fact("reclaim"))

    @rule(ref=st.sampled_from(["HR1", "HR2"]))
    def provider_starts_hosting(self, ref: str) -> None:
        self.step(
            lambda: self.connection.record_hosting_started("sandbox", ref),
            self.model.start_hosting(ref),
        )

    @rule(status=st.sampled_from([*REGISTRATION_STATUSES, "bogus"]))
    def provider_reports_registration(self, status: str) -> None:
        self.step(
            lambda: self.connection.change_registration_status(
                status, raw_status=status.upper(), reason=None, provider_ref="CM1"
            ),
            self.model.registration_reported(status),
        )

    @rule(agent=st.sampled_from(["", "agent-1", "agent-2"]))
    def operator_assigns_agent(self, agent: str) -> None:
        self.step(lambda: self.connection.assign_agent(agent, by="u"), self.model.assign(agent))

    @rule()
    def operator_activates(self) -> None:
        self.step(lambda: self.connection.activate(by="u"), self.model.activate())

    @rule()
    def operator_deactivates(self) -> None:
        self.step(lambda: self.connection.deactivate(by="u"), self.model.deactivate())

    @rule(payload=st.sampled_from([*PAYLOADS, None]))
    def operator_edits_compliance(self, payload: str | None) -> None:
        body = INVALID_PAYLOAD if payload is None else PAYLOADS[payload]
        self.step(
            lambda: self.connection.update_compliance(body, by="u"),
            self.model.edit_compliance(payload),
        )

    @rule()
    def operator_deletes(self) -> None:
        self.step(lambda: self.connection.delete(by="u"), self.model.delete())

    @invariant()
    def the_connection_is_what_the_model_says(self) -> None:
        assert observed(self.connection) == self.model

    @invariant()
    def it_holds_its_number_exactly_while_requested_or_connected(self) -> None:
        assert self.connection.holds_number == (self.model.status in HOLDING)

    @invariant()
    def replay_from_stored_events_equals_the_live_aggregate(self) -> None:
        replayed = self.app.repository.get(self.connection.id)
        assert vars(replayed) == vars(self.connection)

    def teardown(self) -> None:
        self.app.close()


test_connection_lifecycle_matches_the_model = ConnectionLifecycle.TestCase


# --- two connections of one number: who holds the claim -----------------------------------


@dataclass
class ClaimModel:
    """Connections of one number (each a LifecycleModel) and the one holding its claim."""

    connections: dict[UUID, LifecycleModel]
    holder: UUID | None = None

    def connect(self, connection_id: UUID) -> Outcome:
        if self.holder is not None:
            return NumberAlreadyConnectedError
        # Requested, then the provider's hosting order recorded.
        self.connections[connection_id] = LifecycleModel(agent="agent", version=2)
        self.holder = connection_id
        return None

    def provider_fact(self, connection_id: UUID, fact: str, ref: str | None = None) -> Outcome:
        return self._apply(connection_id, *self.connections[connection_id].provider_fact(fact, ref))

    def delete(self, connection_id: UUID) -> Outcome:
        return self._apply(connection_id, *self.connections[connection_id].delete())

    def _apply(self, connection_id: UUID, error: Outcome, after: LifecycleModel) -> Outcome:
        self.connections[connection_id] = after
        if after.status not in HOLDING and self.holder == connection_id:
            self.holder = None
        return error


class NumberClaims(RuleBasedStateMachine):
    """Connections of one number come and go through the application (connect, provider
    facts, delete): the claim is held by exactly the connection the model says, a connect is
    refused while another holds it, and letting go never frees another connection's claim."""

    connections = Bundle("connections")

    def __init__(self) -> None:
        super().__init__()
        self.app = SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.model = ClaimModel(connections={})
        self.accounts: dict[UUID, str] = {}

    @initialize(target=connections)
    def first_connect(self) -> Any:
        return self.connect()

    @rule(target=connections)
    def connect(self) -> Any:
        # "Use my number" in a new account: requested until the provider reports.
        account = f"acc-{len(self.accounts)}"
        connection_id = connection_id_for(account, "ws", "k")
        self.accounts[connection_id] = account
        command = ConnectNumber(
            account_id=account,
            workspace_id="ws",
            agent_id="agent",
            mode="byon",
            country="US",
            area_code=None,
            phone_number=NUMBER,
            requested_by="u",
            idempotency_key="k",
        )
        expected = self.model.connect(connection_id)
        assert run(lambda: self.app.connect(command)) is expected
        return multiple(connection_id) if expected is None else multiple()

    @rule(connection_id=connections, ref=st.sampled_from(["PN1", "PN2"]))
    def provider_connects(self, connection_id: UUID, ref: str) -> None:
        expected = self.model.provider_fact(connection_id, "connect", ref)
        outcome = run(lambda: self.app.record_number_connected(connection_id, "sandbox", ref))
        assert outcome is expected

    @rule(connection_id=connections)
    def provider_fails(self, connection_id: UUID) -> None:
        expected = self.model.provider_fact(connection_id, "fail")
        outcome = run(lambda: self.app.record_provisioning_failed(connection_id, "x", "no"))
        assert outcome is expected

    @rule(connection_id=connections)
    def provider_reclaims(self, connection_id: UUID) -> None:
        expected = self.model.provider_fact(connection_id, "reclaim")
        outcome = run(lambda: self.app.record_reclaimed(connection_id, "reclaimed"))
        assert outcome is expected

    @rule(connection_id=connections)
    def operator_deletes(self, connection_id: UUID) -> None:
        account = self.accounts[connection_id]
        expected = self.model.delete(connection_id)
        assert run(lambda: self.app.delete(account, connection_id, by="u")) is expected

    @invariant()
    def the_claim_is_held_by_the_connection_the_model_says(self) -> None:
        claim = self.app.repository.get(number_claim_id(NUMBER))
        assert isinstance(claim, NumberClaim)
        assert claim.holder == self.model.holder

    @invariant()
    def every_connection_is_in_the_models_state(self) -> None:
        for connection_id, model in self.model.connections.items():
            connection = self.app.repository.get(connection_id)
            assert (connection.status, connection.provider_ref, connection.version) == (
                model.status,
                model.provider_ref,
                model.version,
            )

    def teardown(self) -> None:
        self.app.close()


test_claims_of_one_number_match_the_model = NumberClaims.TestCase

# Examples come from the Hypothesis profile (more in CI); no deadline: the in-memory store's
# first save is slow to warm up.
ConnectionLifecycle.TestCase.settings = settings(deadline=None)
NumberClaims.TestCase.settings = settings(deadline=None)
