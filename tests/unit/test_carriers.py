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
