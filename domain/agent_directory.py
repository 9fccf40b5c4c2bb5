"""The agent directory as the service sees it: which agent belongs to which workspace, and
which knowledge base answers for it.

The directory is *input* (from the agents topic or the admin endpoint). Each input is
recorded as an event of a ``DirectoryAgent`` aggregate in the same event log as the
connections, so every projection sees connection and directory facts in one order: a
rebuild reproduces the same rows, and a directory change updates the rows that use the
agent without any connection event.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from domain.ids import ACCOUNTS_NAMESPACE

AGENTS_NAMESPACE = UUID("3c0a9e44-52f1-4d57-9a55-0d7e1b2f8c61")


def directory_agent_id(account_id: str, agent_id: str) -> UUID:
    """The aggregate id of one account's agent (agent ids are unique per account only)."""
    return uuid5(uuid5(AGENTS_NAMESPACE, str(uuid5(ACCOUNTS_NAMESPACE, account_id))), agent_id)


@dataclass(frozen=True)
class AgentInfo:
    """What the directory says about an agent."""

    workspace_id: str
    workspace_name: str
    name: str
    knowledge_base_id: str | None
    knowledge_base_name: str | None


class DirectoryAgent(Aggregate):
    """One agent of one account, as last reported by the agents source. Every event names
    the account and agent, so projections need no lookup to place it."""

    @classmethod
    def create(cls, account_id: str, agent_id: str, info: AgentInfo) -> DirectoryAgent:
        return cls._create(
            cls.Upserted,  # type: ignore[attr-defined]  # made by @event below
            id=directory_agent_id(account_id, agent_id),
            account_id=account_id,
            agent_id=agent_id,
            **info.__dict__,
        )

    @event("Upserted")
    def __init__(
        self,
        account_id: str,
        agent_id: str,
        workspace_id: str,
        workspace_name: str,
        name: str,
        knowledge_base_id: str | None,
        knowledge_base_name: str | None,
    ) -> None:
        self.account_id = account_id
        self.agent_id = agent_id
        self.deleted = False
        self._set(workspace_id, workspace_name, name, knowledge_base_id, knowledge_base_name)

    def _set(
        self,
        workspace_id: str,
        workspace_name: str,
        name: str,
        knowledge_base_id: str | None,
        knowledge_base_name: str | None,
    ) -> None:
        self.info = AgentInfo(
            workspace_id, workspace_name, name, knowledge_base_id, knowledge_base_name
        )

    def update(self, info: AgentInfo) -> None:
        """Record new details; nothing when they are the same (repeated messages are normal)."""
        if self.deleted or info != self.info:
            self._changed(account_id=self.account_id, agent_id=self.agent_id, **info.__dict__)

    @event("Changed")
    def _changed(
        self,
        account_id: str,
        agent_id: str,
        workspace_id: str,
        workspace_name: str,
        name: str,
        knowledge_base_id: str | None,
        knowledge_base_name: str | None,
    ) -> None:
        self.deleted = False
        self._set(workspace_id, workspace_name, name, knowledge_base_id, knowledge_base_name)

    def remove(self) -> None:
        """The agent was deleted upstream; nothing when already deleted."""
        if not self.deleted:
            self._removed(account_id=self.account_id, agent_id=self.agent_id)

    @event("Removed")
    def _removed(self, account_id: str, agent_id: str) -> None:
        self.deleted = True


def upsert_agent(
    application: Application[UUID], account_id: str, agent_id: str, info: AgentInfo
) -> int | None:
    """Record an agent's details; returns the log position, or None if nothing changed."""
    try:
        agent: DirectoryAgent = application.repository.get(directory_agent_id(account_id, agent_id))
        agent.update(info)
    except AggregateNotFoundError:
        agent = DirectoryAgent.create(account_id, agent_id, info)
    recordings = application.save(agent)
    return max((r.notification.id for r in recordings), default=None)


def remove_agent(application: Application[UUID], account_id: str, agent_id: str) -> int | None:
    """Record that an agent was deleted; returns the log position, or None if unknown or
    already deleted."""
    try:
        agent: DirectoryAgent = application.repository.get(directory_agent_id(account_id, agent_id))
    except AggregateNotFoundError:
        return None
    agent.remove()
    recordings = application.save(agent)
    return max((r.notification.id for r in recordings), default=None)


def find_agent(application: Application[UUID], account_id: str, agent_id: str) -> AgentInfo | None:
    """The agent's current details, or None if unknown or deleted."""
    try:
        agent: DirectoryAgent = application.repository.get(directory_agent_id(account_id, agent_id))
    except AggregateNotFoundError:
        return None
    return None if agent.deleted else agent.info
