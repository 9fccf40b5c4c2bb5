"""What the read-model list endpoints share: read-your-writes (``?waitFor=``), the page
parameters, the invalid-cursor problem, which workspace a restricted token lists, and a
page answered as JSON bytes made by orjson from plain values (no model per row)."""

from __future__ import annotations

from typing import Annotated, Any, get_args

import orjson
from fastapi import Depends, Query, Response

from api.auth import Principal
from api.deps import ChannelsReader, ReadModelsDep
from api.problems import ProblemError

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


def json_page(
    headers_from: Response, items: list[dict[str, Any]], next_cursor: str | None
) -> Response:
    """A page as ``{"items": …, "nextCursor": …}`` serialised by orjson (datetimes as
    pydantic writes them: UTC as ``Z``), carrying the headers the route's dependencies set
    on ``headers_from`` (``X-Projection-Lag``). The route still declares its response model,
    so the OpenAPI document is unchanged."""
    body = orjson.dumps({"items": items, "nextCursor": next_cursor}, option=orjson.OPT_UTC_Z)
    page = Response(body, media_type="application/json")
    for name, value in headers_from.headers.items():
        if name != "content-length":
            page.headers[name] = value
    return page
