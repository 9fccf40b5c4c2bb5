"""SMS requests (Settings → SMS Requests): each number request with its mode, status
(``pending``, ``fulfilled``, ``failed``, ``reclaimed``, ``cancelled``), reason and times.
Rows outlive their connection (a deleted pending request reads ``cancelled``)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

import orjson
from psycopg import Cursor, sql
from psycopg.rows import dict_row

from domain.ids import sms_request_id
from domain.sms_connections import SmsConnection
from projections.base import Projection
from projections.channels_table import ROWS_TABLE
from projections.reducers import Row, connection_ids
from projections.rows import load_rows, upsert_rows

REQUESTS_TABLE = "sms_requests"
COLUMNS = (
    "request_id",
    "connection_id",
    "account_id",
    "mode",
    "phone_number",
    "country",
    "status",
    "reason",
    "created_at",
    "updated_at",
    "workspace_id",
)


class SmsRequestsProjection(Projection):
    """Connection events → ``sms_requests`` rows."""

    name = "sms_requests"
    tables: ClassVar[dict[str, str]] = {
        REQUESTS_TABLE: "request_id uuid PRIMARY KEY, connection_id uuid NOT NULL,"
        " account_id text NOT NULL, mode text NOT NULL, phone_number text NOT NULL,"
        " country text NOT NULL, status text NOT NULL, reason text,"
        " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
        " workspace_id text"
    }
    indexes = ((REQUESTS_TABLE, "account_id, created_at, request_id"),)

    def create_tables(self, cursor: Cursor[Any]) -> None:
        """Create missing tables; add ``workspace_id`` to an older one (its rows read NULL
        until ``sms-channels projections rebuild sms_requests``; the query falls back to
        the channels table for them)."""
        super().create_tables(cursor)
        cursor.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS workspace_id text").format(
                self.table(REQUESTS_TABLE)
            )
        )

    def load(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        ids = [sms_request_id(c) for c in connection_ids(events)]
        self.rows = load_rows(cursor, self.table(REQUESTS_TABLE), "request_id", ids)
        self.dirty: set[UUID] = set()

    @singledispatchmethod
    def handle(self, event: object) -> None:
        """Other events change no request."""

    @handle.register
    def _requested(self, event: SmsConnection.NumberRequested) -> None:
        request_id = sms_request_id(event.originator_id)
        self.rows[request_id] = {
            "request_id": request_id,
            "connection_id": event.originator_id,
            "account_id": event.account_id,
            "mode": event.mode,
            "phone_number": event.phone_number,
            "country": event.country,
            "status": "pending",
            "reason": None,
            "created_at": event.timestamp,
            "workspace_id": event.workspace_id,
        }
        self._touched(request_id, event.timestamp)

    @handle.register
    def _moved(self, event: SmsConnection.WorkspaceChanged) -> None:
        # Where the request is listed, not a change of the request: updated_at stays.
        request_id = sms_request_id(event.originator_id)
        self.rows[request_id]["workspace_id"] = event.workspace_id
        self.dirty.add(request_id)

    @handle.register
    def _progressed(self, event: SmsConnection.HostingProgressed) -> None:
        request_id = sms_request_id(event.originator_id)
        if self.rows[request_id]["status"] == "pending":
            self.rows[request_id]["reason"] = event.reason
            self._touched(request_id, event.timestamp)

    @handle.register
    def _connected(self, event: SmsConnection.NumberConnected) -> None:
        self._settled(event, "fulfilled", None)

    @handle.register
    def _failed(self, event: SmsConnection.ProvisioningFailed) -> None:
        self._settled(event, "failed", event.code)

    @handle.register
    def _reclaimed(self, event: SmsConnection.NumberReclaimed) -> None:
        self._settled(event, "reclaimed", event.reason)

    @handle.register
    def _deleted(self, event: SmsConnection.ConnectionDeleted) -> None:
        request_id = sms_request_id(event.originator_id)
        if self.rows[request_id]["status"] == "pending":
            self.rows[request_id]["status"] = "cancelled"
            self._touched(request_id, event.timestamp)

    def _settled(self, event: SmsConnection.Event, status: str, reason: str | None) -> None:
        request_id = sms_request_id(event.originator_id)
        self.rows[request_id].update(status=status, reason=reason)
        self._touched(request_id, event.timestamp)

    def _touched(self, request_id: UUID, at: datetime) -> None:
        self.rows[request_id]["updated_at"] = at
        self.dirty.add(request_id)

    def flush(self, cursor: Cursor[Any]) -> None:
        upsert_rows(
            cursor,
            self.table(REQUESTS_TABLE),
            "request_id",
            COLUMNS,
            [self.rows[i] for i in self.dirty],
        )


class InvalidRequestsCursorError(ValueError):
    """Raised when a page cursor of the SMS requests is malformed (or was tampered with)."""


def decode_cursor(value: str) -> tuple[datetime, UUID]:
    """The (created_at, request_id) a cursor names, every value checked before it can reach
    PostgreSQL: InvalidRequestsCursorError for anything a tampered cursor could hold (a
    number, a NUL, a date without a zone or out of range, another shape)."""
    try:
        created_at, request_id = orjson.loads(base64.urlsafe_b64decode(value))
        if not isinstance(created_at, str) or not isinstance(request_id, str):
            raise InvalidRequestsCursorError(value)
        at = datetime.fromisoformat(created_at)
        if at.tzinfo is None:
            raise InvalidRequestsCursorError(value)
        return at, UUID(request_id)
    except (ValueError, TypeError) as error:  # what decoding the untrusted text can raise
        raise InvalidRequestsCursorError(value) from error


def list_requests(
    cursor: Cursor[Any],
    account_id: str,
    status: str | None,
    limit: int,
    after: str | None,
    *,
    workspaces: list[str] | None = None,
) -> tuple[list[Row], str | None]:
    """Newest first, keyset-paginated on (created_at, request_id); a malformed ``after``
    raises InvalidRequestsCursorError. ``workspaces`` (a restricted token's) filters in
    SQL, before the limit, on the request's workspace: no cursor ever points at another
    workspace's request. (Rows projected before the column existed have none: for them the
    channels table says where the connection is.)"""
    conditions: list[sql.Composable] = [sql.SQL("account_id = %(account)s")]
    params: dict[str, Any] = {"account": account_id, "limit": limit + 1}
    if workspaces is not None:
        conditions.append(
            sql.SQL(
                "(workspace_id = ANY(%(workspaces)s) OR (workspace_id IS NULL AND connection_id"
                " IN (SELECT connection_id FROM {} WHERE account_id = %(account)s"
                " AND workspace_id = ANY(%(workspaces)s))))"
            ).format(sql.Identifier(ROWS_TABLE))
        )
        params["workspaces"] = workspaces
    if status is not None:
        conditions.append(sql.SQL("status = %(status)s"))
        params["status"] = status
    if after is not None:
        created_at, request_id = decode_cursor(after)
        conditions.append(sql.SQL("(created_at, request_id) < (%(at)s, %(id)s)"))
        params.update(at=created_at, id=request_id)
    statement = sql.SQL(
        "SELECT * FROM {} WHERE {} ORDER BY created_at DESC, request_id DESC LIMIT %(limit)s"
    ).format(sql.Identifier(REQUESTS_TABLE), sql.SQL(" AND ").join(conditions))
    with cursor.connection.cursor(row_factory=dict_row) as rows:
        found = rows.execute(statement, params).fetchall()
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last = page[-1]
        position = [last["created_at"].isoformat(), str(last["request_id"])]
        next_cursor = base64.urlsafe_b64encode(orjson.dumps(position)).decode()
    return page, next_cursor
