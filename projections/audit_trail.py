"""The account trail (``GET /audit/events``): one entry per fact of every connection, with
its actor, time, type and the *names* of the compliance fields it changed, never a value.

Rows are written once per fact (keyed by connection and version, so a replayed batch
changes nothing) and never updated; the workspace is the one the connection was in when the
fact was recorded (a move is itself an entry). The trail is a read model like the others:
the per-connection history, replayed from the event store, stays the record of values.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

import orjson
from psycopg import AsyncConnection, Cursor, sql
from psycopg.rows import dict_row

from domain.actors import PROVIDER, PROVIDER_ACTOR, USER, ActorType
from domain.sms_connections import SmsConnection
from projections.base import Projection
from projections.reducers import Row
from projections.rows import load_rows, upsert_rows

TRAIL_TABLE = "sms_audit_trail"
PLACES_TABLE = "sms_audit_places"  # where each connection is: account and workspace
COLUMNS = (
    "connection_id",
    "version",
    "account_id",
    "workspace_id",
    "recorded_at",
    "actor",
    "type",
    "changed_fields",
)

# Connection event → (trail type, attribute naming the actor; None: a provider fact).
TYPES: dict[type[Any], tuple[str, str | None]] = {
    SmsConnection.NumberRequested: ("connection.requested", "requested_by"),
    SmsConnection.HostingStarted: ("hosting.started", None),
    SmsConnection.HostingProgressed: ("hosting.progressed", None),
    SmsConnection.NumberConnected: ("connection.connected", None),
    SmsConnection.ProvisioningFailed: ("connection.failed", None),
    SmsConnection.AgentAssigned: ("agent.assigned", "assigned_by"),
    SmsConnection.WorkspaceChanged: ("workspace.changed", "changed_by"),
    SmsConnection.ActiveChanged: ("active.changed", "changed_by"),
    SmsConnection.ComplianceUpdated: ("compliance.updated", "updated_by"),
    SmsConnection.RegistrationStatusChanged: ("registration.changed", None),
    SmsConnection.RegistrationSubmitted: ("registration.submitted", "submitted_by"),
    SmsConnection.RegistrationLevelChanged: ("registration.changed", None),
    SmsConnection.SecondaryVettingRequested: ("registration.vetting_requested", "requested_by"),
    SmsConnection.NumberReclaimed: ("number.reclaimed", None),
    SmsConnection.Replaced: ("connection.replaced", "replaced_by"),
    SmsConnection.ConnectionDeleted: ("connection.deleted", "deleted_by"),
}
TRAIL_TYPES = tuple(sorted({kind for kind, _ in TYPES.values()}))
# The kinds of entry the provider's facts make (no actor attribute): their actorType.
PROVIDER_TYPES = tuple(sorted({kind for kind, actor in TYPES.values() if actor is None}))


def actor_type(kind: str) -> ActorType:
    """Who recorded an entry of ``kind`` (``domain.actors``): from the kind, never the
    actor's name."""
    return PROVIDER if kind in PROVIDER_TYPES else USER


class AuditTrailProjection(Projection):
    """Connection events → ``sms_audit_trail`` entries (insert-only)."""

    name = "audit_trail"
    tables: ClassVar[dict[str, str]] = {
        TRAIL_TABLE: "connection_id uuid NOT NULL, version integer NOT NULL,"
        " account_id text NOT NULL, workspace_id text NOT NULL,"
        " recorded_at timestamptz NOT NULL, actor text, type text NOT NULL,"
        " changed_fields text[] NOT NULL, PRIMARY KEY (connection_id, version)",
        PLACES_TABLE: "connection_id uuid PRIMARY KEY, account_id text NOT NULL,"
        " workspace_id text NOT NULL",
    }
    indexes = (
        (TRAIL_TABLE, "account_id, recorded_at, connection_id, version"),
        (TRAIL_TABLE, "account_id, actor, recorded_at, connection_id, version"),
        (TRAIL_TABLE, "account_id, connection_id, recorded_at, version"),
    )

    def load(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        ids = list(dict.fromkeys(e.originator_id for e in events if type(e) in TYPES))
        self.places = load_rows(cursor, self.table(PLACES_TABLE), "connection_id", ids)
        self.moved: set[UUID] = set()
        self.entries: list[Row] = []

    def handle(self, event: Any) -> None:
        trail = TYPES.get(type(event))
        if trail is None:
            return
        if isinstance(event, (SmsConnection.NumberRequested, SmsConnection.WorkspaceChanged)):
            self._place(event)
        place = self.places[event.originator_id]
        kind, actor = trail
        self.entries.append(
            {
                "connection_id": event.originator_id,
                "version": event.originator_version,
                "account_id": place["account_id"],
                "workspace_id": place["workspace_id"],
                "recorded_at": event.timestamp,
                "actor": getattr(event, actor) if actor else PROVIDER_ACTOR,
                "type": kind,
                "changed_fields": list(getattr(event, "changed_fields", ()) or ()),
            }
        )

    def _place(self, event: Any) -> None:
        """Where the connection is from this event on (requested, or moved)."""
        place = self.places.get(event.originator_id)
        if place is None:  # NumberRequested (a move finds the place loaded)
            place = {"connection_id": event.originator_id, "account_id": event.account_id}
            self.places[event.originator_id] = place
        place["workspace_id"] = event.workspace_id
        self.moved.add(event.originator_id)

    def flush(self, cursor: Cursor[Any]) -> None:
        upsert_rows(
            cursor,
            self.table(PLACES_TABLE),
            "connection_id",
            ("connection_id", "account_id", "workspace_id"),
            [self.places[i] for i in self.moved],
        )
        if self.entries:
            statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
                self.table(TRAIL_TABLE),
                sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
                sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
            )
            cursor.executemany(statement, [tuple(e[c] for c in COLUMNS) for e in self.entries])


# --- the view's queries -------------------------------------------------------------------


class InvalidTrailCursorError(ValueError):
    """Raised when a page cursor is malformed or was made for another order."""


@dataclass(frozen=True)
class TrailQuery:
    """Which entries of one account, in which order, from where."""

    account_id: str
    workspaces: tuple[str, ...] | None = None  # a restricted token's; None: all
    connection_id: UUID | None = None
    actor: str | None = None
    actor_type: ActorType | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: Literal["asc", "desc"] = "desc"
    limit: int | None = 50  # None: every matching entry (exports)
    cursor: str | None = None


def _kinds_of(kind: ActorType | None) -> list[str] | None:
    """The entry kinds whose actorType is ``kind`` (None: any)."""
    if kind is None:
        return None
    return [t for t in TRAIL_TYPES if actor_type(t) == kind]


def _where(query: TrailQuery) -> tuple[sql.Composable, dict[str, Any]]:
    conditions: list[sql.Composable] = [sql.SQL("account_id = %(account)s")]
    params: dict[str, Any] = {"account": query.account_id}
    for column, name, value, test in (
        ("workspace_id", "workspaces", query.workspaces and list(query.workspaces), "= ANY({})"),
        ("connection_id", "connection_id", query.connection_id, "= {}"),
        ("actor", "actor", query.actor, "= {}"),
        ("type", "type", query.type, "= {}"),
        ("type", "actor_types", _kinds_of(query.actor_type), "= ANY({})"),
        ("recorded_at", "since", query.since, ">= {}"),
        ("recorded_at", "until", query.until, "< {}"),
    ):
        if value is not None:
            compare = sql.SQL(test).format(sql.Placeholder(name))
            conditions.append(sql.SQL("{} {}").format(sql.Identifier(column), compare))
            params[name] = value
    if query.workspaces is not None and not query.workspaces:
        conditions.append(sql.SQL("false"))
    after = decode_cursor(query)
    if after is not None:
        beyond = ">" if query.order == "asc" else "<"
        conditions.append(
            sql.SQL(f"(recorded_at, connection_id, version) {beyond} (%(at)s, %(cid)s, %(ver)s)")
        )
        params.update(at=after[0], cid=after[1], ver=after[2])
    return sql.SQL(" AND ").join(conditions), params


def _statement(query: TrailQuery, where: sql.Composable) -> sql.Composed:
    direction = sql.SQL("ASC" if query.order == "asc" else "DESC")
    statement = sql.SQL(
        "SELECT {columns} FROM {table} WHERE {where}"
        " ORDER BY recorded_at {d}, connection_id {d}, version {d}"
    ).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        table=sql.Identifier(TRAIL_TABLE),
        where=where,
        d=direction,
    )
    if query.limit is not None:
        statement += sql.SQL(" LIMIT %(limit)s")
    return statement


def _page_statement(query: TrailQuery) -> tuple[sql.Composed, dict[str, Any]]:
    """The statement of one page (one entry more than the page: whether another follows)."""
    assert query.limit is not None
    where, params = _where(query)
    params["limit"] = query.limit + 1
    return _statement(query, where), params


def _page(found: list[Row], query: TrailQuery) -> tuple[list[Row], str | None]:
    assert query.limit is not None
    page = found[: query.limit]
    return page, encode_cursor(query, page[-1]) if len(found) > query.limit else None


def list_entries(cursor: Cursor[Any], query: TrailQuery) -> tuple[list[Row], str | None]:
    """One page of entries and the cursor of the next page (None on the last page)."""
    statement, params = _page_statement(query)
    with cursor.connection.cursor(row_factory=dict_row) as rows:
        found = rows.execute(statement, params).fetchall()
    return _page(found, query)


async def list_entries_async(
    connection: AsyncConnection[Any], query: TrailQuery
) -> tuple[list[Row], str | None]:
    """``list_entries`` on an async connection: the same statement, entries and cursor."""
    statement, params = _page_statement(query)
    async with connection.cursor(row_factory=dict_row) as rows:
        await rows.execute(statement, params)
        found = await rows.fetchall()
    return _page(found, query)


def chunked_entries(
    read: Callable[[], AbstractContextManager[Cursor[Any]]], query: TrailQuery, chunk: int = 1000
) -> Iterator[Row]:
    """Every matching entry, in keyset chunks of ``chunk``: each chunk is one short statement
    on a cursor ``read`` lends for that chunk only, so a slow consumer holds no connection and
    no transaction between chunks (the API's exports). The trail only grows: nothing is read
    twice, and in ``asc`` order entries recorded meanwhile after the last one read follow."""
    page = replace(query, limit=chunk)
    while True:
        with read() as cursor:
            rows, next_cursor = list_entries(cursor, page)
        yield from rows
        if next_cursor is None:
            return
        page = replace(page, cursor=next_cursor)


def stream_entries(connection: Any, query: TrailQuery, chunk: int = 1000) -> Iterator[Row]:
    """Every matching entry, read through a server-side cursor in chunks of ``chunk``
    (constant memory however long the trail). Must run inside a transaction."""
    where, params = _where(query)
    with connection.cursor(name="audit_trail_export", row_factory=dict_row) as rows:
        rows.itersize = chunk
        rows.execute(_statement(query, where), params)
        yield from rows


def encode_cursor(query: TrailQuery, row: Row) -> str:
    position = [
        query.order,
        row["recorded_at"].isoformat(),
        str(row["connection_id"]),
        row["version"],
    ]
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode()


def decode_cursor(query: TrailQuery) -> tuple[datetime, UUID, int] | None:
    if query.cursor is None:
        return None
    try:
        order, at, connection_id, version = orjson.loads(base64.urlsafe_b64decode(query.cursor))
        if order != query.order or not (isinstance(at, str) and isinstance(connection_id, str)):
            raise InvalidTrailCursorError
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidTrailCursorError
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not -(2**31) <= version < 2**31:
            raise InvalidTrailCursorError
        return moment, UUID(connection_id), version
    except (ValueError, TypeError) as error:
        raise InvalidTrailCursorError from error


def connection_place(cursor: Cursor[Any], connection_id: UUID) -> tuple[str, str] | None:
    """The account and workspace the trail last saw ``connection_id`` in (None: unknown).
    Used to scope a tenant's verification of a record too damaged to name its owner."""
    found = cursor.execute(
        sql.SQL("SELECT account_id, workspace_id FROM {} WHERE connection_id = %s").format(
            sql.Identifier(PLACES_TABLE)
        ),
        (connection_id,),
    ).fetchone()
    return (found[0], found[1]) if found is not None else None
