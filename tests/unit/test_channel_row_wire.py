"""The channels table page is serialised by orjson from plain values (``channel_row_wire``,
``json_page``), not through a model per row: for random rows, its bytes are exactly what
pydantic writes for the ``ChannelRow`` / ``ChannelsPage`` models (same fields, order,
types and datetime form), so the response model the OpenAPI document declares is what
clients get. (That the row agrees with the single connection: ``test_one_truth``.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import Response
from hypothesis import given, settings
from hypothesis import strategies as st

from api.listing import json_page
from api.schemas.read_models import ChannelRow, ChannelsPage, channel_row_wire

texts = st.text(max_size=12)
maybe_texts = st.none() | texts
zones = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(minutes=330))])
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones
)
rows = st.fixed_dictionaries(
    {
        "connection_id": st.uuids(),
        "phone_number": texts,
        "country": texts,
        "mode": st.sampled_from(["new", "byon"]),
        "status": texts,
        "active": st.booleans(),
        "workspace_id": texts,
        "workspace_name": maybe_texts,
        "agent_id": maybe_texts,
        "agent_name": maybe_texts,
        "kb_id": maybe_texts,
        "kb_name": maybe_texts,
        "is_degraded": st.booleans(),
        "degraded_reasons": st.lists(texts, max_size=3),
        "degraded_since": st.none() | moments,
        "registration_status": texts,
        "compliance_complete": st.integers(0, 20),
        "compliance_total": st.integers(0, 20),
        "ingestion_enabled": st.none() | st.booleans(),
        "ingestion_reason": maybe_texts,
        "outbound_permitted": st.none() | st.booleans(),
        "outbound_reason": maybe_texts,
        "reclaim_reason": st.sampled_from([None, "reclaimed", "expired", "released"]),
        "replaced_by": st.none() | st.uuids(),
        "actions": st.lists(texts, max_size=4),
        "version": st.integers(1, 10_000),
        "updated_at": moments,
    },
    optional={"attention": st.none() | st.booleans()},
)


@settings(max_examples=300)
@given(rows)
def test_a_row_on_the_wire_is_byte_for_byte_the_models_json(row: dict[str, Any]) -> None:
    page = json_page(Response(), [channel_row_wire(row)], None)
    model = ChannelsPage(items=[ChannelRow.model_validate(channel_row_wire(row))], next_cursor=None)
    assert page.body == model.model_dump_json(by_alias=True).encode()


@given(st.lists(rows, max_size=4), st.none() | texts)
def test_a_page_on_the_wire_is_byte_for_byte_the_models_json(
    page_rows: list[dict[str, Any]], next_cursor: str | None
) -> None:
    items = [channel_row_wire(row) for row in page_rows]
    model = ChannelsPage(
        items=[ChannelRow.model_validate(item) for item in items], next_cursor=next_cursor
    )
    assert (
        json_page(Response(), items, next_cursor).body
        == model.model_dump_json(by_alias=True).encode()
    )


def test_the_page_keeps_the_headers_its_dependencies_set() -> None:
    dependencies = Response()
    del dependencies.headers["content-length"]
    dependencies.headers["X-Projection-Lag"] = "3"
    page = json_page(dependencies, [], None)
    assert page.headers["X-Projection-Lag"] == "3"
    assert page.headers["content-type"] == "application/json"
    assert page.headers["content-length"] == str(len(page.body))
