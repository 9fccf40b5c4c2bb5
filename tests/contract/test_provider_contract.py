"""One contract every provider adapter passes: the same scenarios driven through the port
(``domain.providers.NumberProvider`` and the adapter's ``WebhookVerifier``) over the
sandbox, Twilio (the fake Twilio) and Telnyx (the fake Telnyx), expecting the same domain
facts. A new provider is done when it has a World (``tests.contract.providers``) and
passes this suite.

Where providers differ by nature the contract says what is common: a campaign may wait for
an approved brand (RegistrationNotReadyError) or not; a create whose answer is lost may
surface as ProviderUnavailableError (the caller asks again) or be retried inside the
adapter — either way exactly one object is made and asked again, the same one answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.providers import (
    HostingCompleted,
    HostingFailed,
    NumberProvider,
    NumberUnavailableError,
    ProviderUnavailableError,
    RegistrationAnswer,
    RegistrationNotReadyError,
)
from domain.registration_levels import Level
from tests.contract.providers import HOSTED, NUMBER, OTHER, WORLDS, World
from tests.support.compliance_payloads import GOOD

BRAND_REF = "4c0e7a52-0d0b-4a38-9d8e-2d7f1f0b5e11.1"
CAMPAIGN_REF = "9a1d3f7e-6b7a-4a1c-8e5f-0c9b2e4d6a22.1"
NUMBER_REF = "1f6b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d.1"
CONNECTION = "5d1c0a8e-2f4b-4c6d-9e8f-0a1b2c3d4e5f"


@pytest.fixture(params=sorted(WORLDS))
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with WORLDS[request.param]() as made:
        yield made
        if made.provider is not None:
            made.provider.close()


def bought(world: World, number: str = NUMBER) -> str:
    world.offer(number)
    return world.adapter.purchase("US", number, reference=CONNECTION).ref


def status_of(world: World, level: Level, ref: str) -> str | None:
    return world.adapter.registration_status(level, ref).status


def approved_brand(world: World, adapter: NumberProvider | None = None) -> RegistrationAnswer:
    brand = (adapter or world.adapter).create_brand(GOOD["brand"], reference=BRAND_REF)
    world.decide("brand", brand.ref, "approved", None)
    return brand


def campaign_of(world: World, brand: RegistrationAnswer) -> RegistrationAnswer:
    return world.adapter.create_campaign(
        GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF
    )


def assigned(world: World, number_ref: str, campaign: RegistrationAnswer) -> RegistrationAnswer:
    return world.adapter.register_number(
        NUMBER,
        number_ref,
        campaign_ref=campaign.ref,
        service_ref=campaign.service_ref,
        reference=NUMBER_REF,
    )


# --- numbers ----------------------------------------------------------------------------------


def test_search_offers_sms_numbers_of_the_area_code(world: World) -> None:
    world.offer(NUMBER)
    offers = world.adapter.search("US", "415", None, 200)
    found = [o for o in offers if o.phone_number == NUMBER]
    assert len(found) == 1
    assert (found[0].country, found[0].area_code, found[0].capabilities["sms"]) == (
        "US",
        "415",
        True,
    )
    assert all(o.capabilities["sms"] for o in offers)


def test_buying_holds_the_number_under_the_reference_and_only_once(world: World) -> None:
    ref = bought(world)
    held = world.adapter.holding(NUMBER)
    assert held is not None
    assert (held.phone_number, held.ref, held.reference) == (NUMBER, ref, CONNECTION)
    assert NUMBER in {n.phone_number for n in world.adapter.held_numbers()}
    with pytest.raises(NumberUnavailableError):
        world.adapter.purchase("US", NUMBER, reference="someone-else")
    assert world.adapter.holding(OTHER) is None


def test_a_released_number_is_no_longer_held_and_releasing_again_succeeds(world: World) -> None:
    ref = bought(world)
    world.adapter.release(ref)
    assert world.adapter.holding(NUMBER) is None
    world.adapter.release(ref)


def test_a_number_the_provider_takes_back_is_no_longer_held(world: World) -> None:
    ref = bought(world)
    world.take_back(NUMBER)
    assert world.adapter.holding(NUMBER) is None
    assert NUMBER not in {n.phone_number for n in world.adapter.held_numbers()}
    world.adapter.release(ref)  # giving back what is already gone succeeds


def test_bring_your_own_number_to_completion(world: World) -> None:
    order = world.adapter.start_hosting("US", HOSTED, reference=CONNECTION)
    assert order.provider == world.adapter.name
    again = world.adapter.start_hosting("US", HOSTED, reference=CONNECTION)
    assert again.ref == order.ref  # one open order per number
    pending = world.adapter.hosting_status(order.ref)
    assert pending.state == "pending"
    request = world.complete_hosting(HOSTED, order.ref)
    completed = world.adapter.hosting_status(order.ref)
    assert completed.state == "completed"
    assert completed.number_ref
    event = world.verifier.verify(request)
    assert event.fact == HostingCompleted(HOSTED, order.ref, completed.number_ref)
    held = world.adapter.holding(HOSTED)
    assert held is not None
    assert held.ref == completed.number_ref


def test_bring_your_own_number_to_failure_says_why(world: World) -> None:
    order = world.adapter.start_hosting("US", HOSTED, reference=CONNECTION)
    request = world.fail_hosting(HOSTED, order.ref, "The owner could not be verified.")
    failed = world.adapter.hosting_status(order.ref)
    assert failed.state == "failed"
    assert failed.reason
    fact = world.verifier.verify(request).fact
    assert isinstance(fact, HostingFailed)
    assert (fact.phone_number, fact.order_ref) == (HOSTED, order.ref)
    assert fact.reason
    assert world.adapter.holding(HOSTED) is None


# --- registration -----------------------------------------------------------------------------


def test_brand_campaign_and_number_register_to_approval(world: World) -> None:
    number_ref = bought(world)
    brand = world.adapter.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert brand.status == "pending"
    try:
        early = campaign_of(world, brand)
    except RegistrationNotReadyError:
        early = None  # this provider registers campaigns of approved brands only
    world.decide("brand", brand.ref, "approved", None)
    assert status_of(world, "brand", brand.ref) == "approved"
    campaign = campaign_of(world, brand)
    assert early is None or early.ref == campaign.ref
    assert campaign.status == "pending"
    number = assigned(world, number_ref, campaign)
    assert number.status == "pending"
    world.decide("campaign", campaign.ref, "approved", None)
    world.decide("number", number.ref, "approved", None)
    assert status_of(world, "campaign", campaign.ref) == "approved"
    assert status_of(world, "number", number.ref) == "approved"
    assert [world.count(level) for level in ("brand", "campaign", "number")] == [1, 1, 1]


def test_a_refused_campaign_is_rejected_with_the_providers_code(world: World) -> None:
    brand = approved_brand(world)
    campaign = campaign_of(world, brand)
    world.decide("campaign", campaign.ref, "rejected", "30892")
    answer = world.adapter.registration_status("campaign", campaign.ref)
    assert answer.status == "rejected"
    assert "30892" in [reason["code"] for reason in answer.reasons]
    assert answer.raw_status


@pytest.mark.parametrize("level", ["brand", "campaign", "number"])
def test_a_create_whose_answer_was_lost_makes_one_object(world: World, level: Level) -> None:
    number_ref = bought(world)
    brand = approved_brand(world) if level != "brand" else None
    campaign = campaign_of(world, brand) if brand else None

    def create() -> RegistrationAnswer:
        if level == "brand":
            return world.adapter.create_brand(GOOD["brand"], reference=BRAND_REF)
        assert brand is not None
        if level == "campaign":
            return campaign_of(world, brand)
        assert campaign is not None
        return assigned(world, number_ref, campaign)

    world.lose_next_create(level)
    try:
        first: RegistrationAnswer | None = create()
    except ProviderUnavailableError:
        first = None  # the caller asks again, as the registration worker does
    second = create()
    assert first is None or first.ref == second.ref
    assert world.count(level) == 1
    assert create().ref == second.ref


def test_a_crash_between_steps_resumes_with_a_fresh_adapter_and_makes_nothing_twice(
    world: World,
) -> None:
    number_ref = bought(world)
    crashed = world.make()
    made = crashed.create_brand(GOOD["brand"], reference=BRAND_REF)
    crashed.close()  # the process died before the brand's reference was recorded
    brand = approved_brand(world)
    assert brand.ref == made.ref
    crashed = world.make()
    lost = crashed.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    crashed.close()
    campaign = campaign_of(world, brand)
    assert campaign.ref == lost.ref
    number = assigned(world, number_ref, campaign)
    assert assigned(world, number_ref, campaign).ref == number.ref
    assert [world.count(level) for level in ("brand", "campaign", "number")] == [1, 1, 1]


def test_a_refused_campaign_resubmitted_in_place_is_the_same_campaign_reviewed_again(
    world: World,
) -> None:
    brand = approved_brand(world)
    campaign = campaign_of(world, brand)
    world.decide("campaign", campaign.ref, "rejected", "30893")
    fixed = {
        **GOOD["campaign"],
        "messageSamples": ["Acme Dental: your visit is at 9am. Reply STOP to opt out.", "Hi"],
    }
    updated = world.adapter.update_campaign(
        fixed, ref=campaign.ref, service_ref=campaign.service_ref, reference="c.2"
    )
    assert updated.ref == campaign.ref
    assert updated.status == "pending"
    assert status_of(world, "campaign", campaign.ref) == "pending"
    assert world.count("campaign") == 1
