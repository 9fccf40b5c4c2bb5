"""The small rules of ``domain/registration_levels.py`` beside the status rule (that one is
checked over every combination in test_registration.py): what a provider status means
here (and the one warning per unknown value), how a provider's coded reasons are made
storable and capped, and which provider references are refused."""

from __future__ import annotations

import uuid

import pytest
from structlog.testing import capture_logs

from domain.errors import InvalidTextError
from domain.registration_levels import (
    PROVIDER_STATUSES,
    REASON_CODE_MAX,
    REASON_FIELDS_MAX,
    REASONS_MAX,
    LevelState,
    Reason,
    clean_reasons,
    clean_ref,
    provider_status,
    reasons_of,
)


def test_the_provider_statuses_are_the_level_statuses_the_service_does_not_set_itself() -> None:
    expected = {"pending", "action_required", "approved", "rejected", "suspended", "expired"}
    assert expected == PROVIDER_STATUSES


@pytest.mark.parametrize("status", sorted(PROVIDER_STATUSES))
def test_a_known_provider_status_is_kept_and_not_logged(status: str) -> None:
    with capture_logs() as logs:
        assert provider_status(status, "RAW") == status
    assert logs == []


@pytest.mark.parametrize("status", ["submitted", "not_submitted", "APPROVED", None, ""])
def test_any_other_status_is_pending(status: str | None) -> None:
    assert provider_status(status, "x") == "pending"


def test_an_unknown_status_is_logged_once_per_status_and_raw_value_without_the_status() -> None:
    unique = uuid.uuid4().hex
    with capture_logs() as logs:
        provider_status(f"odd_{unique}", f"RAW_{unique}")
        provider_status(f"odd_{unique}", f"RAW_{unique}")
        provider_status(f"odd_{unique}", f"OTHER_{unique}")
        provider_status(f"other_{unique}", f"RAW_{unique}")
    assert logs == [
        {"event": "registration_status_unknown", "log_level": "warning", "raw_status": raw}
        for raw in (f"RAW_{unique}", f"OTHER_{unique}", f"RAW_{unique}")
    ]


def test_a_reason_as_a_dict_names_its_three_parts() -> None:
    assert Reason("30794", "Mismatch", ("brand.ein", "brand.city")).as_dict() == {
        "code": "30794",
        "description": "Mismatch",
        "fields": ["brand.ein", "brand.city"],
    }
    assert Reason("1", "d").as_dict()["fields"] == []


def test_stored_reasons_read_back_as_the_reasons_that_were_stored() -> None:
    reasons = (Reason("1", "one", ("a.b",)), Reason("2", "two"))
    assert reasons_of([r.as_dict() for r in reasons]) == reasons
    assert reasons_of(None) == ()
    assert reasons_of([{"code": 3, "description": "x"}]) == (Reason("3", "x", ()),)


def test_no_reasons_are_no_reasons() -> None:
    assert clean_reasons(None) == ()
    assert clean_reasons([]) == ()


def test_a_reason_keeps_its_code_description_and_fields() -> None:
    raw = [{"code": "30892", "description": "Opt-in\nmissing", "fields": ["campaign.optIn"]}]
    assert clean_reasons(raw) == (Reason("30892", "Opt-in\nmissing", ("campaign.optIn",)),)


def test_missing_parts_of_a_reason_are_empty() -> None:
    assert clean_reasons([{}]) == (Reason("", "", ()),)
    assert clean_reasons([{"code": None, "description": None, "fields": None}]) == (
        Reason("", "", ()),
    )
    assert clean_reasons([{"code": 30892, "fields": [7]}]) == (Reason("30892", "", ("7",)),)


def test_forbidden_characters_in_a_reason_become_replacement_characters() -> None:
    raw = [{"code": "3\x00", "description": "a\u202eb\x07", "fields": ["f\x00"]}]
    assert clean_reasons(raw) == (Reason("3\ufffd", "a\ufffdb\ufffd", ("f\ufffd",)),)


def test_a_reasons_code_and_fields_are_cut_at_their_maximum_and_the_description_is_not() -> None:
    long = "x" * (REASON_CODE_MAX + 10)
    (reason,) = clean_reasons([{"code": long, "description": "d" * 1000, "fields": [long]}])
    assert reason.code == "x" * REASON_CODE_MAX
    assert reason.fields == ("x" * REASON_CODE_MAX,)
    assert reason.description == "d" * 1000


def test_at_most_the_first_reasons_and_fields_are_kept() -> None:
    many = [{"code": str(i), "fields": [f"f{j}" for j in range(REASON_FIELDS_MAX + 5)]}
            for i in range(REASONS_MAX + 5)]  # fmt: skip
    reasons = clean_reasons(many)
    assert [r.code for r in reasons] == [str(i) for i in range(REASONS_MAX)]
    assert all(r.fields == tuple(f"f{j}" for j in range(REASON_FIELDS_MAX)) for r in reasons)


def test_a_reason_keeps_the_carrier_that_gave_it_cleaned_and_cut_at_16() -> None:
    raw = [
        {"code": "1", "carrier": "tmobile"},
        {"code": "2", "carrier": "t\x00" + "m" * 20},
        {"code": "3", "carrier": ""},
        {"code": "4"},
    ]
    assert [r.carrier for r in clean_reasons(raw)] == ["tmobile", "t\ufffd" + "m" * 14, None, None]


def test_a_provider_ref_is_kept_as_is_or_refused_never_cleaned() -> None:
    assert clean_ref(None) is None
    assert clean_ref("BN" + "a" * 254) == "BN" + "a" * 254
    with pytest.raises(InvalidTextError) as too_long:
        clean_ref("B" * 257)
    assert (too_long.value.field, too_long.value.rule) == ("providerRef", "too_long")
    with pytest.raises(InvalidTextError) as named:
        clean_ref("BN 1", "serviceRef")
    assert (named.value.field, named.value.rule) == ("serviceRef", "invalid_id")


def test_a_level_is_in_flight_while_submitted_pending_or_waiting_on_the_operator() -> None:
    flying = {"submitted", "pending", "action_required"}
    for status in ("not_submitted", *PROVIDER_STATUSES, "submitted"):
        assert LevelState(status).in_flight is (status in flying)  # type: ignore[arg-type]
