"""The application service, the one door of the write side: ``SmsChannels`` has every
command and read the API, the workers and the CLI call, each load → decide → save, returning
the event-log position of what it recorded (for read-your-writes).

It is assembled from the service floor's families, each built on one store
(``domain.service.store``: loading in the caller's scope, the one retry rule):
``domain.service.connecting`` (search, connect, provisioning, the reconcile settlements),
``domain.service.registration`` (submit and the registration worker's steps),
``domain.service.provider_facts`` (webhook deliveries and the provider's reports). The
operator's commands on one connection (settings, compliance, submit, vetting, delete) and
the reads are here.

Every command and read of one connection takes the caller's scope: the account, and
``sees`` (the workspaces a token may see; None: all). Outside it the connection does not
exist (ConnectionNotFoundError), and the command reads the connection once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.agent_directory import AgentInfo
from domain.errors import AgentRequiredError, ConnectionNotFoundError, UnknownAgentError
from domain.providers import NumberProvider
from domain.service.commands import CommandResult, Expected
from domain.service.compliance_history import (
    ComplianceHistory,
    compliance_history,
    registration_view,
)
from domain.service.connecting import Connecting
from domain.service.directory import (
    Admits,
    agent_version,
    find_agent,
    remove_agent,
    upsert_agent,
)
from domain.service.registration import RegistrationCommands
from domain.service.registration_history import RegistrationFact
from domain.service.store import Sees
from domain.sms_connections import SmsConnection


class SmsChannels(RegistrationCommands, Connecting):
    """The SMS channels write model (tables ``smschannels_*`` on PostgreSQL)."""

    name = "SmsChannels"

    def __init__(self, provider: NumberProvider, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.provider = provider

    def close(self) -> None:
        """Close the event store's connections and the provider adapter's."""
        try:
            self.provider.close()
        finally:
            super().close()

    # --- reads of the write model --------------------------------------------------------

    def get_connection(
        self, account_id: str, connection_id: UUID, *, sees: Sees = None
    ) -> SmsConnection:
        """The live connection in the caller's scope; ConnectionNotFoundError if absent,
        another account's, of a workspace the caller does not see, or deleted."""
        connection = self.load(account_id, connection_id, sees=sees)
        if connection.is_deleted:
            raise ConnectionNotFoundError(connection_id)
        return connection

    def get_connection_for_audit(
        self, account_id: str, connection_id: UUID, *, sees: Sees = None
    ) -> SmsConnection:
        """The connection in any state, deleted included (audit keeps deleted ones)."""
        return self.load(account_id, connection_id, sees=sees)

    def compliance_history(
        self, connection_id: UUID, *, account_id: str | None, sees: Sees = None
    ) -> ComplianceHistory:
        """Every compliance version of the connection, replayed from its events
        (``domain.service.compliance_history``); ``account_id`` None: the operator's scope."""
        return compliance_history(self, connection_id, account_id=account_id, sees=sees)

    def registration_view(
        self, connection_id: UUID, *, account_id: str, sees: Sees = None
    ) -> tuple[SmsConnection, list[RegistrationFact]]:
        """The live connection and its registration facts, from one read of its events."""
        return registration_view(self, connection_id, account_id=account_id, sees=sees)

    def find_agent(self, account_id: str, agent_id: str) -> AgentInfo | None:
        """The directory's entry for an agent of the account (None: unknown or removed)."""
        return find_agent(self, account_id, agent_id)

    def agent_version(self, account_id: str, agent_id: str) -> int | None:
        """The version of the agent's directory entry (its ETag), None when unknown."""
        return agent_version(self, account_id, agent_id)

    def upsert_agent(
        self, account_id: str, agent_id: str, info: AgentInfo, admits: Admits | None = None
    ) -> int | None:
        """Record an agent's details (``domain.service.directory.upsert_agent``)."""
        return upsert_agent(self, account_id, agent_id, info, admits)

    def remove_agent(
        self, account_id: str, agent_id: str, admits: Admits | None = None
    ) -> int | None:
        """Record that an agent was deleted (``domain.service.directory.remove_agent``)."""
        return remove_agent(self, account_id, agent_id, admits)

    # --- operator commands on one connection ---------------------------------------------

    def update_settings(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        agent_id: str | None = None,
        active: bool | None = None,
        expected_version: Expected = None,
        workspace_id: str | None = None,
        sees: Sees = None,
    ) -> CommandResult:
        """Move to another workspace (with ``agent_id``, an agent the directory lists in it:
        UnknownAgentError otherwise), assign an agent, and/or switch the channel on or off,
        in one event-log write."""
        if workspace_id is not None:
            self._check_agent_of(account_id, workspace_id, agent_id)

        def decide(connection: SmsConnection) -> list[Aggregate]:
            if workspace_id is not None and agent_id is not None:
                connection.move(workspace_id, agent_id, by=by)
            elif agent_id is not None:
                connection.assign_agent(agent_id, by=by)
            if active is True:
                connection.activate(by=by)
            elif active is False:
                connection.deactivate(by=by)
            return []

        return self.change(account_id, connection_id, expected_version, decide, sees=sees)

    def update_compliance(
        self,
        account_id: str,
        connection_id: UUID,
        payload: object,
        *,
        by: str,
        expected_version: Expected = None,
        sees: Sees = None,
    ) -> CommandResult:
        """Replace the compliance payload as entered (the ``set-sms-compliance`` mutation)."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.update_compliance(payload, by=by)
            return []

        return self.change(account_id, connection_id, expected_version, decide, sees=sees)

    def submit_registration(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        expected_version: Expected,
        others: Sequence[dict[str, Any] | None] = (),
        sees: Sees = None,
    ) -> CommandResult:
        """Submit the connection's current compliance payload for 10DLC registration (see
        ``RegistrationCommands.submit_decision`` for the refusals). The provider steps
        happen later, in the registration worker. A shared brand or campaign registration
        written concurrently (another connection submitted) is decided again by the
        store's retry rule, unless this connection itself moved."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            return self.submit_decision(connection, by=by, others=others)

        return self.change(account_id, connection_id, expected_version, decide, sees=sees)

    def request_secondary_vetting(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        expected_version: Expected,
        sees: Sees = None,
    ) -> CommandResult:
        """Ask for the brand's secondary vetting (the registration worker sends it to the
        provider; the vetting's status and the brand's new score are recorded as the
        provider reports them). InvalidTransitionError until the brand is approved."""

        def decide(connection: SmsConnection) -> list[Aggregate]:
            connection.request_secondary_vetting(by)
            return []

        return self.change(account_id, connection_id, expected_version, decide, sees=sees)

    def delete(
        self,
        account_id: str,
        connection_id: UUID,
        *,
        by: str,
        expected_version: Expected = None,
        sees: Sees = None,
    ) -> CommandResult:
        """Delete the connection, free its number's claim, then release the number (or
        cancel the hosting order) at the provider.

        The release comes after the commit: a crash or a provider outage in between leaves
        a number held at the provider by no live connection, which the reconcile sweep
        releases. The reverse order could leave a live connection whose number is gone.
        A failed release therefore does not fail the delete (it is already committed)."""
        held_refs: list[str] = []

        def decide(connection: SmsConnection) -> list[Aggregate]:
            held_refs.clear()  # a retried decision starts again
            if connection.holds_number:
                ref = connection.provider_ref or connection.hosting_order_ref
                if ref:
                    held_refs.append(ref)
            connection.delete(by=by)
            return self.released_claim(connection)

        result = self.change(account_id, connection_id, expected_version, decide, sees=sees)
        for ref in held_refs:
            self._release_quietly(ref, connection_id)
        return result

    def _check_agent_of(self, account_id: str, workspace_id: str, agent_id: str | None) -> None:
        if not agent_id:
            raise AgentRequiredError()
        agent = find_agent(self, account_id, agent_id)
        if agent is None or agent.workspace_id != workspace_id:
            raise UnknownAgentError(workspace_id)
