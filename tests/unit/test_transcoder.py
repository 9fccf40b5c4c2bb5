"""The event store's transcoder decodes every document exactly as the library's JSON
transcoder does (Hypothesis: generated documents with typed values at any depth, keys and
strings that mention ``_type_``, escapes, wide integers, non-finite floats), writes the
same bytes, and reads a typical fact without the library's parser."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st

from domain.application import SmsChannels
from providers.sandbox import SandboxProvider
from sms_channels.database import eventsourcing_env
from sms_channels.settings import Settings
from sms_channels.transcoder import OrjsonDecodingTranscoder
from tests.support.common import new_number


def transcoders() -> tuple[JSONTranscoder, OrjsonDecodingTranscoder]:
    library, fast = JSONTranscoder(), OrjsonDecodingTranscoder()
    app: Application[UUID] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.register_transcodings(library)
    app.register_transcodings(fast)
    return library, fast


LIBRARY, FAST = transcoders()

texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["_type_", "_data_", '"_type_"', "\\u005f", "a\nb", "\x00", "é✓"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    texts,
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(texts, inner, max_size=4),
    ),
    max_leaves=12,
)
facts = st.dictionaries(texts, values, max_size=6)


def same(left: Any, right: Any) -> bool:
    """Equal values of the same types, all the way down (``1 == 1.0 == True`` is not)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


def outcome(transcoder: JSONTranscoder, data: bytes) -> tuple[str, Any]:
    """The decoded value, or the class of the error (a generated dict may look like a typed
    value the library cannot read: then both must refuse it)."""
    try:
        return "value", transcoder.decode(data)
    except Exception as error:  # compared below
        return "error", type(error)


def agree(data: bytes) -> bool:
    (kind, fast), (library_kind, library) = outcome(FAST, data), outcome(LIBRARY, data)
    return kind == library_kind and same(fast, library)


@given(facts)
def test_a_fact_shaped_document_decodes_as_the_library_decodes_it(document: dict[str, Any]) -> None:
    data = LIBRARY.encode(document)
    assert FAST.encode(document) == data
    assert agree(data)


@given(values)
def test_any_document_decodes_as_the_library_decodes_it(document: Any) -> None:
    assert agree(LIBRARY.encode(document))


@pytest.mark.parametrize(
    "document",
    [
        {"x": float("nan"), "y": float("inf")},
        {"big": 2**80},
        {"_type_": "uuid_hex", "_data_": uuid4().hex},  # the whole document a typed value
        {"nested": {"at": datetime(2026, 1, 1, tzinfo=UTC)}},
        {"at": datetime(2026, 1, 1, tzinfo=UTC), "note": "mentions _type_"},
        {"amount": Decimal("1.10"), "id": uuid4(), "text": "line\u2028break"},
        [1, {"_type_": "decimal_str", "_data_": "2.5"}],
    ],
)
def test_documents_off_the_fast_road_decode_as_the_library_decodes_them(document: Any) -> None:
    data = LIBRARY.encode(document)
    assert same(FAST.decode(data), LIBRARY.decode(data))
    assert agree(data)


def test_an_unknown_typed_value_is_refused_as_the_library_refuses_it() -> None:
    data = b'{"a":1,"b":{"_type_":"no_such_type","_data_":"x"}}'
    for transcoder in (LIBRARY, FAST):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.decode(data)


def test_a_stored_fact_is_read_without_the_librarys_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    app = SmsChannels(SandboxProvider(), env=eventsourcing_env(Settings(persistence="memory")))
    assert isinstance(app.mapper.transcoder, OrjsonDecodingTranscoder)
    result = app.connect(new_number())
    app.update_compliance("acc", result.connection.id, {"brand": {"displayName": "Acme"}}, by="u")
    stored = app.recorder.select_events(result.connection.id)
    expected = [LIBRARY.decode(fact.state) for fact in stored]

    def refused(_self: JSONTranscoder, _data: bytes) -> Any:
        raise AssertionError("the library's parser was used")

    monkeypatch.setattr(JSONTranscoder, "decode", refused)
    decoded = [app.mapper.transcoder.decode(fact.state) for fact in stored]
    assert all(map(same, decoded, expected))
    assert any(isinstance(state.get("timestamp"), datetime) for state in decoded)
    assert app.get_connection("acc", result.connection.id).compliance == {
        "brand": {"displayName": "Acme"}
    }
