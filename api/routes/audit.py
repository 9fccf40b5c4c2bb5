"""The account trail for audit reviewers: what changed in this account, who did it, when
(``compliance.audit``). Field names only, never values: values are read through a
connection's compliance history. ``?format=ndjson|csv`` streams every matching entry from a
server-side cursor (no page limit, constant memory)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio
import orjson
from fastapi import APIRouter, Query, Request, Response

from api.auth import Principal
from api.deps import AuditReader, ReadModelsDep
from api.exports import ExportResponse, ExportSlots
from api.listing import Cursor, Limit, bad_cursor, json_page, read_your_writes
from api.problems import ProblemError
from api.query_pool import ReadModels
from api.schemas.audit import (
    CSV_HEADER,
    TrailEntry,
    TrailPage,
    csv_values,
    trail_entry,
    trail_entry_wire,
)
from api.schemas.text import IdText
from domain.actors import ActorType
from projections.audit_trail import (
    TRAIL_TYPES,
    InvalidTrailCursorError,
    TrailQuery,
    chunked_entries,
    decode_cursor,
    list_entries_async,
)

router = APIRouter(tags=["audit"])

TrailType = Literal[TRAIL_TYPES]  # type: ignore[valid-type]  # the projection's list


@router.get(
    "/audit/events",
    dependencies=[read_your_writes("audit_trail", AuditReader)],
    responses={
        200: {
            # The JSON page's schema, so that typed clients (the console) read it as is.
            "model": TrailPage,
            "description": "A page (JSON), or every matching entry as a file "
            "(`format=ndjson`: one entry per line; `format=csv`: a header row, then one "
            "row per entry, changedFields joined by `;`). A file export whose client reads "
            "nothing for a while, or that runs past its deadline, is cut off (the body ends "
            "truncated).",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        },
        429: {
            "description": "too_many_exports: the account's (or the service's) concurrent "
            "file exports are at their bound; see Retry-After"
        },
    },
)
async def account_trail(
    principal: AuditReader,
    read_models: ReadModelsDep,
    request: Request,
    response: Response,
    connection_id: Annotated[UUID | None, Query(alias="connectionId")] = None,
    actor: IdText | None = None,
    actor_type: Annotated[
        ActorType | None,
        Query(alias="actorType", description="Only entries of this actorType."),
    ] = None,
    type: TrailType | None = None,
    since: Annotated[datetime | None, Query(description="Inclusive (RFC 3339).")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive (RFC 3339).")] = None,
    order: Literal["desc", "asc"] = "desc",
    limit: Limit = 50,
    cursor: Cursor = None,
    format: Literal["json", "ndjson", "csv"] = "json",
) -> Any:
    """Every fact of every connection of the account (of the token's workspaces), newest
    first by default; keyset pagination with ``nextCursor``. File exports run a bounded
    number at once (``api.exports``)."""
    query = TrailQuery(
        account_id=principal.account_id,
        workspaces=_workspaces(principal),
        connection_id=connection_id,
        actor=actor,
        actor_type=actor_type,
        type=type,
        since=_aware(since, "since"),
        until=_aware(until, "until"),
        order=order,
        limit=None if format != "json" else limit,
        cursor=cursor,
    )
    try:
        if format != "json":
            # A file export takes its lease in the database (sync): on a worker thread.
            return await anyio.to_thread.run_sync(_export, request, read_models, query, format)
        # The async read path: no worker thread between the query and the page (B7).
        async with read_models.async_connection() as db:
            rows, next_cursor = await list_entries_async(db, query)
    except InvalidTrailCursorError:
        raise bad_cursor() from None
    # Plain values serialised by orjson: no model per entry (B7); same shape as TrailPage.
    return json_page(response, [trail_entry_wire(r) for r in rows], next_cursor)


def _workspaces(principal: Principal) -> tuple[str, ...] | None:
    return None if principal.workspaces is None else tuple(sorted(principal.workspaces))


def _aware(moment: datetime | None, field: str) -> datetime | None:
    """RFC 3339 times carry a zone; one without is refused rather than guessed."""
    if moment is not None and moment.tzinfo is None:
        message = "Times need a zone (RFC 3339), e.g. 2026-12-01T10:00:00Z."
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            message,
            errors=[{"field": field, "code": "invalid_time", "message": message}],
        )
    return moment


def _export(
    request: Request, read_models: ReadModels, query: TrailQuery, format: str
) -> ExportResponse:
    decode_cursor(query)  # a bad cursor is refused before the stream starts
    settings = request.app.state.settings
    slots: ExportSlots = request.app.state.export_slots
    holder = slots.take(query.account_id)  # 429 beyond the bounds; the response gives it back
    lines = _ndjson(read_models, query) if format == "ndjson" else _csv(read_models, query)
    media = "application/x-ndjson" if format == "ndjson" else "text/csv"
    name = f"audit-trail.{'ndjson' if format == 'ndjson' else 'csv'}"
    return ExportResponse(
        lines,
        slots=slots,
        account_id=query.account_id,
        holder=holder,
        send_timeout_seconds=settings.audit_export_send_timeout_seconds,
        max_seconds=settings.audit_export_max_seconds,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _entries(read_models: ReadModels, query: TrailQuery) -> Iterator[TrailEntry]:
    for row in chunked_entries(read_models.export_cursor, query):
        yield trail_entry(row)


def _ndjson(read_models: ReadModels, query: TrailQuery) -> Iterator[bytes]:
    for entry in _entries(read_models, query):
        yield orjson.dumps(entry.model_dump(mode="json", by_alias=True)) + b"\n"


def _csv(read_models: ReadModels, query: TrailQuery) -> Iterator[str]:
    yield _csv_line(list(CSV_HEADER))
    for entry in _entries(read_models, query):
        yield _csv_line(csv_values(entry.model_dump(mode="json", by_alias=True)))


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()
