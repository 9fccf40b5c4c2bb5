"""The agent directory read and written through the store: find an agent, upsert it,
remove it. A write checks its text (``checked_info``), takes an optional precondition
(``Admits``: an ``If-Match``) checked on the very state it saves, and is saved by the
store's retry rule (a concurrent write of the same agent: decided again on fresh state;
the last write wins, as on the agents topic)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.persistence import Recording

from domain.agent_directory import AgentInfo, DirectoryAgent, checked_info, directory_agent_id
from domain.errors import VersionConflictError
from domain.service.store import Store
from domain.text import check_id

# A write's precondition: does it admit the entry's current version (None: no entry)?
Admits = Callable[[int | None], bool]


def upsert_agent(
    application: Store,
    account_id: str,
    agent_id: str,
    info: AgentInfo,
    admits: Admits | None = None,
) -> int | None:
    """Record an agent's details; returns the log position, or None if nothing changed.
    A concurrent writer of the same agent is retried on fresh state (the last write wins,
    as on the agents topic); VersionConflictError only if it keeps losing. With ``admits``
    (an ``If-Match``), the precondition is checked on the state that is saved, so a
    concurrent write between the check and the save is refused, never overwritten."""
    check_id(account_id, "acc")
    check_id(agent_id, "agentId")
    info = checked_info(info)

    def decide() -> DirectoryAgent:
        agent = _admitted(_find(application, account_id, agent_id), admits)
        if agent is None:
            return DirectoryAgent.create(account_id, agent_id, info)
        agent.update(info)
        return agent

    return _position(application.save_retrying(lambda: _listed(decide())))


def remove_agent(
    application: Store, account_id: str, agent_id: str, admits: Admits | None = None
) -> int | None:
    """Record that an agent was deleted; returns the log position, or None if unknown or
    already deleted. Retried and conditional like ``upsert_agent``."""
    check_id(account_id, "acc")
    check_id(agent_id, "agentId")

    def decide() -> DirectoryAgent | None:
        agent = _admitted(_find(application, account_id, agent_id), admits)
        if agent is not None:
            agent.remove()
        return agent

    return _position(application.save_retrying(lambda: _listed(decide())))


def _admitted(agent: DirectoryAgent | None, admits: Admits | None) -> DirectoryAgent | None:
    """``agent``, if the precondition admits its version; VersionConflictError otherwise."""
    current = None if agent is None or agent.deleted else agent.version
    if admits is not None and not admits(current):
        raise VersionConflictError(None, current)
    return agent


def _find(application: Store, account_id: str, agent_id: str) -> DirectoryAgent | None:
    agent = application.find(directory_agent_id(account_id, agent_id), snapshots=False)
    return agent if isinstance(agent, DirectoryAgent) else None


def find_agent(application: Store, account_id: str, agent_id: str) -> AgentInfo | None:
    """The agent's current details, or None if unknown or deleted."""
    agent = _find(application, account_id, agent_id)
    return None if agent is None or agent.deleted else agent.info


def agent_version(application: Store, account_id: str, agent_id: str) -> int | None:
    """The version of the agent's directory entry (what its ``ETag`` names), or None if
    unknown or deleted."""
    agent = _find(application, account_id, agent_id)
    return None if agent is None or agent.deleted else agent.version


def _listed(agent: DirectoryAgent | None) -> list[DirectoryAgent]:
    return [] if agent is None else [agent]


def _position(recordings: list[Recording[UUID]] | None) -> int | None:
    """The log position of the write; None when it recorded nothing."""
    return max((r.notification.id for r in recordings or ()), default=None)
