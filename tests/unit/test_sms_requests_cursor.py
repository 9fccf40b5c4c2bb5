"""The SMS requests' page cursor: whatever a client sends back, decoding either names a
(zone-aware time, request id) or raises the projection's own InvalidRequestsCursorError
(the route's 422), never another error (which would be a bug, not a bad cursor)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from uuid import UUID, uuid4

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.sms_requests import InvalidRequestsCursorError, decode_cursor


def encoded(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


def test_a_cursor_the_service_made_decodes_to_its_position() -> None:
    at, request_id = datetime(2026, 12, 1, 10, 0, tzinfo=UTC), uuid4()
    assert decode_cursor(encoded([at.isoformat(), str(request_id)])) == (at, request_id)


@pytest.mark.parametrize(
    "value",
    [
        "not base64!",
        encoded({"a": 1}),
        encoded([1, 2]),
        encoded(["2026-12-01T10:00:00", str(uuid4())]),  # no zone
        encoded(["2026-12-01T10:00:00+00:00", "not-a-uuid"]),
        encoded(["2026-12-01T10:00:00+00:00"]),
        encoded(None),
    ],
)
def test_a_malformed_cursor_is_the_projections_own_error(value: str) -> None:
    with pytest.raises(InvalidRequestsCursorError):
        decode_cursor(value)


@given(st.one_of(st.text(max_size=80), st.binary(max_size=80).map(lambda b: encoded(b.hex()))))
def test_any_text_decodes_or_raises_the_cursor_error(value: str) -> None:
    try:
        at, request_id = decode_cursor(value)
    except InvalidRequestsCursorError:
        return
    assert at.tzinfo is not None and isinstance(request_id, UUID)  # noqa: PT018
