"""The plan for the next submission of a refused registration
(``domain.remedies.resubmission_plan``, issue 31), case by case: a refused brand is
registered again (with the fields its reasons name), nothing is planned while the campaign
is not refused, a campaign refused only for remedies the provider takes in place (or an
appeal) is updated in place when its reference exists, any other refused campaign is a new
one; the attempts so far are carried."""

from __future__ import annotations

from typing import Any

import pytest

from domain.remedies import APPEAL_CODE, ResubmissionPlan, changes_in_place, resubmission_plan

IN_PLACE = "30886"  # campaign description, taken in place
NOT_IN_PLACE = "30540"  # opt-in message: a new campaign


def plan(**given: Any) -> ResubmissionPlan:
    facts: dict[str, Any] = {"brand_status": "approved", "brand_codes": (),
                             "campaign_status": "rejected", "campaign_ref": "CM1",
                             "campaign_codes": [IN_PLACE], "attempts": 3}  # fmt: skip
    return resubmission_plan(**{**facts, **given})


@pytest.mark.parametrize("status", ["rejected", "action_required", "expired"])
def test_a_refused_brand_is_registered_again_with_the_fields_its_reasons_name(status: str) -> None:
    assert plan(brand_status=status, brand_codes=["30881", "30729", "30881"]) == ResubmissionPlan(
        "new_brand", 3, ("brand.contactEmail", "brand.country")
    )


@pytest.mark.parametrize("status", ["approved", "pending", "submitted", "suspended"])
def test_nothing_is_planned_while_the_campaign_is_not_refused(status: str) -> None:
    assert plan(campaign_status=status) == ResubmissionPlan("none", 3, ())


def test_a_campaign_refused_for_in_place_remedies_is_updated_in_place() -> None:
    assert plan(campaign_codes=[IN_PLACE, "30893"]) == ResubmissionPlan(
        "in_place", 3, ("campaign.campaignDescription", "campaign.messageSamples")
    )
    assert plan(campaign_codes=[APPEAL_CODE, NOT_IN_PLACE]).mode == "in_place"


@pytest.mark.parametrize(
    "given",
    [
        {"campaign_codes": [IN_PLACE, NOT_IN_PLACE]},  # one remedy the update cannot take
        {"campaign_codes": ["no-such-code"]},  # an unknown reason
        {"campaign_codes": []},  # no reason given
        {"campaign_ref": None},  # never registered at the provider
        {"campaign_status": "action_required"},
        {"campaign_status": "expired"},
    ],
)
def test_any_other_refused_campaign_is_a_new_one(given: dict[str, Any]) -> None:
    assert plan(**given).mode == "new_campaign"
    assert plan(**given).attempts == 3


def test_a_new_campaign_names_the_fields_of_its_reasons() -> None:
    assert plan(campaign_codes=[NOT_IN_PLACE]).fields == ("campaign.optInMessage",)


@pytest.mark.parametrize(
    ("changed", "in_place"),
    [
        (["campaign.campaignDescription"], True),
        (["campaign.messageSamples.0", "campaign.messageSamples.1"], True),
        (["campaign.campaignDescription", "campaign.optInMessage"], False),
        (["brand.companyName"], False),
        ([], False),
    ],
)
def test_an_edit_is_taken_in_place_only_when_every_changed_field_is(
    changed: list[str], in_place: bool
) -> None:
    assert changes_in_place(changed) is in_place
