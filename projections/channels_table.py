"""The channels table (Account → Channels → SMS tab): one row per live connection, with
the workspace, agent and knowledge base resolved through the agent directory.

Guarantees: rows change with connection events and with directory events (no connection
event needed when an agent loses its knowledge base). What ``domain.serving`` (the one rule)
decides (names, degraded reasons, row actions, effective capabilities) is computed at flush
from the row, the agent and the regional rules; ``degraded_since`` is the time of the event
(connection or directory) that began the current degraded spell, so a rebuild dates it the
same. No compliance value is stored, only section counts. Each sort (phone number,
workspace, knowledge base) is served by an index on (account_id, sort key, connection_id),
and pages are keyset-paginated on that tuple, so a row present during the whole scan is
returned exactly once.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

import orjson
from psycopg import AsyncConnection, Cursor, sql
from psycopg.rows import dict_row

from domain.serving import Spell, assess, degraded_since
from projections.agent_copies import AGENT_COLUMNS
from projections.connection_rows import ConnectionRowsProjection
from projections.reducers import Row, facts_of

ROWS_TABLE = "sms_channels_rows"
AGENTS_TABLE = "sms_channels_agents"
COLUMNS = (
    "connection_id",
    "request_id",
    "account_id",
    "workspace_id",
    "workspace_name",
    "workspace_sort",
    "phone_number",
    "country",
    "area_code",
    "mode",
    "status",
    "active",
    "agent_id",
    "agent_name",
    "kb_id",
    "kb_name",
    "kb_sort",
    "registration_status",
    "compliance_complete",
    "compliance_total",
    "degraded_reasons",
    "is_degraded",
    "ingestion_enabled",
    "ingestion_reason",
    "outbound_permitted",
    "outbound_reason",
    "degraded_since",
    "reclaim_reason",
    "replaced_by",
    "actions",
    "version",
    "created_at",
    "updated_at",
    "attention",
    "registration_carriers",
)
# Columns added after the table's first release: ``create_tables`` adds them to an existing
# table (idempotently); rows that no event touched since keep the defaults below, which
# deny both capabilities with reason ``not_computed``, until
# ``sms-channels projections rebuild channels_table`` recomputes every row. (Nullable, as
# rows written by other means may lack them; the API reads NULL as ``not_computed``.)
NOT_COMPUTED = "not_computed"
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ingestion_enabled", "boolean DEFAULT false"),
    ("ingestion_reason", f"text DEFAULT '{NOT_COMPUTED}'"),
    ("outbound_permitted", "boolean DEFAULT false"),
    ("outbound_reason", f"text DEFAULT '{NOT_COMPUTED}'"),
    ("degraded_since", "timestamptz"),
    ("reclaim_reason", "text"),
    ("replaced_by", "uuid"),
    ("actions", "text[] DEFAULT '{edit,delete}'"),
    # An operator skipped one of the connection's events here (``projections skip``).
    ("attention", "boolean DEFAULT false"),
    # What each carrier decided (``level:carrier:status``, see ``domain.carriers``): the
    # console's per-carrier badge. Rows written before read as none reported until a
    # registration event or a rebuild.
    ("registration_carriers", "text[] DEFAULT '{}'"),
)
SORT_COLUMNS = {
    "phoneNumber": "phone_number",
    "workspace": "workspace_sort",
    "knowledgeBase": "kb_sort",
}


class ChannelsTableProjection(ConnectionRowsProjection):
    """Connection and directory events → ``sms_channels_rows``."""

    name = "channels_table"
    rows_table = ROWS_TABLE
    agents_table = AGENTS_TABLE
    columns = COLUMNS
    tables: ClassVar[dict[str, str]] = {
        ROWS_TABLE: "connection_id uuid PRIMARY KEY, request_id uuid NOT NULL,"
        " account_id text NOT NULL, workspace_id text NOT NULL, workspace_name text,"
        " workspace_sort text NOT NULL, phone_number text NOT NULL, country text NOT NULL,"
        " area_code text, mode text NOT NULL, status text NOT NULL, active boolean NOT NULL,"
        " agent_id text NOT NULL, agent_name text, kb_id text, kb_name text,"
        " kb_sort text NOT NULL, registration_status text NOT NULL,"
        " compliance_complete integer NOT NULL, compliance_total integer NOT NULL,"
        " degraded_reasons text[] NOT NULL, is_degraded boolean NOT NULL,"
        " version integer NOT NULL, created_at timestamptz NOT NULL,"
        " updated_at timestamptz NOT NULL, "
        + ", ".join(f"{name} {definition}" for name, definition in ADDED_COLUMNS),
        AGENTS_TABLE: AGENT_COLUMNS,
    }
    indexes = (
        (ROWS_TABLE, "account_id, phone_number, connection_id"),
        (ROWS_TABLE, "account_id, workspace_sort, connection_id"),
        (ROWS_TABLE, "account_id, kb_sort, connection_id"),
        (ROWS_TABLE, "account_id, workspace_id, phone_number, connection_id"),
        (ROWS_TABLE, "account_id, agent_id"),
    )

    def create_tables(self, cursor: Cursor[Any]) -> None:
        """Create missing tables, then add the columns an older table lacks (idempotent:
        ``sms-channels migrate`` may run it any number of times)."""
        super().create_tables(cursor)
        present = {
            name
            for (name,) in cursor.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s",
                (ROWS_TABLE + self.suffix,),
            ).fetchall()
        }
        # Checked first, so that a migrate run on an up-to-date table takes no table lock.
        for name, definition in ADDED_COLUMNS:
            if name in present:
                continue
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    self.table(ROWS_TABLE), sql.Identifier(name), sql.SQL(definition)
                )
            )

    def changed(self, row: Row, at: datetime) -> None:
        """Date the degraded spell at each event, so that ``since`` names the event that
        began it (a batch's later events keep it)."""
        reasons = assess(facts_of(row), self.agent_of(row)).degraded_reasons
        row["degraded_since"] = degraded_since(
            row.get("degraded_reasons"), row.get("degraded_since"), reasons, at
        )
        row["degraded_reasons"] = list(reasons)

    def prepared(self, row: Row) -> Row:
        """The row with what the rule decides filled in: the directory's names, the
        degraded reasons, the actions and the effective capabilities."""
        serving = assess(facts_of(row), self.agent_of(row))
        names, capabilities = serving.names, serving.capabilities
        row.update(
            workspace_name=names.workspace_name,
            agent_name=names.agent_name,
            kb_id=names.knowledge_base_id,
            kb_name=names.knowledge_base_name,
            degraded_reasons=list(serving.degraded_reasons),
            is_degraded=serving.is_degraded,
            actions=list(serving.actions),
            ingestion_enabled=capabilities.ingestion.allowed,
            ingestion_reason=capabilities.ingestion.reason,
            outbound_permitted=capabilities.outbound_replies.allowed,
            outbound_reason=capabilities.outbound_replies.reason,
        )
        row["workspace_sort"] = row["workspace_name"] or row["workspace_id"]
        row["kb_sort"] = row["kb_name"] or ""
        return row


# --- the view's queries -------------------------------------------------------------------


class InvalidCursorError(ValueError):
    """Raised when a page cursor is malformed or was made for another sort."""


@dataclass(frozen=True)
class ChannelsQuery:
    """A page request of the channels table."""

    account_id: str
    workspace_id: str | None = None
    status: str | None = None
    degraded: bool | None = None
    ingestion: bool | None = None
    outbound: bool | None = None
    sort: Literal["phoneNumber", "workspace", "knowledgeBase"] = "phoneNumber"
    order: Literal["asc", "desc"] = "asc"
    limit: int = 50
    cursor: str | None = None


def encode_cursor(query: ChannelsQuery, row: Row) -> str:
    position = [query.sort, query.order, row[SORT_COLUMNS[query.sort]], str(row["connection_id"])]
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode()


def _decode_cursor(query: ChannelsQuery) -> tuple[str, UUID] | None:
    if query.cursor is None:
        return None
    try:
        sort, order, value, connection_id = orjson.loads(base64.urlsafe_b64decode(query.cursor))
        if (sort, order) != (query.sort, query.order) or not isinstance(value, str):
            raise InvalidCursorError
        if "\x00" in value or not isinstance(connection_id, str):
            raise InvalidCursorError  # PostgreSQL text holds no NUL: refused here
        return value, UUID(connection_id)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError from error


def _page_statement(query: ChannelsQuery) -> tuple[sql.Composed, dict[str, Any]]:
    """The statement of one page (one row more than the page: whether another follows)."""
    column = sql.Identifier(SORT_COLUMNS[query.sort])
    conditions: list[sql.Composable] = [sql.SQL("account_id = %(account)s")]
    params: dict[str, Any] = {"account": query.account_id, "limit": query.limit + 1}
    for name, value in (
        ("workspace_id", query.workspace_id),
        ("status", query.status),
        ("is_degraded", query.degraded),
        ("ingestion_enabled", query.ingestion),
        ("outbound_permitted", query.outbound),
    ):
        if value is not None:
            conditions.append(sql.SQL("{} = %({})s").format(sql.Identifier(name), sql.SQL(name)))
            params[name] = value
    after = _decode_cursor(query)
    direction = sql.SQL("ASC" if query.order == "asc" else "DESC")
    if after is not None:
        compare = sql.SQL(">" if query.order == "asc" else "<")
        conditions.append(
            sql.SQL("({}, connection_id) {} (%(after_value)s, %(after_id)s)").format(
                column, compare
            )
        )
        params.update(after_value=after[0], after_id=after[1])
    statement = sql.SQL(
        "SELECT * FROM {table} WHERE {where} ORDER BY {column} {direction},"
        " connection_id {direction} LIMIT %(limit)s"
    ).format(
        table=sql.Identifier(ROWS_TABLE),
        where=sql.SQL(" AND ").join(conditions),
        column=column,
        direction=direction,
    )
    return statement, params


def _page(found: list[Row], query: ChannelsQuery) -> tuple[list[Row], str | None]:
    page = found[: query.limit]
    next_cursor = encode_cursor(query, page[-1]) if len(found) > query.limit else None
    return page, next_cursor


def list_rows(cursor: Cursor[Any], query: ChannelsQuery) -> tuple[list[Row], str | None]:
    """One page of rows and the cursor of the next page (None on the last page)."""
    statement, params = _page_statement(query)
    with cursor.connection.cursor(row_factory=dict_row) as rows:
        found = rows.execute(statement, params).fetchall()
    return _page(found, query)


async def list_rows_async(
    connection: AsyncConnection[Any], query: ChannelsQuery
) -> tuple[list[Row], str | None]:
    """``list_rows`` on an async connection: the same statement, rows and cursor."""
    statement, params = _page_statement(query)
    async with connection.cursor(row_factory=dict_row) as rows:
        await rows.execute(statement, params)
        found = await rows.fetchall()
    return _page(found, query)


def get_row(cursor: Cursor[Any], account_id: str, connection_id: UUID) -> Row | None:
    with cursor.connection.cursor(row_factory=dict_row) as rows:
        return rows.execute(
            sql.SQL("SELECT * FROM {} WHERE account_id = %s AND connection_id = %s").format(
                sql.Identifier(ROWS_TABLE)
            ),
            (account_id, connection_id),
        ).fetchone()


def degraded_spell(cursor: Cursor[Any], account_id: str, connection_id: UUID) -> Spell | None:
    """The degraded reasons and ``since`` the row of one connection holds (None: no row)."""
    found = cursor.execute(
        sql.SQL(
            "SELECT degraded_reasons, degraded_since FROM {}"
            " WHERE account_id = %s AND connection_id = %s"
        ).format(sql.Identifier(ROWS_TABLE)),
        (account_id, connection_id),
    ).fetchone()
    return None if found is None else Spell(tuple(found[0]), found[1])


def account_connection_ids(
    cursor: Cursor[Any],
    account_id: str,
    *,
    excluding: UUID,
    limit: int,
    workspaces: frozenset[str] | None = None,
) -> list[UUID]:
    """Ids of the account's live connections other than ``excluding`` (at most ``limit``,
    in id order), of ``workspaces`` only when given (a restricted token's): only ids are
    read, the compliance values stay in the event store."""
    in_workspaces = sql.SQL("")
    params: list[Any] = [account_id, excluding]
    if workspaces is not None:
        in_workspaces = sql.SQL(" AND workspace_id = ANY(%s)")
        params.append(sorted(workspaces))
    found = cursor.execute(
        sql.SQL(
            "SELECT connection_id FROM {} WHERE account_id = %s AND connection_id <> %s{}"
            " ORDER BY connection_id LIMIT %s"
        ).format(sql.Identifier(ROWS_TABLE), in_workspaces),
        (*params, limit),
    ).fetchall()
    return [row[0] for row in found]
