"""Keyset pagination of the channels table under concurrent inserts (Hypothesis)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.channels_table import COLUMNS, ROWS_TABLE, SORT_COLUMNS, ChannelsQuery, list_rows

names = st.sampled_from(["", "Alpha", "alpha", "Beta", "Zed", "Ωmega", "beta"])
steps = st.lists(st.one_of(st.tuples(st.just("insert"), names), st.just(("read", ""))), max_size=25)


def insert(connection: psycopg.Connection[Any], account: str, name: str) -> uuid.UUID:
    connection_id = uuid.uuid4()
    row = dict.fromkeys(COLUMNS) | {
        "connection_id": connection_id,
        "request_id": uuid.uuid4(),
        "account_id": account,
        "workspace_id": "ws",
        "workspace_sort": name,
        "phone_number": f"+1415{name}{uuid.uuid4().int % 10**7}",
        "country": "US",
        "mode": "new",
        "status": "connected",
        "active": False,
        "agent_id": "a",
        "kb_sort": name,
        "registration_status": "not_submitted",
        "compliance_complete": 0,
        "compliance_total": 8,
        "degraded_reasons": [],
        "is_degraded": False,
        "version": 2,
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    connection.execute(
        f"INSERT INTO {ROWS_TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders})",
        [row[c] for c in COLUMNS],
    )
    return connection_id


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    initial=st.lists(names, min_size=0, max_size=12),
    interleaved=steps,
    sort=st.sampled_from(list(SORT_COLUMNS)),
    order=st.sampled_from(["asc", "desc"]),
    limit=st.integers(min_value=1, max_value=4),
)
def test_a_scan_returns_every_row_present_throughout_exactly_once(
    isolated_database_url: str,
    initial: list[str],
    interleaved: list[tuple[str, str]],
    sort: Any,
    order: Any,
    limit: int,
) -> None:
    account = f"acc_{uuid.uuid4().hex}"
    with psycopg.connect(isolated_database_url, autocommit=True) as connection:
        present = {insert(connection, account, name) for name in initial}
        query = ChannelsQuery(account_id=account, sort=sort, order=order, limit=limit)
        seen: list[uuid.UUID] = []
        cursor: str | None = None
        actions = iter(interleaved)
        for _ in range(100):  # a scan of ≤ 50 rows needs far fewer pages; bounded if broken
            # Between page reads, other writers insert rows (anywhere in the sort order).
            for action, name in actions:
                if action == "read":
                    break
                insert(connection, account, name)
            rows, cursor = list_rows(
                connection.cursor(), query.__class__(**{**query.__dict__, "cursor": cursor})
            )
            seen += [row["connection_id"] for row in rows]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert present <= set(seen), "a row present for the whole scan was skipped"
