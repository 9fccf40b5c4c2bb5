"""Reading a connection's stored facts for its compliance history (``domain.service.
history_rows``): on PostgreSQL, one statement on the event store's own pool (the primary,
as the application reads), rows as tuples in binary format (the states arrive as stored:
text would send them as hex, twice the bytes to send and parse); in memory, the library's
recorder. Either way every stored row of the connection is read once, oldest first, and
decrypted and decoded by the application's own mapper parts
(``domain.service.audit_verify.state_decoder``), so an undecodable fact fails the read as
it fails the library's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import tuple_row

from domain.application import SmsChannels
from domain.service.audit_verify import state_decoder
from domain.service.history_rows import HistoryRead, decoded_facts, history_of

_SELECT = (
    "SELECT originator_version, topic, state FROM {} WHERE originator_id = %s"
    " ORDER BY originator_version"
)


def read_history(
    application: SmsChannels, connection_id: UUID, *, account_id: str | None
) -> HistoryRead:
    """The history of ``connection_id`` as ``account_id`` may read it (ConnectionNotFoundError
    otherwise; None: the operator's scope), and the connection's workspace."""
    rows = _rows(application, connection_id)
    facts = decoded_facts(rows, state_decoder(application.mapper))
    return history_of(connection_id, facts, account_id=account_id)


def _rows(application: SmsChannels, connection_id: UUID) -> list[tuple[int, str, bytes]]:
    recorder: Any = application.recorder
    table = getattr(recorder, "events_table_name", None)
    datastore = getattr(recorder, "datastore", None)
    if table is None or datastore is None:  # in memory: the recorder's own rows
        stored = recorder.select_events(connection_id)
        return [(s.originator_version, s.topic, s.state) for s in stored]
    statement = sql.SQL(_SELECT).format(sql.Identifier(*table.split(".")))
    with (
        datastore.get_connection() as connection,
        connection.cursor(binary=True, row_factory=tuple_row) as cursor,
    ):
        rows: list[tuple[int, str, bytes]] = cursor.execute(statement, (connection_id,)).fetchall()
        return rows
