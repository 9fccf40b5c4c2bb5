"""Drafts are saved verbatim: what the operator entered is what is read back, in memory."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from domain.application import SmsChannels
from domain.compliance.shape import check_compliance
from domain.errors import ComplianceInvalidError
from tests.support.compliance_payloads import compliance_payloads, connect

ACC = "acc_roundtrip"


@given(compliance_payloads)
def test_any_structurally_valid_payload_passes_the_shape_check_unchanged(
    payload: dict[str, Any],
) -> None:
    assert json.dumps(check_compliance(payload)) == json.dumps(payload)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=compliance_payloads)
def test_any_structurally_valid_payload_round_trips_exactly(
    memory_app: SmsChannels, payload: dict[str, Any]
) -> None:
    connection_id = connect(memory_app, ACC)
    memory_app.update_compliance(ACC, connection_id, payload, by="u")
    stored = memory_app.get_connection(ACC, connection_id).compliance
    # Equal values, and the same JSON text: key order, nulls, spaces and case included.
    assert stored == payload
    assert json.dumps(stored) == json.dumps(payload)


def test_spaces_case_nulls_and_empty_slots_are_kept(memory_app: SmsChannels) -> None:
    draft = {
        "campaign": {"optOutKeywords": " stop,  Quit ", "messageSamples": [None, "", " Hi "]},
        "brand": None,
    }
    connection_id = connect(memory_app, ACC, draft)
    assert memory_app.get_connection(ACC, connection_id).compliance == draft


def test_changing_the_callers_object_after_saving_changes_nothing(
    memory_app: SmsChannels,
) -> None:
    draft: dict[str, Any] = {"brand": {"city": "SF"}}
    connection_id = connect(memory_app, ACC)
    result = memory_app.update_compliance(ACC, connection_id, draft, by="u")
    draft["brand"]["city"] = "LA"
    assert result.connection.compliance == {"brand": {"city": "SF"}}
    assert memory_app.get_connection(ACC, connection_id).compliance == {"brand": {"city": "SF"}}


@pytest.mark.parametrize("payload", [[], "text", None, 3])
def test_a_payload_that_is_not_an_object_is_refused(payload: Any) -> None:
    with pytest.raises(ComplianceInvalidError) as caught:
        check_compliance(payload)
    assert [(p.field, p.code) for p in caught.value.problems] == [("smsCompliance", "model_type")]


def test_an_unknown_key_that_looks_like_pasted_text_is_not_echoed() -> None:
    with pytest.raises(ComplianceInvalidError) as caught:
        check_compliance({"brand": {"Acme Dental, 1 Market St": "x"}})
    assert [p.field for p in caught.value.problems] == ["brand.<unknown>"]


def test_text_that_is_not_valid_unicode_is_refused() -> None:
    with pytest.raises(ComplianceInvalidError) as caught:
        check_compliance({"brand": {"city": "San \ud800 Francisco"}})
    assert [(p.field, p.code) for p in caught.value.problems] == [("brand.city", "string_unicode")]


def test_a_sample_at_its_cap_is_accepted_and_one_past_it_refused() -> None:
    check_compliance({"campaign": {"messageSamples": ["é" * 1024]}})
    with pytest.raises(ComplianceInvalidError):
        check_compliance({"campaign": {"messageSamples": ["é" * 1025]}})
