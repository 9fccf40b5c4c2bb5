"""The idempotent replay's request fingerprint (``api.idempotency.fingerprint``, issue 32
item 3): the whole request counts (method, path, query, If-Match, the body by its meaning,
the caller's scope); the order of a JSON object's keys and insignificant whitespace do not."""

from __future__ import annotations

import random
from typing import Any

import orjson
from hypothesis import assume, given
from hypothesis import strategies as st

from api.auth import Principal
from api.idempotency import fingerprint

CALLER = Principal("u1", "acc", frozenset({"channels.connect"}))
CONNECT_BODY = {"mode": "new", "phoneNumber": "+14155550123", "agentId": "a1"}

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
BODIES = st.dictionaries(st.text(max_size=6), VALUES, max_size=5)


def _scope(
    method: str = "POST",
    path: str = "/channels/sms/connect",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    return {"method": method, "path": path, "query_string": query, "headers": headers or []}


def _of(body: object, principal: Principal = CALLER, **scope: Any) -> str:
    return fingerprint(_scope(**scope), orjson.dumps(body), principal)


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        items = [(k, _shuffled(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@given(body=BODIES, seed=st.integers(0, 2**32))
def test_the_order_of_keys_does_not_change_the_fingerprint(body: dict[str, Any], seed: int) -> None:
    assert _of(_shuffled(body, random.Random(seed))) == _of(body)


@given(body=BODIES)
def test_whitespace_does_not_change_the_fingerprint(body: dict[str, Any]) -> None:
    indented = orjson.dumps(body, option=orjson.OPT_INDENT_2)
    assert fingerprint(_scope(), indented, CALLER) == _of(body)


@given(body=BODIES, other=BODIES)
def test_any_change_to_the_body_changes_the_fingerprint(
    body: dict[str, Any], other: dict[str, Any]
) -> None:
    # Equal as JSON values (orjson's canonical form; 1 and 1.0 are different texts) or not.
    same = orjson.dumps(body, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        other, option=orjson.OPT_SORT_KEYS
    )
    assert (_of(body) == _of(other)) == same


@given(key=st.text(max_size=6), value=VALUES)
def test_an_added_field_changes_the_fingerprint(key: str, value: Any) -> None:
    assume(key not in CONNECT_BODY)
    assert _of({**CONNECT_BODY, key: value}) != _of(CONNECT_BODY)


@given(field=st.sampled_from(sorted(CONNECT_BODY)), value=VALUES)
def test_a_changed_field_changes_the_fingerprint(field: str, value: Any) -> None:
    assume(value != CONNECT_BODY[field])
    assert _of({**CONNECT_BODY, field: value}) != _of(CONNECT_BODY)


def test_another_agent_is_another_request() -> None:
    assert _of({**CONNECT_BODY, "agentId": "a2"}) != _of(CONNECT_BODY)


def test_the_request_line_the_precondition_and_the_caller_count() -> None:
    first = _of(CONNECT_BODY)
    assert _of(CONNECT_BODY, method="PUT") != first
    assert _of(CONNECT_BODY, path="/channels/sms/connect/") != first
    assert _of(CONNECT_BODY, query=b"x=1") != first
    assert _of(CONNECT_BODY, headers=[(b"if-match", b'"3"')]) != first
    assert _of(CONNECT_BODY, Principal("u2", "acc", CALLER.permissions)) != first
    assert _of(CONNECT_BODY, Principal("u1", "acc", frozenset({"sms.manage"}))) != first
    assert _of(CONNECT_BODY, Principal("u1", "acc", CALLER.permissions, frozenset({"w"}))) != first


def test_a_body_that_is_not_json_counts_byte_for_byte() -> None:
    assert fingerprint(_scope(), b"a=1", CALLER) != fingerprint(_scope(), b"a=1 ", CALLER)
    assert fingerprint(_scope(), b"", CALLER) != fingerprint(_scope(), b"{}", CALLER)


def test_the_callers_workspaces_count_and_an_empty_list_is_not_unrestricted() -> None:
    scopes = [None, frozenset(), frozenset({"ws_1"}), frozenset({"ws_2"}),
              frozenset({"ws_1", "ws_2"})]  # fmt: skip
    prints = [_of(CONNECT_BODY, Principal("u1", "acc", CALLER.permissions, s)) for s in scopes]
    assert len(set(prints)) == len(scopes)


def test_the_callers_workspaces_count_as_a_set() -> None:
    one = Principal("u1", "acc", CALLER.permissions, frozenset(["ws_1", "ws_2"]))
    other = Principal("u1", "acc", CALLER.permissions, frozenset(["ws_2", "ws_1"]))
    assert _of(CONNECT_BODY, one) == _of(CONNECT_BODY, other)


def test_the_fingerprint_of_a_known_request_is_the_same_in_every_release() -> None:
    """Fingerprints are stored with the answers (PostgreSQL, 24 hours): a release that
    computed them otherwise would run again every retry that straddles its deploy."""
    restricted = Principal("u1", "acc", frozenset({"channels.connect"}), frozenset({"ws_1"}))
    preconditions = [(b"if-match", b'"3"'), (b"if-match", b'"4"')]
    json_body = fingerprint(
        _scope(headers=preconditions), b'{"b": 1, "a": [true, null]}', restricted
    )
    assert json_body == "8cd07eeffce345cf93dd6fc5b99bd1b1b6fa159446b931a39000103698872810"
    raw_body = fingerprint(_scope(method="PUT", path="/x", query=b"q=1"), b"a=1", CALLER)
    assert raw_body == "ab29fdb56837f49ed9e8ba8c84ed9ce5b30491d678aed7775d15defc057d00c0"
