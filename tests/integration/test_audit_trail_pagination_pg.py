"""The account trail's keyset pagination on PostgreSQL: a scan with writes interleaved
between its pages returns every entry present throughout exactly once, in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.audit_trail import TrailQuery, list_entries

BASE = datetime(2026, 12, 1, tzinfo=UTC)
# Few distinct seconds, so ties on recorded_at (and on connection) are common.
entry = st.tuples(st.integers(0, 5), st.sampled_from([uuid.UUID(int=i) for i in range(1, 4)]))


def insert(connection: psycopg.Connection[Any], account: str, entries: list[Any]) -> None:
    for second, connection_id in entries:
        connection.execute(
            "INSERT INTO sms_audit_trail (connection_id, version, account_id, workspace_id,"
            " recorded_at, actor, type, changed_fields) VALUES (%s,"
            " (SELECT coalesce(max(version), 0) + 1 FROM sms_audit_trail WHERE connection_id = %s),"
            " %s, 'ws', %s, 'u', 'active.changed', '{}')",
            (connection_id, connection_id, account, BASE + timedelta(seconds=second)),
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    initial=st.lists(entry, min_size=0, max_size=25),
    interleaved=st.lists(st.lists(entry, max_size=3), max_size=6),
    order=st.sampled_from(["asc", "desc"]),
    limit=st.integers(1, 7),
)
def test_a_scan_with_interleaved_writes_never_repeats_or_skips_an_entry(
    database_url: str,
    initial: list[Any],
    interleaved: list[list[Any]],
    order: str,
    limit: int,
) -> None:
    account = f"acc_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        # Connection ids are shared by examples; the account keeps each example apart.
        insert(connection, account, initial)
        present = [
            (row[0], row[1])
            for row in connection.execute(
                "SELECT connection_id, version FROM sms_audit_trail WHERE account_id = %s",
                (account,),
            )
        ]
        seen: list[tuple[Any, int]] = []
        cursor: str | None = None
        writes = iter(interleaved)
        while True:
            query = TrailQuery(account_id=account, order=order, limit=limit, cursor=cursor)  # type: ignore[arg-type]
            page, cursor = list_entries(connection.cursor(), query)
            seen += [(row["connection_id"], row["version"]) for row in page]
            if cursor is None:
                break
            insert(connection, account, next(writes, []))
    assert len(seen) == len(set(seen)), "an entry came twice"
    assert set(present) <= set(seen), "an entry present throughout was skipped"
