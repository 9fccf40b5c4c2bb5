"""Per-carrier state and throughput (issue 31): the honest status rule, and each mapping
from a provider's answer checked against the provider's reference (Twilio's
``rate_limits``, ``brand_score`` and ``brand_feedback``; Telnyx's ``operationStatus``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from domain.carriers import (
    CARRIER_STATUSES,
    CARRIERS,
    CarrierState,
    Throughput,
    badge_entries,
    badges_of,
    carriers_of,
    combined,
    honest_status,
    not_permitted_on,
    throughput_of,
)
from domain.remedies import remedy_of
from providers.telnyx.statuses import telnyx_operation_status
from providers.twilio.statuses import brand_answer, campaign_answer, twilio_throughput

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "provider_openapi"  # vendored


def _twilio() -> dict[str, Any]:
    return dict(json.loads((REFERENCE / "twilio-messaging-v1-a2p.json").read_text()))


def _examples(path: str, method: str) -> list[dict[str, Any]]:
    operation = _twilio()["paths"][path][method]
    found = []
    for response in operation["responses"].values():
        for example in (
            response.get("content", {}).get("application/json", {}).get("examples", {}).values()
        ):
            found.append(example["value"])
    return found


def states(**said: str) -> tuple[CarrierState, ...]:
    return tuple(CarrierState(c, s) for c, s in said.items())  # type: ignore[arg-type]


def test_approved_only_when_every_reported_carrier_approved() -> None:
    assert honest_status("approved", states(att="approved", verizon="approved")) == "approved"
    assert honest_status("approved", states(att="approved", tmobile="pending")) == "pending"


def test_one_carriers_refusal_makes_the_level_rejected() -> None:
    said = states(att="approved", verizon="approved", tmobile="rejected")
    assert honest_status("approved", said) == "rejected"
    assert honest_status("pending", said) == "rejected"
    assert not_permitted_on(said) == ["tmobile"]


def test_no_carriers_reported_leaves_the_status_as_the_provider_said() -> None:
    for status in ("pending", "approved", "rejected", "suspended"):
        assert honest_status(status, None) == status


def test_the_providers_own_refusal_is_never_softened_by_carriers() -> None:
    assert honest_status("rejected", states(att="approved")) == "rejected"


@given(
    st.sampled_from(["pending", "approved"]),
    st.dictionaries(st.sampled_from(CARRIERS), st.sampled_from(CARRIER_STATUSES), min_size=1),
)
def test_honest_status_is_approved_iff_all_approved_and_rejected_if_any_refused(
    provider: str, said: dict[str, str]
) -> None:
    status = honest_status(provider, states(**said))
    if status == "approved":
        assert provider == "approved"
        assert set(said.values()) == {"approved"}
    if "rejected" in said.values():
        assert status == "rejected"


def test_unknown_carriers_and_statuses_read_as_other_and_pending() -> None:
    found = carriers_of([{"carrier": "sprint", "status": "MAYBE"}])
    assert found == (CarrierState("other", "pending"),)
    assert carriers_of(None) is None


def test_carriers_and_statuses_are_read_whatever_their_case() -> None:
    found = carriers_of([
        {"carrier": "ATT", "status": "APPROVED"},
        {"carrier": "TMobile", "status": "Rejected"},
    ])  # fmt: skip
    assert found == (CarrierState("att", "approved"), CarrierState("tmobile", "rejected"))


def test_a_carrier_or_status_left_out_reads_as_other_and_pending() -> None:
    assert carriers_of([{}]) == (CarrierState("other", "pending"),)
    assert carriers_of([{"carrier": None, "status": ""}]) == (CarrierState("other", "pending"),)
    assert carriers_of([{"carrier": "verizon"}]) == (CarrierState("verizon", "pending"),)
    assert carriers_of([]) == ()


def test_each_carrier_keeps_the_last_thing_it_said_in_the_carriers_order() -> None:
    found = carriers_of([
        {"carrier": "verizon", "status": "approved"},
        {"carrier": "att", "status": "pending"},
        {"carrier": "att", "status": "rejected"},
    ])  # fmt: skip
    assert found == (CarrierState("att", "rejected"), CarrierState("verizon", "approved"))


def test_a_carriers_reasons_keep_their_code_description_and_fields_as_text() -> None:
    (state,) = carriers_of([{"carrier": "att", "status": "rejected", "reasons": [
        {"code": 30892, "description": "Opt-in\nmissing", "fields": ["campaign.optIn", 7]},
        {"code": None, "description": None, "fields": None},
        {},
    ]}])  # fmt: skip
    assert state.reasons == (
        {"code": "30892", "description": "Opt-in\nmissing", "fields": ["campaign.optIn", "7"]},
        {"code": "", "description": "", "fields": []},
        {"code": "", "description": "", "fields": []},
    )


def test_a_carriers_reason_code_is_cleaned_and_cut_at_64_and_its_description_cleaned() -> None:
    (state,) = carriers_of([{"carrier": "att", "reasons": [
        {"code": "3\x00" + "x" * 70, "description": "a\u202eb" + "d" * 1000},
    ]}])  # fmt: skip
    (reason,) = state.reasons
    assert reason["code"] == "3\ufffd" + "x" * 62
    assert reason["description"] == "a\ufffdb" + "d" * 1000


def test_a_carrier_keeps_at_most_twenty_reasons_of_twenty_fields() -> None:
    many = [{"code": str(i), "fields": [f"f{j}" for j in range(25)]} for i in range(25)]
    (state,) = carriers_of([{"carrier": "att", "reasons": many}])
    assert [r["code"] for r in state.reasons] == [str(i) for i in range(20)]
    assert all(r["fields"] == [f"f{j}" for j in range(20)] for r in state.reasons)


def test_a_campaign_and_its_number_combine_to_the_worst_per_carrier() -> None:
    campaign = states(att="approved", tmobile="approved")
    number = states(tmobile="suspended")
    found = combined(campaign, number)
    assert found is not None
    assert {c.carrier: c.status for c in found} == {"att": "approved", "tmobile": "suspended"}
    assert combined(None, None) is None


def test_the_channels_table_badge_round_trips() -> None:
    entries = badge_entries("campaign", states(att="approved", tmobile="rejected"))
    assert entries == ["campaign:att:approved", "campaign:tmobile:rejected"]
    badge = badges_of(entries)
    assert badge is not None
    assert not_permitted_on(badge) == ["tmobile"]
    assert badges_of([]) is None


# --- Telnyx: operationStatus -----------------------------------------------------------


def test_telnyx_operation_status_maps_the_references_example() -> None:
    document = yaml.safe_load((REFERENCE / "telnyx-v2-numbers-10dlc.yml").read_text())
    operation = document["paths"]["/10dlc/campaign/{campaignId}/operationStatus"]["get"]
    example = operation["responses"]["200"]["content"]["application/json"]["schema"]["example"]
    found = telnyx_operation_status(example)
    assert {c.carrier: c.status for c in found} == {"att": "approved", "tmobile": "pending"}


def test_telnyx_unknown_networks_are_other_never_dropped() -> None:
    found = telnyx_operation_status({"10037": "REJECTED", "99999": "APPROVED"})
    assert {c.carrier: c.status for c in found} == {"verizon": "rejected", "other": "approved"}


# --- Twilio: rate_limits, brand_score, brand_feedback ----------------------------------


def test_twilio_rate_limits_of_the_references_campaign_become_throughput() -> None:
    examples = _examples("/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}", "post")
    campaign = examples[0]
    assert campaign["rate_limits"] == {"att": {"mps": 600, "msg_class": "A"},
                                       "tmobile": {"brand_tier": "TOP"}}  # fmt: skip
    answer = campaign_answer("MG" + "a" * 32, campaign)
    assert answer.throughput == Throughput(
        brand_score=None,
        tmobile_tier="TOP",
        tmobile_daily_cap=None,  # TOP is uncapped
        att_message_class="A",
        att_tpm=600 * 60,
    )


def test_twilio_brand_score_and_feedback_of_the_references_brand() -> None:
    examples = [
        e
        for e in _examples("/v1/a2p/BrandRegistrations/{Sid}", "get")
        + _examples("/v1/a2p/BrandRegistrations", "post")
        if e.get("brand_score") is not None
    ]
    assert examples, "the reference has a brand with a score"
    brand = examples[0]
    answer = brand_answer(brand)
    assert answer.throughput is not None
    assert answer.throughput.brand_score == brand["brand_score"] == 42
    feedback = [r for r in answer.reasons if r["code"] in brand["brand_feedback"]]
    assert [r["code"] for r in feedback] == brand["brand_feedback"]
    for reason in feedback:
        remedy = remedy_of(reason["code"])
        assert remedy is not None
        assert list(reason["fields"]) == list(remedy.fields)


def test_every_brand_feedback_code_of_the_reference_maps_to_fields() -> None:
    codes = _twilio()["components"]["schemas"]["brand_registrations_enum_brand_feedback"]["enum"]
    for code in codes:
        remedy = remedy_of(code)
        assert remedy is not None, code
        assert all(f.startswith("brand.") for f in remedy.fields)


def test_twilio_without_scores_or_limits_reports_no_throughput() -> None:
    assert twilio_throughput(brand_score=None, rate_limits=None) is None
    assert twilio_throughput(rate_limits={"att": {}, "tmobile": {}}) is None


def test_a_tier_without_a_cap_takes_t_mobiles_published_cap() -> None:
    found = throughput_of({"tmobileTier": "low"})
    assert found is not None
    assert (found.tmobile_tier, found.tmobile_daily_cap) == ("LOW", 2000)


def test_throughput_values_that_are_not_counts_read_as_unknown() -> None:
    found = throughput_of({"brandScore": -3, "attTpm": "fast", "tmobileDailyCap": True})
    assert found == Throughput()


def test_a_throughput_is_read_from_snake_case_as_stored() -> None:
    stored = {"brand_score": 42, "tmobile_tier": "mid", "tmobile_daily_cap": 123,
              "att_message_class": "a", "att_tpm": 4500}  # fmt: skip
    assert throughput_of(stored) == Throughput(42, "MID", 123, "A", 4500)


def test_a_throughput_is_read_from_camel_case_as_the_sandbox_sends_it() -> None:
    sent = {"brandScore": 42, "tmobileTier": "mid", "tmobileDailyCap": 123,
            "attMessageClass": "a", "attTpm": 4500}  # fmt: skip
    assert throughput_of(sent) == Throughput(42, "MID", 123, "A", 4500)


def test_a_throughputs_snake_case_value_wins_over_its_camel_case_one() -> None:
    both = {"brand_score": 1, "brandScore": 2, "tmobile_tier": "low", "tmobileTier": "top",
            "tmobile_daily_cap": 3, "tmobileDailyCap": 4, "att_message_class": "b",
            "attMessageClass": "c", "att_tpm": 5, "attTpm": 6}  # fmt: skip
    assert throughput_of(both) == Throughput(1, "LOW", 3, "B", 5)


def test_zero_is_a_count_and_a_fraction_is_cut_to_a_whole_number() -> None:
    assert throughput_of({"brandScore": 0, "tmobileDailyCap": 0, "attTpm": 0}) == Throughput(
        brand_score=0, tmobile_daily_cap=0, att_tpm=0
    )
    assert throughput_of({"brandScore": 41.9}) == Throughput(brand_score=41)
    assert throughput_of({"attTpm": True}) == Throughput()


def test_a_throughput_word_is_trimmed_upper_cased_and_cut_at_32() -> None:
    found = throughput_of({"tmobileTier": " x" + "y" * 40 + " ", "attMessageClass": " t "})
    assert found == Throughput(tmobile_tier="X" + "Y" * 31, att_message_class="T")
    assert throughput_of({"tmobileTier": "   ", "attMessageClass": 7}) == Throughput()


def test_a_reported_daily_cap_wins_over_the_tiers_published_one() -> None:
    assert throughput_of({"tmobileTier": "low", "tmobileDailyCap": 5}) == Throughput(
        tmobile_tier="LOW", tmobile_daily_cap=5
    )
    assert throughput_of({"tmobileTier": "platinum"}) == Throughput(tmobile_tier="PLATINUM")
    assert throughput_of({}) == Throughput()
    assert throughput_of(None) is None


def test_combined_keeps_the_first_levels_decision_when_a_later_one_is_as_bad() -> None:
    campaign = (CarrierState("tmobile", "rejected", ({"code": "30892"},)),)
    number = (CarrierState("tmobile", "rejected", ({"code": "30000"},)),)
    assert combined(campaign, number) == campaign
