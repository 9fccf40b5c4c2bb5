"""The agent directory: its input (for deployments without the agents topic; a service's
``directory.write``), and its listing for the wizard's Agent selector (``channels.read``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.auth import Principal
from api.deps import (
    ApplicationDep,
    ChannelsReader,
    DirectoryWriter,
    IfMatchHeader,
    ReadModelsDep,
    workspace_forbidden,
)
from api.listing import Cursor, Limit, bad_cursor, read_your_writes, visible
from api.preconditions import etag, parse_if_match, precondition_failed
from api.problems import ProblemError
from api.schemas.read_models import (
    DirectoryAgentIn,
    DirectoryAgentOut,
    DirectoryAgentsPage,
    directory_agent_row,
)
from api.schemas.text import ID_REGEX, text_validator
from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.errors import VersionConflictError
from domain.service.directory import Admits
from domain.text import ID_MAX_LENGTH, check_id
from projections.agent_directory import list_agents

router = APIRouter(tags=["agent directory"])
AgentId = Annotated[
    str, Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_REGEX), text_validator(check_id)
]


def _outside_workspaces(application: SmsChannels, principal: Principal, agent_id: str) -> bool:
    """Whether a workspace-restricted token names an agent recorded in a workspace it does
    not cover (an unknown agent is not: PUT creates it, DELETE is idempotent)."""
    if principal.workspaces is None:
        return False
    current = application.find_agent(principal.account_id, agent_id)
    return current is not None and not principal.sees(current.workspace_id)


def _precondition(if_match: str | None) -> Admits | None:
    """What ``If-Match`` admits (``*``: an entry exists), checked by the directory on the
    state it saves."""
    condition = parse_if_match(if_match)
    return None if condition is None else condition.admits


@contextmanager
def _precondition_failed_as_412(admits: Admits | None) -> Iterator[None]:
    """A refused precondition answers 412 with the entry's current ``ETag``."""
    try:
        yield
    except VersionConflictError as conflict:
        if admits is None:
            raise
        raise precondition_failed(conflict.actual) from None


@router.put("/directory/agents/{agent_id}", responses={412: {"description": "version_conflict"}})
def put_agent(
    agent_id: AgentId,
    body: DirectoryAgentIn,
    principal: DirectoryWriter,
    application: ApplicationDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> DirectoryAgentOut:
    """Record the agent's workspace, name and knowledge base (idempotent). ``If-Match``
    (the ``ETag`` a previous PUT answered, or ``*``) makes the write conditional."""
    if not principal.sees(body.workspace_id):
        raise workspace_forbidden()
    admits = _precondition(if_match)
    if _outside_workspaces(application, principal, agent_id):
        # Agent ids are unique per account, so this id cannot be given to the caller's
        # workspace. The refusal tells that the id is in use elsewhere in the account (and
        # nothing about it): see SECURITY.md.
        raise ProblemError(404, "agent_not_found", "Not found", "The agent was not found.")
    info = AgentInfo(
        body.workspace_id,
        body.workspace_name,
        body.name,
        body.knowledge_base_id,
        body.knowledge_base_name,
    )
    with _precondition_failed_as_412(admits):
        position = application.upsert_agent(principal.account_id, agent_id, info, admits)
    # Unchanged details record nothing; the current position is still a valid waitFor.
    position = position or application.current_position()
    version = application.agent_version(principal.account_id, agent_id)
    if version is not None:
        response.headers["ETag"] = etag(version)
    return DirectoryAgentOut(agent_id=agent_id, position=position, **body.model_dump())


@router.delete(
    "/directory/agents/{agent_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={412: {"description": "version_conflict"}},
)
def delete_agent(
    agent_id: AgentId,
    principal: DirectoryWriter,
    application: ApplicationDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Record that the agent was deleted (idempotent; conditional with ``If-Match``). An
    agent of a workspace the token does not cover is left alone with the same answer as an
    unknown one, ``If-Match`` included (judged as for no entry: 412 without an ``ETag``):
    no oracle."""
    admits = _precondition(if_match)
    if _outside_workspaces(application, principal, agent_id):
        if admits is not None and not admits(None):
            raise precondition_failed(None)
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    with _precondition_failed_as_412(admits):
        application.remove_agent(principal.account_id, agent_id, admits)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/directory/agents", dependencies=[read_your_writes("agent_directory")])
def list_directory_agents(
    principal: ChannelsReader,
    read_models: ReadModelsDep,
    workspace_id: Annotated[str | None, Query(alias="workspaceId", max_length=128)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> DirectoryAgentsPage:
    """The account's agents (of one workspace with ``workspaceId``), by name: the Agent
    selector's options, each with its knowledge base for the Destination step's preview.
    A workspace-restricted token lists only its workspaces."""
    workspace_id, empty = visible(principal, workspace_id)
    if empty:
        return DirectoryAgentsPage(items=[], next_cursor=None)
    try:
        with read_models.cursor() as db:
            rows, next_cursor = list_agents(db, principal.account_id, workspace_id, limit, cursor)
    except (ValueError, TypeError):
        raise bad_cursor() from None
    return DirectoryAgentsPage(
        items=[directory_agent_row(r) for r in rows], next_cursor=next_cursor
    )
