"""Settings → SMS Requests: the account's number requests, from the read model."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import ChannelsReader, ReadModelsDep
from api.listing import Cursor, Limit, bad_cursor, read_your_writes
from api.schemas.read_models import SmsRequestsPage, sms_request_row
from projections.sms_requests import InvalidRequestsCursorError, list_requests

router = APIRouter(tags=["channels table"])


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
    except InvalidRequestsCursorError:
        raise bad_cursor() from None
    return SmsRequestsPage(items=[sms_request_row(r) for r in rows], next_cursor=next_cursor)
