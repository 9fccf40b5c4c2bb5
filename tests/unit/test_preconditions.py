"""If-Match per RFC 9110 §13.1.1 (issue 20, item 5): weak tags never match, lists, ``*``,
the bare legacy version; and the documented header pattern is exactly what is parsed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.conditional import none_match, representation_tag
from api.preconditions import IF_MATCH_PATTERN, expected_version, parse_if_match
from api.problems import ProblemError


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"3"', 3),
        ("3", 3),
        ('"3-0123456789abcdef"', 3),
        ('"3-0123456789abcdef-gzip"', 3),
        (' "3" ', 3),
        ('"1", "3"', frozenset({1, 3})),
        ('W/"1", "3"', 3),
        ("*", None),
        (None, None),
    ],
)
def test_the_versions_if_match_admits(header: str | None, expected: object) -> None:
    assert expected_version(header) == expected


@pytest.mark.parametrize("header", ['W/"3"', '"abc"', 'W/"3", W/"4"', '"3-XYZ"'])
def test_a_tag_that_can_match_nothing_admits_no_version(header: str) -> None:
    # Not a 412 here: the command answers 412 once the resource is found (RFC 9110 §13.2.1).
    assert expected_version(header) == frozenset()


@pytest.mark.parametrize("header", ["", "3,", '"3" "4"', "W/3", '"3', "'3'", '"a b"'])
def test_a_malformed_header_is_422(header: str) -> None:
    with pytest.raises(ProblemError) as refused:
        parse_if_match(header)
    assert refused.value.status == 422


def test_star_admits_any_existing_version_and_nothing_absent() -> None:
    star = parse_if_match("*")
    assert star is not None
    assert star.admits(7)
    assert not star.admits(None)


TAG = st.from_regex(r'(W/)?"[!#-~]{0,12}"', fullmatch=True)
OWS = st.sampled_from(["", " ", "\t", "  "])


@given(tags=st.lists(st.tuples(OWS, TAG, OWS), min_size=1, max_size=4))
def test_every_header_the_documented_pattern_allows_is_parsed(
    tags: list[tuple[str, str, str]],
) -> None:
    header = ",".join(a + tag + b for a, tag, b in tags)
    assert re.fullmatch(IF_MATCH_PATTERN, header)
    assert parse_if_match(header) is not None


def test_if_none_match_compares_weakly() -> None:
    tag = representation_tag('"3"', b'{"a": 1, "position": 9}')
    assert tag == representation_tag('"3"', b'{"position": 10, "a": 1}')
    assert none_match(f"W/{tag}", tag)
    assert none_match(f'"x", {tag}', tag)
    assert none_match("*", tag)
    assert not none_match('"3"', tag)


def test_the_gzip_variant_is_another_strong_tag_of_the_same_version() -> None:
    body = b'{"a": 1}'
    plain = representation_tag('"3"', body)
    coded = representation_tag('"3"', body, gzip=True)
    assert coded == plain[:-1] + '-gzip"'
    assert expected_version(coded) == expected_version(plain) == 3
    assert not none_match(plain, coded)
