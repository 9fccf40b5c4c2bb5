"""The account trail's JSON page is serialised by orjson from plain values
(``trail_entry_wire``, ``json_page``), not through a model per entry: for random rows, its
bytes are exactly what FastAPI wrote for the ``TrailPage`` model before (the route declares
no response model, so its encoder and ``JSONResponse`` made the body)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from api.listing import json_page
from api.schemas.audit import TrailPage, trail_entry, trail_entry_wire

texts = st.text(max_size=12)
rows = st.fixed_dictionaries(
    {
        "connection_id": st.uuids(),
        "version": st.integers(1, 10_000),
        "recorded_at": st.datetimes(
            min_value=datetime(2000, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3))]),
        ),
        "actor": st.none() | texts,
        "type": texts,
        "changed_fields": st.lists(texts, max_size=3),
    }
)


@settings(max_examples=200)
@given(st.lists(rows, max_size=4), st.none() | texts)
def test_a_trail_page_on_the_wire_is_byte_for_byte_what_the_model_gave(
    page_rows: list[dict[str, Any]], next_cursor: str | None
) -> None:
    model = TrailPage(items=[trail_entry(r) for r in page_rows], next_cursor=next_cursor)
    before = JSONResponse(jsonable_encoder(model)).body
    wire = json_page(Response(), [trail_entry_wire(r) for r in page_rows], next_cursor)
    assert wire.body == before
