"""What every read model is made of: tables (with a suffix, so a rebuild can build beside
the live ones) and a batched projection (events → rows) that the projector worker runs.

Contract: ``apply`` is called inside the worker's transaction with a batch of events in
log order; it writes rows through the given cursor and nothing else (no network calls).
The worker writes the tracking position in the same transaction, so rows and position
commit together: a crash loses nothing and applies nothing twice.

Why the runner is the service's own (``workers.projector``) and not the eventsourcing
library's ``ProjectionRunner``: batching. The library's runner hands a projection one event
at a time and commits one event (rows + tracking) per transaction; a catch-up of tens of
thousands of events then costs as many transactions and per-event row reads. Here one
transaction covers a batch of ``PROJECTION_BATCH_SIZE`` events: ``load`` reads the rows the
batch touches in one query per table, ``handle`` changes them in memory, ``flush`` writes
them in a few statements. The contract is the library's otherwise (a view and a
projection; rows and tracking commit together; a restart resumes from the position).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from psycopg import Cursor, sql

LIVE = ""
REBUILD = "__rebuild"


class ProjectionError(RuntimeError):
    """Raised when a projection cannot apply an event: the projection stops there."""

    def __init__(self, notification_id: int, event_type: str) -> None:
        super().__init__(f"projection failed at notification {notification_id} ({event_type})")
        self.notification_id = notification_id
        self.event_type = event_type


class Projection(ABC):
    """A read model's projection: ``name`` is its tracking key; ``tables`` maps each base
    table name to its column definitions; ``indexes`` lists (table, columns) pairs."""

    name: ClassVar[str]
    tables: ClassVar[dict[str, str]]
    indexes: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, suffix: str = LIVE) -> None:
        self.suffix = suffix

    def table(self, base: str) -> sql.Identifier:
        """The identifier of table ``base`` in this projection's generation (live/rebuild)."""
        return sql.Identifier(base + self.suffix)

    def create_tables(self, cursor: Cursor[Any]) -> None:
        """Create the tables (and their indexes) that do not exist yet."""
        for base, columns in self.tables.items():
            exists = cursor.execute("SELECT to_regclass(%s)", (base + self.suffix,)).fetchone()
            if exists is not None and exists[0] is not None:
                continue
            cursor.execute(
                sql.SQL("CREATE TABLE {} ({})").format(self.table(base), sql.SQL(columns))
            )
            for table, index_columns in self.indexes:
                if table == base:
                    # Unnamed: PostgreSQL picks a unique name, so a rebuilt generation's
                    # indexes never collide with the live one's.
                    cursor.execute(
                        sql.SQL("CREATE INDEX ON {} ({})").format(
                            self.table(base), sql.SQL(index_columns)
                        )
                    )

    def apply(self, cursor: Cursor[Any], events: Sequence[tuple[int, Any]]) -> None:
        """Apply a batch of (notification id, domain event) in log order."""
        self.load(cursor, [event for _, event in events])
        for notification_id, event in events:
            try:
                self.handle(event)
            except Exception as error:
                raise ProjectionError(notification_id, type(event).__qualname__) from error
        self.flush(cursor)

    @abstractmethod
    def load(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        """Read the rows this batch touches into memory (one query per table)."""

    @abstractmethod
    def handle(self, event: Any) -> None:
        """Apply one event to the rows in memory."""

    @abstractmethod
    def flush(self, cursor: Cursor[Any]) -> None:
        """Write the changed rows (a few statements per batch, not per event)."""
