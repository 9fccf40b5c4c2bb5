"""The agent directory as the service sees it: which agent belongs to which workspace, and
which knowledge base answers for it.

The directory is *input* (from the agents topic or the admin endpoint). Each input is
recorded as an event of a ``DirectoryAgent`` aggregate in the same event log as the
connections, so every projection sees connection and directory facts in one order: a
rebuild reproduces the same rows, and a directory change updates the rows that use the
agent without any connection event. Reading and writing the directory through the store
is the service floor's (``domain.service.directory``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.ids import ACCOUNTS_NAMESPACE
from domain.text import check_id, check_name

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

    class Upserted(Aggregate.Created):
        account_id: str
        agent_id: str
        workspace_id: str
        workspace_name: str
        name: str
        knowledge_base_id: str | None
        knowledge_base_name: str | None

    class Changed(Aggregate.Event):
        account_id: str
        agent_id: str
        workspace_id: str
        workspace_name: str
        name: str
        knowledge_base_id: str | None
        knowledge_base_name: str | None

    class Removed(Aggregate.Event):
        account_id: str
        agent_id: str

    @classmethod
    def create(cls, account_id: str, agent_id: str, info: AgentInfo) -> DirectoryAgent:
        return cls._create(
            cls.Upserted,
            id=directory_agent_id(account_id, agent_id),
            account_id=account_id,
            agent_id=agent_id,
            **asdict(info),
        )

    @event(Upserted)
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
            self._changed(account_id=self.account_id, agent_id=self.agent_id, **asdict(info))

    @event(Changed)
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

    @event(Removed)
    def _removed(self, account_id: str, agent_id: str) -> None:
        self.deleted = True


def checked_info(info: AgentInfo) -> AgentInfo:
    """``info`` through the text rule (ids by their character set, names NFC and one line);
    InvalidTextError naming the field otherwise. The one gate for HTTP and Kafka input."""
    return AgentInfo(
        check_id(info.workspace_id, "workspaceId"),
        check_name(info.workspace_name, "workspaceName"),
        check_name(info.name, "name"),
        None
        if info.knowledge_base_id is None
        else check_id(info.knowledge_base_id, "knowledgeBaseId"),
        None
        if info.knowledge_base_name is None
        else check_name(info.knowledge_base_name, "knowledgeBaseName"),
    )
