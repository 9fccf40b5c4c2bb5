"""The Twilio adapter's 10DLC registration against the fake Twilio (TrustHub, brand
registrations, Messaging Services, ``Compliance/Usa2p``): what each step sends, every status
it maps, idempotency when a create times out after Twilio stored it, Twilio's error codes,
and the inbound wiring of bought numbers."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from domain.providers import (
    ProviderRejectedError,
    ProviderUnavailableError,
    RegistrationAnswer,
    RegistrationNotReadyError,
)
from providers.twilio import TwilioConfig, TwilioProvider
from providers.twilio.brands import A2P_PROFILE_POLICY, SECONDARY_PROFILE_POLICY
from providers.twilio.statuses import (
    BRAND_STATUSES,
    BUNDLE_STATUSES,
    EVALUATION_COMPLIANT,
    EVALUATION_NONCOMPLIANT,
    HOSTING_STATUSES,
)
from providers.twilio.statuses import hosting_status as order_status
from tests.support.compliance_payloads import GOOD
from tests.support.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilio,
    Scripted,
    available,
    fake_twilio,
    twilio_error,
)
from tests.unit.test_twilio_contract import reference_enum

NUMBER = "+18089251571"
INBOUND = "https://ingest.example.test/sms"
BRAND_REF = "4c0e7a52-0d0b-4a38-9d8e-2d7f1f0b5e11.1"
CAMPAIGN_REF = "9a1d3f7e-6b7a-4a1c-8e5f-0c9b2e4d6a22.1"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with fake_twilio() as server:
        server.inventory["US"] = [available(NUMBER)]
        yield server


def provider(fake: FakeTwilio, **overrides: Any) -> TwilioProvider:
    config = TwilioConfig(
        **{
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "base_url": fake.url,
            "numbers_base_url": fake.url,
            "messaging_base_url": fake.url,
            "trusthub_base_url": fake.url,
            "timeout_seconds": 1.0,
            "max_attempts": 2,
            "backoff_seconds": 0.0,
            "inbound_url": INBOUND,
            "a2p_mock": True,
            **overrides,
        }
    )
    return TwilioProvider(config, sleep=lambda _: None, jitter=lambda: 1.0)


@pytest.fixture
def twilio(fake: FakeTwilio) -> Iterator[TwilioProvider]:
    adapter = provider(fake)
    yield adapter
    adapter.close()


def form_of(fake: FakeTwilio, method: str, path_end: str) -> dict[str, list[str]]:
    [request] = [r for r in fake.requests if r.method == method and r.path.endswith(path_end)]
    return request.form


def approved_brand(twilio: TwilioProvider, fake: FakeTwilio) -> RegistrationAnswer:
    brand = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    fake.a2p.set_brand(brand.ref, "APPROVED")
    return brand


# --- brand ----------------------------------------------------------------------------------


def test_a_brand_builds_the_trusthub_profiles_then_registers_a_mock_brand(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    answer = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert answer.ref.startswith("BN")
    assert (answer.status, answer.raw_status) == ("pending", "PENDING")
    profiles = {b["policy_sid"]: b for b in fake.a2p.bundles.values()}
    profile, product = profiles[SECONDARY_PROFILE_POLICY], profiles[A2P_PROFILE_POLICY]
    assert profile["friendly_name"] == f"sms-channels:{BRAND_REF}"
    assert (profile["status"], product["status"]) == ("pending-review", "pending-review")
    [business] = [
        u
        for u in fake.a2p.end_users.values()
        if u["type"] == "customer_profile_business_information"
    ]
    assert business["attributes"]["business_registration_number"] == "12-3456789"
    assert business["attributes"]["business_name"] == "Acme Dental LLC"
    assigned = {a["object_sid"] for a in fake.a2p.assignments[profile["sid"]]}
    assert len(assigned) == 3  # business information, representative, address document
    assert profile["sid"] in {a["object_sid"] for a in fake.a2p.assignments[product["sid"]]}
    brand = fake.a2p.brands[answer.ref]
    assert brand["customer_profile_bundle_sid"] == profile["sid"]
    assert brand["a2p_profile_bundle_sid"] == product["sid"]
    assert brand["mock"] is True
    assert form_of(fake, "POST", "/v1/a2p/BrandRegistrations")["BrandType"] == ["STANDARD"]


def test_a_standard_brand_step_lists_the_accounts_end_users_once(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert len(fake.requests_to("GET", "/v1/EndUsers")) == 1  # not once per end user made
    assert len(fake.requests_to("POST", "/v1/EndUsers")) == 3  # business, representative, A2P


def test_asking_again_with_the_same_reference_creates_nothing_new(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    first = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    counts = {k: fake.a2p.count(k) for k in ("bundles", "end_users", "documents", "brands")}
    again = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert again.ref == first.ref
    assert {k: fake.a2p.count(k) for k in counts} == counts
    assert sum(len(a) for a in fake.a2p.assignments.values()) == 5  # 3 + 2


@pytest.mark.parametrize(
    "path",
    [
        "/v1/CustomerProfiles",
        "/v1/EndUsers",
        "/v1/TrustProducts",
        "/v1/a2p/BrandRegistrations",
    ],
)
def test_a_create_that_times_out_after_twilio_stored_it_is_found_not_repeated(
    twilio: TwilioProvider, fake: FakeTwilio, path: str
) -> None:
    fake.answer_next(Scripted(200, hang=True, after=True, method="POST", path_contains=path))
    with pytest.raises(ProviderUnavailableError):
        twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    answer = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert fake.a2p.count("brands") == 1
    assert fake.a2p.count("bundles") == 2
    assert fake.a2p.count("end_users") == 3
    assert answer.ref in fake.a2p.brands


def test_a_noncompliant_profile_is_action_required_with_twilios_codes(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    fake.a2p.evaluation = "noncompliant"
    answer = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert answer.ref.startswith("BU")
    assert answer.status == "action_required"
    assert [r["code"] for r in answer.reasons] == ["22215"]
    assert fake.a2p.count("brands") == 0  # no fee before the profile is compliant
    assert twilio.registration_status("brand", answer.ref).status == "action_required"
    with pytest.raises(RegistrationNotReadyError):
        twilio.create_campaign(GOOD["campaign"], brand_ref=answer.ref, reference=CAMPAIGN_REF)


def test_a_sole_proprietor_brand_waits_for_the_owners_otp(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    sole = {**GOOD["brand"], "entity": "SOLE_PROPRIETOR", "brandType": "SOLE_PROPRIETOR"}
    answer = twilio.create_brand(sole, reference=BRAND_REF)
    assert (answer.status, answer.raw_status) == ("action_required", "PENDING")
    assert answer.reasons[0]["code"] == "otp_required"
    assert form_of(fake, "POST", "/v1/a2p/BrandRegistrations")["BrandType"] == ["SOLE_PROPRIETOR"]
    types = {u["type"] for u in fake.a2p.end_users.values()}
    assert types == {"starter_customer_profile_information", "sole_proprietor_information"}
    fake.a2p.set_brand(answer.ref, "APPROVED")
    assert twilio.registration_status("brand", answer.ref).status == "approved"


# What each status means for the level, written out here (not read from the adapter's table):
# Twilio's BrandRegistrations and Usa2p status docs; deletion pending or failed means the
# brand is being withdrawn, so the level can no longer be relied on.
EXPECTED_BRAND = {
    "PENDING": "pending",
    "IN_REVIEW": "pending",
    "APPROVED": "approved",
    "FAILED": "rejected",
    "SUSPENDED": "suspended",
    "DELETION_PENDING": "expired",
    "DELETION_FAILED": "expired",
}
EXPECTED_CAMPAIGN = {
    "PENDING": "pending",
    "IN_PROGRESS": "pending",
    "VERIFIED": "approved",
    "FAILED": "rejected",
    "SUSPENDED": "suspended",
    "EXPIRED": "expired",
}


@pytest.mark.parametrize("raw", sorted(EXPECTED_BRAND))
def test_every_brand_status_of_the_reference_is_mapped(
    twilio: TwilioProvider, fake: FakeTwilio, raw: str
) -> None:
    brand = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    errors = [{"code": 30794, "description": "Brand vetting failed", "fields": ["website_url"]}]
    fake.a2p.set_brand(brand.ref, raw, errors if raw == "FAILED" else None)
    answer = twilio.registration_status("brand", brand.ref)
    assert (answer.status, answer.raw_status) == (EXPECTED_BRAND[raw], raw)
    if raw == "FAILED":
        assert [dict(r) for r in answer.reasons] == [
            {"code": "30794", "description": "Brand vetting failed", "fields": ["brand.website"]}
        ]


def test_the_reference_enum_is_exactly_what_is_mapped() -> None:
    assert set(BRAND_STATUSES) == set(reference_enum("brand_registrations_enum_status"))
    assert set(HOSTING_STATUSES) == set(reference_enum("hosted_number_order_enum_status"))


def test_every_trusthub_bundle_status_of_the_reference_is_mapped() -> None:
    # A brand that stopped at its customer profile or trust product (BU…) reads by the
    # bundle's status; both kinds of bundle share one enum, and so do their evaluations.
    for name in ("customer_profile_enum_status", "trust_product_enum_status"):
        assert set(BUNDLE_STATUSES) == set(reference_enum(name))
    for name in ("customer_profile_evaluation_enum_status", "trust_product_evaluation_enum_status"):
        assert {EVALUATION_COMPLIANT, EVALUATION_NONCOMPLIANT} == set(reference_enum(name))


# --- campaign and number ---------------------------------------------------------------------


def test_a_campaign_waits_for_the_brands_approval(twilio: TwilioProvider, fake: FakeTwilio) -> None:
    brand = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    with pytest.raises(RegistrationNotReadyError):
        twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    assert fake.a2p.count("services") == 0


def test_a_campaign_is_a_messaging_service_with_its_usa2p_campaign(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    brand = approved_brand(twilio, fake)
    answer = twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    assert answer.ref.startswith("MG")
    assert answer.service_ref == answer.ref
    assert (answer.status, answer.raw_status) == ("pending", "IN_PROGRESS")
    service = fake.a2p.services[answer.ref]
    assert service["friendly_name"] == f"sms-channels:{CAMPAIGN_REF}"
    assert service["inbound_request_url"] == INBOUND
    assert service["use_inbound_webhook_on_number"] is False
    sent = form_of(fake, "POST", "/Compliance/Usa2p")
    campaign = GOOD["campaign"]
    assert sent["BrandRegistrationSid"] == [brand.ref]
    assert sent["Description"] == [campaign["campaignDescription"]]
    assert sent["MessageFlow"] == [campaign["messageFlow"]]
    assert sent["MessageSamples"] == [s for s in campaign["messageSamples"] if s]
    assert sent["UsAppToPersonUsecase"] == ["ACCOUNT_NOTIFICATION"]
    assert sent["OptOutKeywords"] == ["STOP", "QUIT"]
    assert sent["HelpKeywords"] == ["HELP"]
    assert (sent["HasEmbeddedLinks"], sent["AgeGated"], sent["DirectLending"]) == (
        ["false"],
        ["false"],
        ["false"],
    )
    again = twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    assert again.ref == answer.ref
    assert fake.a2p.count("services") == 1


def test_a_service_create_that_timed_out_is_found_on_the_retry(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    brand = approved_brand(twilio, fake)
    fake.answer_next(
        Scripted(200, hang=True, after=True, method="POST", path_contains="/v1/Services")
    )
    with pytest.raises(ProviderUnavailableError):
        twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    answer = twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    assert fake.a2p.count("services") == 1
    assert fake.a2p.count("campaigns") == 1
    assert answer.ref in fake.a2p.services


@pytest.mark.parametrize("raw", sorted(EXPECTED_CAMPAIGN))
def test_every_campaign_status_is_mapped_and_failures_keep_their_codes(
    twilio: TwilioProvider, fake: FakeTwilio, raw: str
) -> None:
    brand = approved_brand(twilio, fake)
    campaign = twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    errors = [
        {"code": 30892, "description": "Opt-in details insufficient", "fields": ["message_flow"]},
        {"code": 30886, "description": "Sample messages insufficient", "fields": []},
    ]
    fake.a2p.set_campaign(campaign.ref, raw, errors if raw == "FAILED" else None)
    answer = twilio.registration_status("campaign", campaign.ref)
    assert (answer.status, answer.raw_status) == (EXPECTED_CAMPAIGN[raw], raw)
    if raw == "FAILED":
        assert [r["code"] for r in answer.reasons] == ["30892", "30886"]
        assert answer.reasons[0]["fields"] == ["campaign.messageFlow"]


def test_a_number_joins_the_campaigns_service_once_and_registers_when_verified(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    bought = twilio.purchase("US", NUMBER, reference="conn-1")
    brand = approved_brand(twilio, fake)
    campaign = twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    answer = twilio.register_number(
        NUMBER, bought.ref, campaign_ref=campaign.ref, service_ref=campaign.service_ref,
        reference="conn-1.1",
    )  # fmt: skip
    assert answer.ref == f"{campaign.ref}/{bought.ref}"
    assert answer.status == "pending"
    assert fake.a2p.service_numbers[campaign.ref][bought.ref]["phone_number"] == NUMBER
    again = twilio.register_number(
        NUMBER, bought.ref, campaign_ref=campaign.ref, service_ref=campaign.service_ref,
        reference="conn-1.1",
    )  # fmt: skip
    assert again.ref == answer.ref
    assert len(fake.requests_to("POST", "/PhoneNumbers")) == 1
    fake.a2p.set_campaign(campaign.ref, "VERIFIED")
    registered = twilio.registration_status("number", answer.ref)
    assert (registered.status, registered.raw_status) == ("approved", "REGISTERED")
    del fake.a2p.service_numbers[campaign.ref][bought.ref]
    assert twilio.registration_status("number", answer.ref).status == "expired"


# --- errors ---------------------------------------------------------------------------------


def test_twilio_refusing_the_customer_profile_is_rejected_with_its_code(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    """A 4xx about the brand's data on the very first object: rejected (the operator fixes
    the form), not retried for ever; the reference is ours, Twilio made no profile."""
    fake.answer_next(
        Scripted(400, twilio_error(21604, 400), method="POST", path_contains="/CustomerProfiles")
    )
    answer = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert (answer.ref, answer.status, answer.raw_status) == (
        "sms-channels:" + BRAND_REF,
        "rejected",
        "REFUSED",
    )
    assert [r["code"] for r in answer.reasons] == ["21604"]


def test_a_twilio_4xx_that_is_not_about_the_brand_keeps_its_code_and_is_retried(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    fake.answer_next(
        Scripted(404, twilio_error(20404, 404), method="POST", path_contains="/CustomerProfiles")
    )
    with pytest.raises(ProviderRejectedError) as refused:
        twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert refused.value.provider_code == "20404"


def test_twilio_refusing_the_brand_registration_is_rejected_with_its_code(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    path = "/v1/a2p/BrandRegistrations"
    fake.answer_next(Scripted(400, twilio_error(21601, 400), method="POST", path_contains=path))
    answer = twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert answer.ref.startswith("BU")
    assert (answer.status, answer.raw_status) == ("rejected", "REFUSED")
    assert [r["code"] for r in answer.reasons] == ["21601"]


def test_twilio_refusing_the_campaign_is_rejected_with_its_code(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    brand = approved_brand(twilio, fake)
    path = "/Compliance/Usa2p"
    fake.answer_next(Scripted(400, twilio_error(21604, 400), method="POST", path_contains=path))
    answer = twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference=CAMPAIGN_REF)
    assert answer.ref.startswith("MG")
    assert (answer.status, answer.raw_status) == ("rejected", "REFUSED")
    assert [r["code"] for r in answer.reasons] == ["21604"]


def test_refused_credentials_mid_brand_stay_an_error(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    path = "/v1/TrustProducts"
    fake.answer_next(Scripted(401, twilio_error(20003, 401), method="POST", path_contains=path))
    with pytest.raises(ProviderRejectedError) as refused:
        twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    assert refused.value.provider_code == "20003"


def test_5xx_and_429_are_retried_then_unavailable(twilio: TwilioProvider, fake: FakeTwilio) -> None:
    fake.answer_next(Scripted(503, None, method="GET", path_contains="/CustomerProfiles"))
    fake.answer_next(Scripted(429, None, method="GET", path_contains="/CustomerProfiles"))
    with pytest.raises(ProviderUnavailableError):
        twilio.create_brand(GOOD["brand"], reference=BRAND_REF)
    twilio.create_brand(GOOD["brand"], reference=BRAND_REF)  # the outage is over
    assert fake.a2p.count("brands") == 1


def test_refused_credentials_are_logged_once_a_minute_without_the_token(
    fake: FakeTwilio,
) -> None:
    clock = [100.0]
    config = TwilioConfig(
        account_sid=ACCOUNT_SID, auth_token="wrong-token-canary", base_url=fake.url,
        messaging_base_url=fake.url, trusthub_base_url=fake.url,
    )  # fmt: skip
    adapter = TwilioProvider(config, sleep=lambda _: None, clock=lambda: clock[0])
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            with pytest.raises(ProviderRejectedError):
                adapter.create_brand(GOOD["brand"], reference=BRAND_REF)
        clock[0] += 61
        with pytest.raises(ProviderRejectedError):
            adapter.create_brand(GOOD["brand"], reference=BRAND_REF)
    refused = [e for e in logs if e["event"] == "twilio_credentials_refused"]
    assert len(refused) == 2
    assert "wrong-token-canary" not in json.dumps(logs, default=str)
    assert adapter.credentials_refused is True
    adapter.close()


# --- inbound wiring and hosting orders ------------------------------------------------------


def test_a_bought_number_points_at_the_inbound_url(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    twilio.purchase("US", NUMBER, reference="conn-1")
    assert form_of(fake, "POST", "/IncomingPhoneNumbers.json")["SmsUrl"] == [INBOUND]
    held = twilio.holding(NUMBER)
    assert held is not None
    assert held.inbound_url == INBOUND


def test_without_an_inbound_url_the_number_is_left_as_twilio_set_it(fake: FakeTwilio) -> None:
    adapter = provider(fake, inbound_url=None)
    adapter.purchase("US", NUMBER, reference="conn-1")
    assert "SmsUrl" not in form_of(fake, "POST", "/IncomingPhoneNumbers.json")
    adapter.close()


@pytest.mark.parametrize("status", sorted(HOSTING_STATUSES))
def test_every_hosting_order_status_is_mapped(status: str) -> None:
    order = {"status": status, "incoming_phone_number_sid": "PN" + "1" * 32, "failure_reason": ""}
    answer = order_status(order)
    expected = {"completed": "completed", "failed": "failed"}.get(status, "pending")
    assert answer.state == expected
    if expected == "pending":
        assert answer.reason  # says what the order waits for (the SMS request's reason)
        assert answer.reason not in {"", "Hosting failed.", "The number is hosted."}


def test_the_brand_payload_is_not_changed_by_the_adapter(
    twilio: TwilioProvider,
) -> None:
    brand = copy.deepcopy(GOOD["brand"])
    twilio.create_brand(brand, reference=BRAND_REF)
    assert brand == GOOD["brand"]
