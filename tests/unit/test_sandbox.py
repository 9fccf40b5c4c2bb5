"""The sandbox provider in memory: inventory, holdings, concurrency, failures, hosting."""

from __future__ import annotations

import threading

import pytest

from domain.providers import (
    BadAreaCodeError,
    ComplianceRestrictedError,
    NumberUnavailableError,
    ProviderUnavailableError,
)
from providers.sandbox import SandboxError, SandboxFailures, SandboxProvider

REF = "5b0c1a8e-2f57-4f0f-9d55-8a1f2f1e0c11"


@pytest.fixture
def sandbox() -> SandboxProvider:
    return SandboxProvider()


def test_search_offers_the_fictional_555_01xx_lines_of_the_area_code_in_order(
    sandbox: SandboxProvider,
) -> None:
    offered = [n.phone_number for n in sandbox.search("US", "212", None, 100)]
    assert offered == [f"+1212555{line:04d}" for line in range(100, 200)]


def test_the_inventory_is_the_same_for_every_sandbox(sandbox: SandboxProvider) -> None:
    assert sandbox.search("US", "808", None, 20) == SandboxProvider().search("US", "808", None, 20)


def test_an_offer_carries_locality_region_and_capabilities(sandbox: SandboxProvider) -> None:
    [offer] = sandbox.search("US", "415", None, 1)
    assert (offer.country, offer.area_code, offer.locality, offer.region) == (
        "US",
        "415",
        "San Francisco",
        "CA",
    )
    assert offer.capabilities == {"sms": True, "mms": True, "voice": True}


def test_search_without_an_area_code_uses_the_countrys_default(sandbox: SandboxProvider) -> None:
    assert sandbox.search("US", None, None, 1)[0].area_code == "415"


def test_gb_offers_ofcoms_drama_numbers(sandbox: SandboxProvider) -> None:
    assert [n.phone_number for n in sandbox.search("GB", "161", None, 2)] == [
        "+441614960100",
        "+441614960101",
    ]


def test_contains_matches_digits_letters_and_wildcards(sandbox: SandboxProvider) -> None:
    assert [n.phone_number for n in sandbox.search("US", "415", "5550150", 5)] == ["+14155550150"]
    # Letters count as their keypad digit ("A" is 2) and "*" is any one digit.
    assert [n.phone_number for n in sandbox.search("US", "415", "01A*", 20)] == [
        f"+1415555012{digit}" for digit in range(10)
    ]


def test_search_returns_at_most_the_limit(sandbox: SandboxProvider) -> None:
    assert len(sandbox.search("US", "415", None, 7)) == 7


def test_a_country_without_stock_is_an_empty_list(sandbox: SandboxProvider) -> None:
    assert sandbox.search("FR", None, None, 20) == []


@pytest.mark.parametrize(("country", "area"), [("US", "123"), ("US", "416"), ("GB", "999")])
def test_an_area_code_the_country_does_not_have_is_refused(
    sandbox: SandboxProvider, country: str, area: str
) -> None:
    with pytest.raises(BadAreaCodeError):
        sandbox.search(country, area, None, 20)


def test_a_bought_number_is_no_longer_offered(sandbox: SandboxProvider) -> None:
    sandbox.purchase("US", "+14155550100", reference=REF)
    assert "+14155550100" not in [n.phone_number for n in sandbox.search("US", "415", None, 100)]
    assert len(sandbox.search("US", "415", None, 100)) == 99


def test_a_released_number_is_offered_again(sandbox: SandboxProvider) -> None:
    bought = sandbox.purchase("US", "+14155550100", reference=REF)
    sandbox.release(bought.ref)
    assert sandbox.search("US", "415", None, 1)[0].phone_number == "+14155550100"


def test_a_number_cannot_be_bought_twice(sandbox: SandboxProvider) -> None:
    sandbox.purchase("US", "+14155550100", reference=REF)
    with pytest.raises(NumberUnavailableError):
        sandbox.purchase("US", "+14155550100", reference="someone-else")


def test_a_number_of_another_country_cannot_be_bought(sandbox: SandboxProvider) -> None:
    with pytest.raises(NumberUnavailableError):
        sandbox.purchase("GB", "+14155550100", reference=REF)


def test_twenty_buyers_of_one_number_make_exactly_one_winner(sandbox: SandboxProvider) -> None:
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def buy(buyer: int) -> None:
        barrier.wait()
        try:
            sandbox.purchase("US", "+14155550123", reference=f"buyer-{buyer}")
            outcomes.append("bought")
        except NumberUnavailableError:
            outcomes.append("unavailable")

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["bought"] + ["unavailable"] * 19
    assert len(list(sandbox.held_numbers())) == 1


def test_holding_reports_the_ref_and_the_reference_kept_with_the_number(
    sandbox: SandboxProvider,
) -> None:
    bought = sandbox.purchase("US", "+14155550100", reference=REF)
    held = sandbox.holding("+14155550100")
    assert held is not None
    assert (held.ref, held.reference) == (bought.ref, REF)
    assert sandbox.holding("+14155550101") is None


def test_a_restricted_country_refuses_purchase_and_hosting_with_the_reason() -> None:
    sandbox = SandboxProvider(failures=SandboxFailures(restricted_countries={"GB": "no bundle"}))
    with pytest.raises(ComplianceRestrictedError, match="no bundle"):
        sandbox.purchase("GB", "+442079460100", reference=REF)
    with pytest.raises(ComplianceRestrictedError, match="no bundle"):
        sandbox.start_hosting("GB", "+442079460100", reference=REF)


def test_germany_is_restricted_by_default(sandbox: SandboxProvider) -> None:
    with pytest.raises(ComplianceRestrictedError, match="regulatory bundle"):
        sandbox.purchase("DE", "+4930901820", reference=REF)


def test_a_sold_out_area_code_finds_nothing_and_cannot_be_bought() -> None:
    sandbox = SandboxProvider(failures=SandboxFailures(sold_out={("US", "212")}))
    assert sandbox.search("US", "212", None, 20) == []
    with pytest.raises(NumberUnavailableError):
        sandbox.purchase("US", "+12125550100", reference=REF)
    assert sandbox.search("US", "415", None, 1) != []


def test_an_outage_makes_every_call_unavailable_with_its_retry_after(
    sandbox: SandboxProvider,
) -> None:
    sandbox.failures.outage_retry_after = 42
    calls = [
        sandbox.check_available,
        lambda: sandbox.search("US", None, None, 1),
        lambda: sandbox.purchase("US", "+14155550100", reference=REF),
        lambda: sandbox.start_hosting("US", "+14155550100", reference=REF),
        lambda: sandbox.release("PN1"),
        lambda: sandbox.holding("+14155550100"),
        lambda: sandbox.hosting_status("HR1"),
        lambda: list(sandbox.held_numbers()),
    ]
    for call in calls:
        with pytest.raises(ProviderUnavailableError) as raised:
            call()
        assert raised.value.retry_after_seconds == 42


def test_the_outage_ends_when_cleared(sandbox: SandboxProvider) -> None:
    sandbox.failures.outage_retry_after = 5
    sandbox.failures.outage_retry_after = None
    sandbox.check_available()
    assert sandbox.search("US", None, None, 1) != []


# --- hosting (bring your own number) ------------------------------------------------------


def test_start_hosting_opens_one_order_per_number(sandbox: SandboxProvider) -> None:
    first = sandbox.start_hosting("US", "+12125550100", reference=REF)
    again = sandbox.start_hosting("US", "+12125550100", reference=REF)
    assert again.ref == first.ref
    assert sandbox.hosting_status(first.ref).state == "pending"


def test_verified_hosting_completes_the_order_and_the_number_joins_the_account(
    sandbox: SandboxProvider,
) -> None:
    order = sandbox.start_hosting("US", "+12125550100", reference=REF)
    event = sandbox.verify_hosting("+12125550100")
    status = sandbox.hosting_status(order.ref)
    held = sandbox.holding("+12125550100")
    assert (status.state, held is not None) == ("completed", True)
    assert held is not None
    assert (status.number_ref, held.reference) == (held.ref, REF)
    assert event.data == {
        "phoneNumber": "+12125550100",
        "orderRef": order.ref,
        "numberRef": held.ref,
    }


def test_failed_hosting_keeps_the_reason(sandbox: SandboxProvider) -> None:
    order = sandbox.start_hosting("US", "+12125550100", reference=REF)
    sandbox.fail_hosting("+12125550100", "LOA refused")
    status = sandbox.hosting_status(order.ref)
    assert (status.state, status.reason) == ("failed", "LOA refused")
    assert not sandbox.holds("+12125550100")


def test_releasing_a_hosting_order_cancels_it(sandbox: SandboxProvider) -> None:
    order = sandbox.start_hosting("US", "+12125550100", reference=REF)
    sandbox.release(order.ref)
    assert sandbox.hosting_status(order.ref).state == "failed"
    assert sandbox.start_hosting("US", "+12125550100", reference=REF).ref != order.ref


def test_a_number_already_on_the_account_cannot_be_hosted(sandbox: SandboxProvider) -> None:
    sandbox.purchase("US", "+14155550100", reference=REF)
    with pytest.raises(NumberUnavailableError):
        sandbox.start_hosting("US", "+14155550100", reference=REF)


def test_take_back_drops_the_number_and_names_its_ref(sandbox: SandboxProvider) -> None:
    bought = sandbox.purchase("US", "+14155550100", reference=REF)
    event = sandbox.take_back("+14155550100", "expired")
    assert (event.type, event.data["numberRef"]) == ("number.expired", bought.ref)
    assert not sandbox.holds("+14155550100")


@pytest.mark.parametrize(
    "control",
    [
        lambda s: s.verify_hosting("+12125550100"),
        lambda s: s.fail_hosting("+12125550100", "x"),
        lambda s: s.take_back("+12125550100", "reclaimed"),
        lambda s: s.registration_changed("+12125550100", "bogus"),
    ],
    ids=["verify-without-order", "fail-without-order", "take-back-unheld", "bad-status"],
)
def test_a_control_with_nothing_to_act_on_is_refused(
    sandbox: SandboxProvider, control: object
) -> None:
    with pytest.raises(SandboxError):
        control(sandbox)  # type: ignore[operator]
