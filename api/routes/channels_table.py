"""The channels table (SMS tab) and Settings → SMS Requests, from the read models."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

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


def _lag_header(response: Response, lag: int) -> None:
    if lag:
        response.headers["X-Projection-Lag"] = str(lag)


def _bad_cursor() -> ProblemError:
    message = "The cursor is not valid for this query: start again without it."
    return ProblemError(
        422,
        "validation_error",
        "Invalid request",
        message,
        errors=[{"field": "cursor", "code": "invalid_cursor", "message": message}],
    )


@router.get("/channels/sms/connections")
def list_connections(
    principal: ChannelsReader,
    read_models: ReadModelsDep,
    response: Response,
    workspace_id: Annotated[str | None, Query(alias="workspaceId", max_length=128)] = None,
    status: Literal["requested", "connected", "failed", "reclaimed"] | None = None,
    degraded: bool | None = None,
    sort: Literal["phoneNumber", "workspace", "knowledgeBase"] = "phoneNumber",
    order: Literal["asc", "desc"] = "asc",
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> ChannelsPage:
    """A page of the account's SMS connections (keyset pagination: pass ``nextCursor``)."""
    _lag_header(response, read_models.wait_for("channels_table", wait_for))
    query = ChannelsQuery(
        account_id=principal.account_id,
        workspace_id=workspace_id,
        status=status,
        degraded=degraded,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    try:
        with read_models.cursor() as db:
            rows, next_cursor = list_rows(db, query)
    except InvalidCursorError:
        raise _bad_cursor() from None
    return ChannelsPage(items=[channel_row(r) for r in rows], next_cursor=next_cursor)


@router.get("/settings/sms-requests")
def list_sms_requests(
    principal: ChannelsReader,
    read_models: ReadModelsDep,
    response: Response,
    status: Literal["pending", "fulfilled", "failed", "reclaimed", "cancelled"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> SmsRequestsPage:
    """The account's number requests, newest first."""
    _lag_header(response, read_models.wait_for("sms_requests", wait_for))
    try:
        with read_models.cursor() as db:
            rows, next_cursor = list_requests(db, principal.account_id, status, limit, cursor)
    except (ValueError, TypeError):
        raise _bad_cursor() from None
    return SmsRequestsPage(items=[sms_request_row(r) for r in rows], next_cursor=next_cursor)
