"""The channels table (SMS tab) and Settings → SMS Requests, from the read models."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query, Response

from api.auth import Principal
from api.deps import ChannelsReader, ReadModelsDep
from api.problems import ProblemError
from api.schemas.read_models import ChannelsPage, SmsRequestsPage, channel_row, sms_request_row
from projections.channels_table import ChannelsQuery, InvalidCursorError, list_rows
from projections.sms_requests import list_requests

router = APIRouter(tags=["channels table"])

WaitFor = Annotated[
    int | None,
    Query(alias="waitFor", ge=0, description="Wait (bounded) until this log position is read."),
]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=200)]


def read_your_writes(projection: str, reader: Any = ChannelsReader) -> Any:
    """A dependency that waits (asynchronously: no thread is held) until ``projection`` has
    read ``waitFor``, then sets ``X-Projection-Lag`` if it is still behind. ``reader`` is
    the route's own permission alias (its dependency runs once per request)."""
    permission = get_args(reader)[1]  # the Depends(...) inside the Annotated alias

    async def wait(
        read_models: ReadModelsDep,
        response: Response,
        wait_for: WaitFor = None,
        principal: Principal = permission,
    ) -> None:
        lag = await read_models.wait_for(projection, wait_for, principal.account_id)
        if lag:
            response.headers["X-Projection-Lag"] = str(lag)

    return Depends(wait)


def bad_cursor() -> ProblemError:
    message = "The cursor is not valid for this query: start again without it."
    return ProblemError(
        422,
        "validation_error",
        "Invalid request",
        message,
        errors=[{"field": "cursor", "code": "invalid_cursor", "message": message}],
    )


def _workspace_filter(principal: Principal, asked: str | None) -> str | None:
    """The workspace to list for a workspace-restricted token: the one asked for if covered,
    its only workspace if it has one; several → it must name one (422)."""
    if principal.workspaces is None or (asked is not None and principal.sees(asked)):
        return asked
    if asked is None and len(principal.workspaces) == 1:
        return next(iter(principal.workspaces))
    if asked is None and principal.workspaces:
        message = "This token covers several workspaces: name one with workspaceId."
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            message,
            errors=[{"field": "workspaceId", "code": "workspace_required", "message": message}],
        )
    return None  # a workspace the token does not cover, or none at all: an empty page


def visible(principal: Principal, asked: str | None) -> tuple[str | None, bool]:
    """The workspace filter of a list query, and whether the token sees nothing at all."""
    workspace_id = _workspace_filter(principal, asked)
    return workspace_id, principal.workspaces is not None and workspace_id is None


@router.get("/channels/sms/connections", dependencies=[read_your_writes("channels_table")])
def list_connections(
    principal: ChannelsReader,
    read_models: ReadModelsDep,
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
) -> ChannelsPage:
    """A page of the account's SMS connections (keyset pagination: pass ``nextCursor``).
    A workspace-restricted token lists only its workspaces."""
    workspace_id, empty = visible(principal, workspace_id)
    if empty:
        return ChannelsPage(items=[], next_cursor=None)
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
        with read_models.cursor() as db:
            rows, next_cursor = list_rows(db, query)
    except InvalidCursorError:
        raise bad_cursor() from None
    return ChannelsPage(items=[channel_row(r) for r in rows], next_cursor=next_cursor)


@router.get("/settings/sms-requests", dependencies=[read_your_writes("sms_requests")])
def list_sms_requests(
    principal: ChannelsReader,
    read_models: ReadModelsDep,
    status: Literal["pending", "fulfilled", "failed", "reclaimed", "cancelled"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SmsRequestsPage:
    """The account's number requests, newest first."""
    workspaces = None if principal.workspaces is None else sorted(principal.workspaces)
    try:
        with read_models.cursor() as db:
            rows, next_cursor = list_requests(
                db, principal.account_id, status, limit, cursor, workspaces=workspaces
            )
    except (ValueError, TypeError):
        raise bad_cursor() from None
    return SmsRequestsPage(items=[sms_request_row(r) for r in rows], next_cursor=next_cursor)
