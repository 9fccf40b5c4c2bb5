"""Connections: connect a number, read, change settings, delete; the channels table (the
SMS tab's list, from the read model)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from api.auth import Principal
from api.deps import (
    ApplicationDep,
    ChannelsConnector,
    ChannelsPageReader,
    ChannelsReader,
    ConnectRateLimit,
    ExpectedVersion,
    IdempotencyKey,
    NumberReplacer,
    ReadModelsDep,
    ReplaceRateLimit,
    ScopedConnection,
    SettingsRateLimit,
    SmsManager,
    check_workspace,
    workspace_forbidden,
)
from api.errors import DATABASE_UNAVAILABLE
from api.listing import Cursor, Limit, bad_cursor, json_page, read_your_writes, visible
from api.preconditions import etag
from api.query_pool import ReadModels
from api.schemas.connections import (
    ConnectionOut,
    ConnectRequest,
    ReplaceNumberRequest,
    UpdateConnectionRequest,
    connection_out,
)
from api.schemas.read_models import ChannelsPage, channel_row_wire
from domain.application import SmsChannels
from domain.commands import CommandResult, ConnectNumber, NewNumber
from domain.compliance.shape import empty_compliance
from domain.errors import RecordedRequestUnavailableError
from domain.serving import Spell
from domain.sms_connections import SmsConnection
from projections.channels_table import (
    ChannelsQuery,
    InvalidCursorError,
    degraded_spell,
    list_rows_async,
)

router = APIRouter(tags=["connections"])
BASE = "/channels/sms/connections"


def _spell(request: Request, connection: SmsConnection) -> Spell | None:
    """The degraded spell the channels table recorded (None without read models or row)."""
    read_models: ReadModels | None = request.app.state.read_models
    if read_models is None:
        return None
    with read_models.cursor() as cursor:
        return degraded_spell(cursor, connection.account_id, connection.id)


def _out(
    request: Request,
    response: Response,
    principal: Principal,
    connection: SmsConnection,
    *,
    position: int | None = None,
) -> ConnectionOut:
    """The connection as ``domain.serving`` sees it, with its agent's directory entry, as
    ``principal`` may see it: GET and the commands answer one representation per version
    and caller, so one tag (``api.conditional``)."""
    application: SmsChannels = request.app.state.application
    agent = application.find_agent(connection.account_id, connection.agent_id)
    spell = _spell(request, connection)
    compliance = _shown_compliance(principal, connection, response)
    return connection_out(connection, agent, spell=spell, position=position, compliance=compliance)


def _shown_compliance(
    principal: Principal, connection: SmsConnection, response: Response
) -> dict[str, Any] | None:
    """``smsCompliance`` for callers holding ``sms.manage`` (the empty defaults when none was
    saved), None for others. An answer holding saved values is ``no-store`` (they are
    secrets: no cache, nor the idempotent replay store, keeps it); the empty defaults hold
    none."""
    if not principal.may("sms.manage"):
        return None
    if connection.compliance is None:
        return empty_compliance()
    response.headers["Cache-Control"] = "no-store"
    return connection.compliance


def _answer(
    request: Request, response: Response, principal: Principal, result: CommandResult
) -> ConnectionOut:
    response.headers["ETag"] = etag(result.connection.version)
    return _out(request, response, principal, result.connection, position=result.position)


def _created(
    request: Request, response: Response, principal: Principal, result: CommandResult
) -> ConnectionOut:
    """A new connection's answer: 201 connected, 202 requested; ``Location``. A connect
    the domain recognised as a repeat of its Idempotency-Key (no second effect) says
    ``Idempotent-Replayed: true``, as a replay from the answer store does. It is recorded
    already: a database failure while building the answer (the directory, the read models)
    answers 503 naming it, never a bare 503."""
    if result.connection.status == "requested":
        response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"{BASE}/{result.connection.id}"
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    try:
        return _answer(request, response, principal, result)
    except DATABASE_UNAVAILABLE as error:
        raise RecordedRequestUnavailableError(result.connection.id) from error


_PENDING_503 = {
    "description": "provider_unavailable or service_unavailable, with Retry-After. A 503 "
    "without connectionId recorded nothing. Once anything was recorded (the request, perhaps "
    "the number bought), every 503 carries the body's connectionId and Location naming the "
    "connection: the provider failed during the purchase (the request stays pending), or "
    "the database failed after the request was recorded; read it there, or retry (with or "
    "without the Idempotency-Key) to resume it."
}


@router.post(
    "/channels/sms/connect",
    status_code=status.HTTP_201_CREATED,
    responses={
        202: {"model": ConnectionOut, "description": "Bring-your-own number requested"},
        409: {"description": "number_unavailable (search again), number_already_connected"},
        422: {"description": "Validation, or compliance_restricted (with the reason)"},
        429: {"description": "Too many connect requests for this account; see Retry-After"},
        503: _PENDING_503,
    },
    dependencies=[ConnectRateLimit],
)
def connect(
    body: ConnectRequest,
    principal: ChannelsConnector,
    application: ApplicationDep,
    key: IdempotencyKey,
    request: Request,
    response: Response,
) -> ConnectionOut:
    """Connect a number: ``new`` buys it (201, connected); ``byon`` starts hosting (202,
    requested, with ``requestId``). Replays with the same Idempotency-Key answer the same
    connection. A workspace-restricted token connects only into its workspaces (403)."""
    if not principal.sees(body.workspace_id):
        raise workspace_forbidden()
    result = application.connect(
        ConnectNumber(
            account_id=principal.account_id,
            workspace_id=body.workspace_id,
            agent_id=body.agent_id,
            mode=body.mode,
            country=body.country_code,
            area_code=body.area_code,
            phone_number=body.phone_number,
            requested_by=principal.user_id,
            idempotency_key=key,
            compliance=body.sms_compliance,
        )
    )
    return _created(request, response, principal, result)


@router.get(BASE + "/{connection_id}")
def get_connection(
    connection: ScopedConnection,
    principal: ChannelsReader,
    request: Request,
    response: Response,
) -> ConnectionOut:
    """One connection; ``smsCompliance`` only for callers holding ``sms.manage``."""
    response.headers["ETag"] = etag(connection.version)
    return _out(request, response, principal, connection)


@router.patch(
    BASE + "/{connection_id}",
    responses={
        409: {"description": "not_connected / agent_required: it cannot be switched on"},
        422: {"description": "unknown_agent: agentId is not an agent of workspaceId"},
        429: {"description": "Too many settings changes for this account; see Retry-After"},
    },
    dependencies=[SettingsRateLimit],
)
def update_connection(
    connection_id: UUID,
    body: UpdateConnectionRequest,
    principal: SmsManager,
    application: ApplicationDep,
    version: ExpectedVersion,
    request: Request,
    response: Response,
) -> ConnectionOut:
    """Assign the agent, move to another workspace (``workspaceId`` with ``agentId``, an
    agent the directory lists in it: 422 ``unknown_agent`` otherwise), and/or switch the
    channel on or off (409 when it cannot serve). A workspace-restricted token moves only
    between its workspaces."""
    check_workspace(application, principal, connection_id)
    if body.workspace_id is not None and not principal.sees(body.workspace_id):
        raise workspace_forbidden()
    result = application.update_settings(
        principal.account_id,
        connection_id,
        by=principal.user_id,
        workspace_id=body.workspace_id,
        agent_id=body.agent_id,
        active=body.active,
        expected_version=version,
    )
    return _answer(request, response, principal, result)


@router.post(
    BASE + "/{connection_id}/replace-number",
    status_code=status.HTTP_201_CREATED,
    responses={
        202: {"model": ConnectionOut, "description": "Bring-your-own number requested"},
        409: {
            "description": "invalid_transition (only a reclaimed or failed connection, once), "
            "number_unavailable, number_already_connected"
        },
        503: _PENDING_503,
    },
    dependencies=[ReplaceRateLimit],
)
def replace_number(
    connection_id: UUID,
    body: ReplaceNumberRequest,
    principal: NumberReplacer,
    application: ApplicationDep,
    key: IdempotencyKey,
    request: Request,
    response: Response,
) -> ConnectionOut:
    """Connect a new number in place of a reclaimed or failed connection: the new one (201
    / 202, ``Location``) gets the old one's workspace, agent and ``smsCompliance``; the old
    one answers ``replacedBy``. Needs ``channels.connect`` and ``sms.manage``;
    ``Idempotency-Key`` replays answer the same connection."""
    check_workspace(application, principal, connection_id)
    number = NewNumber(
        mode=body.mode,
        country=body.country_code,
        area_code=body.area_code,
        phone_number=body.phone_number,
        requested_by=principal.user_id,
        idempotency_key=key,
    )
    result = application.replace_number(principal.account_id, connection_id, number)
    return _created(request, response, principal, result)


@router.delete(BASE + "/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(
    connection_id: UUID,
    principal: SmsManager,
    application: ApplicationDep,
    version: ExpectedVersion,
) -> Response:
    """Delete the connection and release its number; kept for audit."""
    check_workspace(application, principal, connection_id)
    application.delete(
        principal.account_id, connection_id, by=principal.user_id, expected_version=version
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    BASE,
    response_model=ChannelsPage,
    dependencies=[read_your_writes("channels_table", ChannelsPageReader)],
)
async def list_connections(
    principal: ChannelsPageReader,
    read_models: ReadModelsDep,
    response: Response,
    workspace_id: Annotated[str | None, Query(alias="workspaceId", max_length=128)] = None,
    status: Literal["requested", "connected", "failed", "reclaimed"] | None = None,
    degraded: bool | None = None,
    ingestion: Annotated[
        bool | None, Query(description="Only rows whose ingestion is (not) enabled.")
    ] = None,
    outbound: Annotated[
        bool | None, Query(description="Only rows whose outbound replies are (not) permitted.")
    ] = None,
    sort: Literal["phoneNumber", "workspace", "knowledgeBase"] = "phoneNumber",
    order: Literal["asc", "desc"] = "asc",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """A page of the account's SMS connections (keyset pagination: pass ``nextCursor``).
    A workspace-restricted token lists only its workspaces."""
    workspace_id, empty = visible(principal, workspace_id)
    if empty:
        return json_page(response, [], None)
    query = ChannelsQuery(
        account_id=principal.account_id,
        workspace_id=workspace_id,
        status=status,
        degraded=degraded,
        ingestion=ingestion,
        outbound=outbound,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    try:
        # The async read path: no worker thread between the query and the page (B3).
        async with read_models.async_connection() as db:
            rows, next_cursor = await list_rows_async(db, query)
    except InvalidCursorError:
        raise bad_cursor() from None
    # Plain values serialised by orjson: no model per row (B3); same shape as ChannelRow.
    return json_page(response, [channel_row_wire(r) for r in rows], next_cursor)
