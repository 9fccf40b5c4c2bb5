"""The Telnyx adapter against the fake Telnyx and Telnyx's reference
(tests/data/provider_openapi/telnyx-v2-numbers-10dlc.yml): every status enum of the reference is
mapped, what the number, brand and campaign calls send, the sole proprietor's OTP, the
appeal as the in-place remedy, ``operationStatus`` as reasons, the retry rule, the key kept
out of reprs and logs, and every request a documented operation (but one, named)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import yaml

from domain.carriers import CarrierState
from domain.providers import (
    BadAreaCodeError,
    ComplianceRestrictedError,
    NumberUnavailableError,
    ProviderRejectedError,
    ProviderUnavailableError,
    RegistrationNotReadyError,
)
from domain.remedies import APPEAL_CODE
from providers.telnyx import TelnyxConfig, TelnyxProvider
from providers.telnyx.statuses import (
    ASSIGNMENT_STATUSES,
    BRAND_STATUSES,
    CAMPAIGN_STATUSES,
    HOSTED_NUMBER_FAILURES,
    HOSTING_COMPLETED,
    HOSTING_FAILED,
    HOSTING_PENDING,
    VERIFIED_IDENTITIES,
    brand_answer,
    campaign_answer,
    hosting_status,
)
from tests.support.compliance_payloads import GOOD, good_with
from tests.support.fake_telnyx import (
    API_KEY,
    MESSAGING_PROFILE_ID,
    OTP_PIN,
    FakeTelnyx,
    Scripted,
    fake_telnyx,
    telnyx_error,
)

REFERENCE = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "provider_openapi"
    / "telnyx-v2-numbers-10dlc.yml"
)
NUMBER = "+13125550142"
HOSTED = "+13125550177"
BRAND_REF = "4c0e7a52-0d0b-4a38-9d8e-2d7f1f0b5e11.1"
CAMPAIGN_ID = "9a1d3f7e-6b7a-4a1c-8e5f-0c9b2e4d6a22"
# The one request outside the reference subset: the account's numbers (Telnyx's list).
OUTSIDE_THE_REFERENCE = re.compile(r"/v2/phone_numbers")


@cache
def reference() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    return document


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = reference()["components"]["schemas"][name]
    return found


def enum_of(name: str, field: str | None = None) -> list[str]:
    found = schema(name)
    if field is not None:
        found = found["properties"][field]
    return list(found["enum"])


@pytest.fixture
def fake() -> Iterator[FakeTelnyx]:
    with fake_telnyx() as server:
        server.offer(NUMBER)
        yield server


def provider(fake: FakeTelnyx, **overrides: Any) -> TelnyxProvider:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "messaging_profile_id": MESSAGING_PROFILE_ID,
        "base_url": fake.base_url,
        "timeout_seconds": 0.5,
        "max_attempts": 2,
        "backoff_seconds": 0.0,
        "mock_brands": True,
        "order_wait_seconds": 1.0,
        "order_poll_seconds": 0.0,
        "webhook_url": "https://sms.example.com/providers/telnyx/webhooks",
        **overrides,
    }
    return TelnyxProvider(TelnyxConfig(**values), sleep=lambda _: None, jitter=lambda: 1.0)


@pytest.fixture
def telnyx(fake: FakeTelnyx) -> Iterator[TelnyxProvider]:
    adapter = provider(fake)
    yield adapter
    adapter.close()


def sole_brand() -> dict[str, Any]:
    return {**GOOD["brand"], "entity": "SOLE_PROPRIETOR", "brandType": "SOLE_PROPRIETOR"}


# --- every status of the reference --------------------------------------------------------


def test_all_twelve_campaign_statuses_are_mapped_and_nothing_else() -> None:
    statuses = enum_of("TelnyxCampaign_CSP", "campaignStatus")
    assert len(statuses) == 12
    assert sorted(CAMPAIGN_STATUSES) == sorted(statuses)


def test_every_brand_assignment_and_hosting_status_is_mapped() -> None:
    assert sorted(BRAND_STATUSES) == sorted(enum_of("TelnyxBrand", "status"))
    assert sorted(ASSIGNMENT_STATUSES) == sorted(enum_of("PhoneNumberCampaign", "assignmentStatus"))
    assert set(enum_of("BrandIdentityStatus")) > VERIFIED_IDENTITIES
    hosting = {*HOSTING_PENDING, *HOSTING_FAILED, HOSTING_COMPLETED}
    assert sorted(hosting) == sorted(enum_of("MessagingHostedNumberOrder", "status"))
    failed = {s for s in enum_of("HostedNumber", "status") if s.startswith("failed")}
    assert failed <= set(HOSTED_NUMBER_FAILURES)


@pytest.mark.parametrize("status", sorted({*HOSTING_PENDING, *HOSTING_FAILED}))
def test_a_pending_order_says_what_it_waits_for_and_a_failed_one_why(status: str) -> None:
    found = hosting_status({"id": "o-1", "status": status, "phone_numbers": []})
    assert found.state == ("failed" if status in HOSTING_FAILED else "pending")
    assert found.reason
    assert "unknown" not in found.reason


def test_a_hosted_numbers_own_failure_is_the_reason() -> None:
    order = {
        "id": "o-1",
        "status": "failed",
        "phone_numbers": [{"phone_number": HOSTED, "status": "failed_ownership_verification"}],
    }
    assert hosting_status(order).reason == "The number's ownership could not be verified."


def test_a_registered_brand_whose_identity_tcr_did_not_verify_needs_action() -> None:
    base = {"brandId": "b-1", "entityType": "PRIVATE_PROFIT", "status": "OK"}
    assert brand_answer({**base, "identityStatus": "VERIFIED"}).status == "approved"
    unverified = brand_answer({**base, "identityStatus": "UNVERIFIED"})
    assert unverified.status == "action_required"
    assert unverified.reasons[0]["code"] == "identity_unverified"


def test_failure_reasons_keep_tcr_codes() -> None:
    answer = campaign_answer(
        {
            "campaignId": CAMPAIGN_ID,
            "campaignStatus": "TCR_FAILED",
            "failureReasons": "1011: Website unreachable; Sample messages are missing",
        }
    )
    assert answer.status == "rejected"
    assert [(r["code"], r["description"]) for r in answer.reasons] == [
        ("1011", "Website unreachable"),
        ("", "Sample messages are missing"),
    ]


def test_an_expired_campaign_is_expired_whatever_its_campaign_status() -> None:
    answer = campaign_answer(
        {"campaignId": CAMPAIGN_ID, "campaignStatus": "MNO_PROVISIONED", "status": "EXPIRED"}
    )
    assert (answer.status, answer.raw_status) == ("expired", "EXPIRED")


def test_operation_status_is_the_campaigns_per_carrier_state() -> None:
    answer = campaign_answer(
        {"campaignId": CAMPAIGN_ID, "campaignStatus": "MNO_PENDING"},
        {"10017": "APPROVED", "10035": "REVIEW", "10037": "REJECTED"},
    )
    assert answer.status == "pending"  # the domain makes it honest with the carriers
    assert answer.carriers == (
        CarrierState("att", "approved"),
        CarrierState("tmobile", "pending"),
        CarrierState("verizon", "rejected"),
    )
    assert (
        campaign_answer({"campaignId": CAMPAIGN_ID, "campaignStatus": "TCR_PENDING"}).carriers
        is None
    )


# --- numbers ------------------------------------------------------------------------------


def test_search_sends_telnyxs_filters_with_the_bearer_key(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    [offer] = telnyx.search("US", "312", "0142", 5)
    assert (offer.phone_number, offer.area_code, offer.locality, offer.region) == (
        NUMBER,
        "312",
        "Chicago",
        "IL",
    )
    [request] = fake.requests_to("GET", "/available_phone_numbers")
    assert request.authorization == f"Bearer {API_KEY}"
    assert request.query["filter[country_code]"] == ["US"]
    assert request.query["filter[national_destination_code]"] == ["312"]
    assert request.query["filter[phone_number][contains]"] == ["0142"]


def test_an_unknown_area_code_is_a_bad_area_code(telnyx: TelnyxProvider) -> None:
    with pytest.raises(BadAreaCodeError):
        telnyx.search("US", "99", None, 5)


def test_a_purchase_orders_with_the_messaging_profile_and_the_reference(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    bought = telnyx.purchase("US", NUMBER, reference="conn-1")
    [request] = fake.requests_to("POST", "/number_orders")
    assert request.body == {
        "phone_numbers": [{"phone_number": NUMBER}],
        "messaging_profile_id": MESSAGING_PROFILE_ID,
        "customer_reference": "sms-channels:conn-1",
    }
    assert bought.ref in fake.numbers


def test_a_purchase_waits_for_a_pending_order_to_succeed(fake: FakeTelnyx) -> None:
    fake.order_outcome = "pending"
    adapter = provider(fake, order_wait_seconds=5.0)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # Telnyx settles the order during the second wait
        waits.append(seconds)
        if len(waits) == 2:
            with fake.lock:
                for order in fake.number_orders.values():
                    order.update(status="success", requirements_met=True)
                fake._add_number(NUMBER, "conn-1", MESSAGING_PROFILE_ID)

    adapter._http.sleep = sleep
    bought = adapter.purchase("US", NUMBER, reference="conn-1")
    assert bought.ref in fake.numbers
    assert len(fake.requests_to("GET", "/number_orders/")) == 2
    adapter.close()


def test_an_order_still_pending_with_requirements_is_a_compliance_restriction(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    fake.order_outcome = "pending"
    with pytest.raises(ComplianceRestrictedError):
        telnyx.purchase("US", NUMBER, reference="conn-1")


def test_a_failed_order_and_a_number_not_on_offer_are_unavailable(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    with pytest.raises(NumberUnavailableError):
        telnyx.purchase("US", "+13125550100", reference="conn-1")
    fake.order_outcome = "failure"
    with pytest.raises(NumberUnavailableError):
        telnyx.purchase("US", NUMBER, reference="conn-1")


def test_a_number_order_is_retried_after_a_timeout_and_the_reference_finds_it(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    fake.answer_next(Scripted(200, hang=True, after=True, method="POST", path_contains="/number"))
    with pytest.raises(NumberUnavailableError):  # the retry finds the number taken: ours
        telnyx.purchase("US", NUMBER, reference="conn-1")
    held = telnyx.holding(NUMBER)
    assert held is not None
    assert held.reference == "conn-1"
    assert len(fake.requests_to("POST", "/number_orders")) == 2


def test_a_hosting_order_is_made_once_per_number_and_released_by_its_ref(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    order = telnyx.start_hosting("US", HOSTED, reference="conn-2")
    assert telnyx.start_hosting("US", HOSTED, reference="conn-2") == order
    assert order.ref.startswith("hosted:")
    [request] = fake.requests_to("POST", "/messaging_hosted_number_orders")
    assert request.body == {"phone_numbers": [HOSTED], "messaging_profile_id": MESSAGING_PROFILE_ID}
    telnyx.release(order.ref)
    assert fake.hosted_orders == {}
    telnyx.release(order.ref)  # idempotent


# --- brand --------------------------------------------------------------------------------


def test_a_brand_is_created_from_the_form_and_found_again_not_repeated(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    brand = telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    again = telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert again.ref == brand.ref
    assert fake.count("brands") == 1
    sent = fake.requests_to("POST", "/10dlc/brand")[0].body
    assert sent["entityType"] == "PRIVATE_PROFIT"
    assert sent["ein"] == GOOD["brand"]["registrationNumber"]
    assert sent["mock"] is True
    assert sent["webhookURL"] == (
        "https://sms.example.com/providers/telnyx/webhooks?ref=sms-channels%3A" + BRAND_REF
    )
    assert (brand.status, brand.raw_status) == ("pending", "REGISTRATION_PENDING")


def test_the_same_business_registered_twice_is_two_brands(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    first = telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    other = telnyx.create_brand(GOOD["brand"], reference="another-registration.1")
    assert other.ref != first.ref  # each registration finds its own brand, never another's


def test_a_changed_brand_is_a_new_brand(telnyx: TelnyxProvider, fake: FakeTelnyx) -> None:
    first = telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    changed = good_with(brand_website="https://www.example.org")["brand"]
    second = telnyx.create_brand(changed, reference=BRAND_REF.replace(".1", ".2"))
    assert second.ref != first.ref


def test_a_sole_proprietor_gets_one_otp_and_waits_for_it(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    brand = telnyx.create_brand(sole_brand(), reference=BRAND_REF)
    telnyx.create_brand(sole_brand(), reference=BRAND_REF)
    assert len(fake.requests_to("POST", "/smsOtp")) == 1
    assert brand.status == "action_required"
    assert brand.reasons[0]["code"] == "otp_required"
    with pytest.raises(RegistrationNotReadyError):
        telnyx.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference="c.1")
    confirmed = httpx.put(
        f"{fake.base_url}/10dlc/brand/{brand.ref}/smsOtp",
        json={"otpPin": OTP_PIN},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert confirmed.status_code == 204
    assert telnyx.registration_status("brand", brand.ref).status == "approved"


def test_telnyx_refusing_the_brand_is_rejected_with_its_code(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    fake.answer_next(
        Scripted(400, telnyx_error("10015", "Invalid EIN"), method="POST", path_contains="brand")
    )
    answer = telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert (answer.status, answer.reasons[0]["code"]) == ("rejected", "10015")


def test_a_campaign_verify_token_is_imported_once_and_secondary_vetting_ordered_once(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    brand = approved(telnyx, fake)
    token = "cv|1.0|tcr|10dlc|9957c339-d46f-49b7-a399-2e6d5ebac66d|GQ3EaA"
    imported = telnyx.vet_brand(
        brand, vetting_provider="campaign-verify", vetting_id=token, reference="v.1"
    )
    assert (imported.status, imported.vetting_class) == ("approved", "POLITICAL")
    again = telnyx.vet_brand(
        brand, vetting_provider="campaign-verify", vetting_id=token, reference="v.1"
    )
    assert again.ref == imported.ref == f"{brand}/CV"  # never the token: a compliance secret
    [put] = fake.requests_to("PUT", "/externalVetting")
    assert put.body == {"evpId": "CV", "vettingId": token}
    ordered = telnyx.vet_brand(brand, vetting_provider="aegis", vetting_id=None, reference="v.2")
    assert (ordered.status, ordered.raw_status) == ("pending", "PENDING")
    telnyx.vet_brand(brand, vetting_provider="aegis", vetting_id=None, reference="v.2")
    assert len(fake.requests_to("POST", "/externalVetting")) == 1


# --- campaign -----------------------------------------------------------------------------


def approved(telnyx: TelnyxProvider, fake: FakeTelnyx) -> str:
    brand = telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    fake.set_brand(brand.ref, "OK", "VERIFIED")
    return brand.ref


def test_a_campaign_carries_the_reference_id_and_the_forms_answers(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    brand = approved(telnyx, fake)
    campaign = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand, reference="c.1")
    sent = fake.requests_to("POST", "/campaignBuilder")[0].body
    assert sent["referenceId"] == "sms-channels:c.1"
    assert sent["usecase"] == GOOD["campaign"]["useCaseType"]
    assert sent["optoutKeywords"] == "STOP,QUIT"
    assert sent["sample1"] == GOOD["campaign"]["messageSamples"][0]
    assert (campaign.status, campaign.raw_status) == ("pending", "TCR_PENDING")


def test_a_campaign_waits_for_the_brands_approval(telnyx: TelnyxProvider, fake: FakeTelnyx) -> None:
    brand = telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    with pytest.raises(RegistrationNotReadyError):
        telnyx.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference="c.1")
    assert fake.count("campaigns") == 0


def test_telnyx_refusing_the_campaign_is_rejected_with_its_code_and_detail(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    brand = approved(telnyx, fake)
    fake.refuse_next_campaign("10004", "Sample messages must name the brand.")
    answer = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand, reference="c.1")
    assert answer.status == "rejected"
    assert answer.reasons[0]["code"] == "10004"
    assert "Sample messages must name the brand." in answer.reasons[0]["description"]
    assert telnyx.registration_status("campaign", answer.ref).status == "rejected"


@pytest.mark.parametrize("refused", ["TELNYX_FAILED", "MNO_REJECTED"])
def test_the_in_place_resubmission_appeals_a_refused_campaign(
    telnyx: TelnyxProvider, fake: FakeTelnyx, refused: str
) -> None:
    brand = approved(telnyx, fake)
    first = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand, reference="c.1")
    fake.set_campaign(first.ref, refused, "1011: Website unreachable")
    rejected = telnyx.registration_status("campaign", first.ref)
    assert rejected.status == "rejected"
    assert [r["code"] for r in rejected.reasons] == ["1011", APPEAL_CODE]
    fixed = {
        **GOOD["campaign"],
        "messageSamples": ["Acme Dental: your visit is at 9am. Reply STOP to opt out."],
    }
    appealed = telnyx.update_campaign(fixed, ref=first.ref, service_ref=None, reference="c.2")
    assert appealed.ref == first.ref
    assert (appealed.status, appealed.raw_status) == ("pending", "TCR_ACCEPTED")
    [(appealed_id, text)] = fake.appeals
    assert appealed_id == first.ref
    assert "1011: Website unreachable" in text
    assert "sample messages were updated" in text
    assert fake.campaigns[first.ref]["sample1"] == fixed["messageSamples"][0]
    # Asked again (the answer was lost): the same campaign, no second appeal.
    again = telnyx.update_campaign(fixed, ref=first.ref, service_ref=None, reference="c.2")
    assert again.ref == first.ref
    assert len(fake.appeals) == 1
    assert fake.count("campaigns") == 1


def test_a_campaign_tcr_refused_is_not_appealable(telnyx: TelnyxProvider, fake: FakeTelnyx) -> None:
    brand = approved(telnyx, fake)
    first = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand, reference="c.1")
    fake.set_campaign(first.ref, "TCR_FAILED", "1011: Website unreachable")
    assert APPEAL_CODE not in [
        r["code"] for r in telnyx.registration_status("campaign", first.ref).reasons
    ]
    answer = telnyx.update_campaign(
        GOOD["campaign"], ref=first.ref, service_ref=None, reference="c.2"
    )
    assert answer.status == "rejected"
    assert fake.appeals == []
    second = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand, reference="c.2")
    assert second.ref != first.ref


def test_a_number_assignment_follows_its_campaign(telnyx: TelnyxProvider, fake: FakeTelnyx) -> None:
    telnyx.purchase("US", NUMBER, reference="conn-1")
    brand = approved(telnyx, fake)
    campaign = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand, reference="c.1")
    number = telnyx.register_number(
        NUMBER, "ignored", campaign_ref=campaign.ref, service_ref=None, reference="n.1"
    )
    assert (number.ref, number.status, number.raw_status) == (
        f"{campaign.ref}/{NUMBER}",
        "pending",
        "PENDING_ASSIGNMENT",
    )
    fake.set_campaign(campaign.ref, "MNO_PROVISIONED")
    assert telnyx.registration_status("number", number.ref).raw_status == "ASSIGNED"
    elsewhere = f"{CAMPAIGN_ID}/{NUMBER}"  # an earlier registration of the number
    assert telnyx.registration_status("number", elsewhere).status == "expired"
    provisioned = telnyx.registration_status("campaign", campaign.ref)
    assert provisioned.reasons == ()
    assert provisioned.carriers is not None
    assert {c.status for c in provisioned.carriers} == {"approved"}


# --- the retry rule, the key --------------------------------------------------------------


def test_a_brand_create_is_not_retried_after_a_timeout(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    fake.answer_next(Scripted(200, hang=True, after=True, method="POST", path_contains="brand"))
    with pytest.raises(ProviderUnavailableError):
        telnyx.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert len(fake.requests_to("POST", "/10dlc/brand")) == 1
    assert telnyx.create_brand(GOOD["brand"], reference=BRAND_REF).ref in fake.brands
    assert fake.count("brands") == 1


def test_5xx_is_retried_then_the_adapter_reports_the_outage(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    fake.answer_next(Scripted(503, {"errors": []}, headers={"Retry-After": "3"}), times=2)
    with pytest.raises(ProviderUnavailableError):
        telnyx.search("US", None, None, 5)
    with pytest.raises(ProviderUnavailableError):
        telnyx.check_available()


def test_the_key_stays_out_of_reprs_and_logs(fake: FakeTelnyx) -> None:
    adapter = provider(fake, api_key="KEYcanary-not-the-real-one")
    assert "KEYcanary" not in repr(adapter._config)
    with structlog.testing.capture_logs() as logs, pytest.raises(ProviderRejectedError):
        adapter.search("US", None, None, 5)
    assert adapter.credentials_refused
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "telnyx_credentials_refused"
    ]
    assert "KEYcanary" not in repr(logs)
    adapter.close()


# --- the reference ------------------------------------------------------------------------


def documented(method: str, path: str) -> bool:
    for template, operations in reference()["paths"].items():
        pattern = "/v2" + re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in operations:
            return True
    return False


def test_every_request_of_a_whole_flow_is_a_documented_operation(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    telnyx.search("US", "312", None, 5)
    bought = telnyx.purchase("US", NUMBER, reference="conn-1")
    list(telnyx.held_numbers())
    order = telnyx.start_hosting("US", HOSTED, reference="conn-2")
    telnyx.hosting_status(order.ref)
    telnyx.release(order.ref)
    brand = telnyx.create_brand(sole_brand(), reference=BRAND_REF)
    fake.set_brand(brand.ref, "OK", "VERIFIED")
    telnyx.vet_brand(brand.ref, vetting_provider="aegis", vetting_id=None, reference="v")
    campaign = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference="c.1")
    fake.set_campaign(campaign.ref, "MNO_REJECTED")
    telnyx.registration_status("campaign", campaign.ref)
    telnyx.update_campaign(GOOD["campaign"], ref=campaign.ref, service_ref=None, reference="c.2")
    telnyx.register_number(
        NUMBER, bought.ref, campaign_ref=campaign.ref, service_ref=None, reference="n"
    )
    telnyx.registration_status("number", f"{campaign.ref}/{NUMBER}")
    telnyx.release(bought.ref)
    undocumented = {
        (r.method, r.path)
        for r in fake.requests
        if not documented(r.method, r.path) and not OUTSIDE_THE_REFERENCE.fullmatch(r.path)
    }
    assert undocumented == set()
    called = {
        (r.method, re.sub(r"/[0-9a-f-]{36}|/\+?[0-9]{6,}", "/{id}", r.path)) for r in fake.requests
    }
    assert ("POST", "/v2/10dlc/campaign/{id}/appeal") in called
    assert ("GET", "/v2/10dlc/campaign/{id}/operationStatus") in called
    assert ("POST", "/v2/10dlc/brand/{id}/smsOtp") in called


_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def problems(spec: dict[str, Any], value: Any, at: str) -> list[str]:  # noqa: PLR0912
    """What in ``value`` the schema does not allow: undocumented or missing keys, wrong
    JSON types, values off an enum (``anyOf``/``oneOf``: any branch; ``allOf``: each)."""
    while "$ref" in spec:
        spec = schema(spec["$ref"].rsplit("/", 1)[1])
    for key in ("anyOf", "oneOf"):
        if key in spec:
            branches = [problems(branch, value, at) for branch in spec[key]]
            return [] if any(not found for found in branches) else branches[0]
    if "allOf" in spec:
        branches = spec["allOf"]
        return problems(branches[0] if len(branches) == 1 else _merged(branches), value, at)
    kinds = spec.get("type")
    allowed = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    if value is None:
        return [] if not allowed or "null" in allowed or spec.get("nullable") else [f"{at}: null"]
    expected = tuple(t for k in allowed if k != "null" for t in _as_tuple(_TYPES.get(k)))
    if expected and (not isinstance(value, expected) or (value is True and int in expected)):
        return [f"{at}: not {kinds}"]
    found = []
    if "enum" in spec and value not in spec["enum"]:
        found.append(f"{at}: {value!r} off the enum")
    if isinstance(value, dict) and "properties" in spec:
        properties = spec["properties"]
        if spec.get("additionalProperties") is not True:
            found += [f"{at}.{k}: undocumented" for k in value if k not in properties]
        found += [f"{at}.{k}: missing" for k in spec.get("required", []) if k not in value]
        for key, item in value.items():
            if key in properties:
                found += problems(properties[key], item, f"{at}.{key}")
    if isinstance(value, list) and isinstance(spec.get("items"), dict):
        for index, item in enumerate(value):
            found += problems(spec["items"], item, f"{at}[{index}]")
    return found


def _merged(branches: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``allOf`` as one object schema (its branches' properties and required keys)."""
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for branch in branches:
        part = branch
        while "$ref" in part:
            part = schema(part["$ref"].rsplit("/", 1)[1])
        merged["properties"].update(part.get("properties") or {})
        merged["required"] += part.get("required") or []
    return merged


def _as_tuple(kind: type | tuple[type, ...] | None) -> tuple[type, ...]:
    if kind is None:
        return ()
    return kind if isinstance(kind, tuple) else (kind,)


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    for template, operations in reference()["paths"].items():
        pattern = "/v2" + re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in operations:
            answer = operations[method.lower()]["responses"].get(str(status)) or {}
            found: dict[str, Any] | None = (
                (answer.get("content") or {}).get("application/json", {}).get("schema")
            )
            return found
    return None


def test_every_answer_of_the_fake_validates_against_the_reference(
    telnyx: TelnyxProvider, fake: FakeTelnyx
) -> None:
    telnyx.search("US", "312", None, 5)
    bought = telnyx.purchase("US", NUMBER, reference="conn-1")
    order = telnyx.start_hosting("US", HOSTED, reference="conn-2")
    telnyx.hosting_status(order.ref)
    telnyx.release(order.ref)
    brand = telnyx.create_brand(sole_brand(), reference=BRAND_REF)
    telnyx.create_brand(sole_brand(), reference=BRAND_REF)
    fake.set_brand(brand.ref, "OK", "VERIFIED")
    telnyx.registration_status("brand", brand.ref)
    telnyx.vet_brand(brand.ref, vetting_provider="aegis", vetting_id=None, reference="v")
    telnyx.vet_brand(
        brand.ref, vetting_provider="campaign-verify", vetting_id="cv|1", reference="w"
    )
    campaign = telnyx.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference="c.1")
    fake.set_campaign(campaign.ref, "MNO_REJECTED")
    telnyx.update_campaign(GOOD["campaign"], ref=campaign.ref, service_ref=None, reference="c.2")
    telnyx.register_number(
        NUMBER, bought.ref, campaign_ref=campaign.ref, service_ref=None, reference="n"
    )
    telnyx.registration_status("number", f"{campaign.ref}/{NUMBER}")
    telnyx.release(bought.ref)
    checked, found = 0, []
    for method, path, status, body in fake.responses:
        spec = response_schema(method, path, status) if status < 400 else None
        if spec is None or body is None:
            continue
        checked += 1
        found += problems(spec, body, f"{method} {path}")
    assert "\n".join(found) == ""
    assert checked >= 15
