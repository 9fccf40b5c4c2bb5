"""Level-1 checks of the compliance payload: shape, types, caps, enums; no value echoed."""

from __future__ import annotations

from typing import Any

import pytest

from domain.compliance.shape import changed_fields, check_compliance, empty_compliance
from domain.errors import ComplianceInvalidError

CANARY = "CANARY-7f3a-secret"


def problems_of(payload: Any) -> list[tuple[str, str]]:
    with pytest.raises(ComplianceInvalidError) as caught:
        check_compliance(payload)
    return [(p.field, p.code) for p in caught.value.problems]


def test_a_draft_with_every_field_empty_is_accepted() -> None:
    assert check_compliance(empty_compliance()) == empty_compliance()


def test_an_unknown_field_is_refused_by_name() -> None:
    assert problems_of({"campaign": {"nope": 1}}) == [("campaign.nope", "extra_forbidden")]


def test_a_number_where_text_belongs_is_refused() -> None:
    assert problems_of({"brand": {"zipCode": 94107}}) == [("brand.zipCode", "string_type")]


def test_a_string_where_a_boolean_belongs_is_refused() -> None:
    assert problems_of({"campaign": {"embeddedLink": "true"}}) == [
        ("campaign.embeddedLink", "bool_type")
    ]


def test_a_string_over_its_hard_cap_is_refused() -> None:
    assert problems_of({"campaign": {"optInMessage": "x" * 321}}) == [
        ("campaign.optInMessage", "string_too_long")
    ]


def test_more_than_five_message_samples_are_refused() -> None:
    assert problems_of({"campaign": {"messageSamples": ["s"] * 6}}) == [
        ("campaign.messageSamples", "too_long")
    ]


def test_an_enum_value_off_its_list_is_refused() -> None:
    assert problems_of({"brand": {"vertical": "SPACE"}}) == [("brand.vertical", "literal_error")]


def test_problems_never_quote_the_submitted_value() -> None:
    with pytest.raises(ComplianceInvalidError) as caught:
        check_compliance({"brand": {"vertical": CANARY, "city": CANARY * 20, "zipCode": [CANARY]}})
    text = repr(caught.value.problems) + str(caught.value)
    assert {"brand.vertical", "brand.city", "brand.zipCode"} <= {
        p.field for p in caught.value.problems
    }
    assert CANARY not in text


def test_changed_fields_names_added_removed_and_changed_fields() -> None:
    before = {"brand": {"city": "SF", "state": "CA"}}
    after = {"brand": {"city": "LA", "zipCode": "94107"}}
    assert changed_fields(before, after) == ["brand.city", "brand.state", "brand.zipCode"]
