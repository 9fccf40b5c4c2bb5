"""Preflight: one example that fires and one that does not, for every named rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from domain.preflight import RULE_IDS, RULES, preflight
from tests.compliance_payloads import (
    DELETE,
    GOOD,
    REQUIRED_TEXT_FIELDS,
    blank,
    compliance_payloads,
    good_with,
    marked_payload,
    value_at,
)

SAMPLES = GOOD["campaign"]["messageSamples"]
SAMPLE_0 = SAMPLES[0]


def samples(*texts: str) -> list[str]:
    return [*texts, SAMPLES[1]]


# rule id → (payload changes that make it fire, the field it names)
FIRES: dict[str, tuple[dict[str, Any], str]] = {
    "field.required": ({"brand_companyName": ""}, "brand.companyName"),
    "text.min_length": (
        {"campaign_campaignDescription": "Reminders for patients."},
        "campaign.campaignDescription",
    ),
    "format.e164": ({"brand_contactPhone": "(415) 555-2671"}, "brand.contactPhone"),
    "format.email": ({"brand_contactEmail": "compliance@acmedental"}, "brand.contactEmail"),
    "format.https_url": (
        {"campaign_privacyPolicyUrl": "http://www.acmedental.com/privacy"},
        "campaign.privacyPolicyUrl",
    ),
    "format.ein": ({"brand_registrationNumber": "12-34567"}, "brand.registrationNumber"),
    "format.us_state": ({"brand_state": "California"}, "brand.state"),
    "format.us_zip": ({"brand_zipCode": "94105-1234"}, "brand.zipCode"),
    "format.country": ({"brand_country": "USA"}, "brand.country"),
    "keywords.format": ({"campaign_optOutKeywords": "stop,quit"}, "campaign.optOutKeywords"),
    "opt_out.keywords_include_stop": (
        {"campaign_optOutKeywords": "QUIT,END"},
        "campaign.optOutKeywords",
    ),
    "help.keywords_include_help": ({"campaign_helpKeywords": "INFO"}, "campaign.helpKeywords"),
    "samples.min_distinct": (
        {"campaign_messageSamples": [SAMPLE_0, " " + SAMPLE_0.upper()]},
        "campaign.messageSamples",
    ),
    "sample.names_brand": (
        {"campaign_messageSamples": samples("Your cleaning is tomorrow at 9am, see you soon.")},
        "campaign.messageSamples.0",
    ),
    "sample.url_shortener": (
        {
            "campaign_messageSamples": samples("Acme Dental: book at https://bit.ly/3xYz now"),
            "campaign_embeddedLink": True,
        },
        "campaign.messageSamples.0",
    ),
    "sample.embedded_link": (
        {"campaign_messageSamples": samples("Acme Dental: book at acmedental.com/book today")},
        "campaign.embeddedLink",
    ),
    "sample.embedded_phone": (
        {"campaign_messageSamples": samples("Acme Dental: questions? Call (415) 555-2671.")},
        "campaign.embeddedPhone",
    ),
    "opt_in.names_brand": (
        {"campaign_optInMessage": "You are in. Msg frequency varies. Msg & data rates may apply."},
        "campaign.optInMessage",
    ),
    "opt_in.message_frequency": (
        {"campaign_optInMessage": "Acme Dental: you are subscribed. Msg & data rates may apply."},
        "campaign.optInMessage",
    ),
    "opt_in.data_rates": (
        {"campaign_optInMessage": "Acme Dental: you are subscribed. Msg frequency varies."},
        "campaign.optInMessage",
    ),
    "opt_out.confirms_stop": (
        {"campaign_optOutMessage": "Acme Dental: thank you for being a patient."},
        "campaign.optOutMessage",
    ),
    "help.mentions_help_or_contact": (
        {"campaign_helpMessage": "Acme Dental: thanks for writing to us today!"},
        "campaign.helpMessage",
    ),
    "message_flow.describes_consent": (
        {"campaign_messageFlow": "Patients get texts after they book a visit at our front desk."},
        "campaign.messageFlow",
    ),
    "brand.sole_proprietor_type": (
        {"brand_entity": "SOLE_PROPRIETOR", "brand_registrationNumber": ""},
        "brand.brandType",
    ),
    "brand.sole_proprietor_registration_number": (
        {"brand_entity": "SOLE_PROPRIETOR", "brand_brandType": "SOLE_PROPRIETOR"},
        "brand.registrationNumber",
    ),
    "campaign.sole_proprietor_use_case": (
        {"campaign_useCaseType": "SOLE_PROPRIETOR"},
        "campaign.useCaseType",
    ),
    "brand.public_profit_email_domain": (
        {"brand_entity": "PUBLIC_PROFIT", "brand_contactEmail": "acme.dental@gmail.com"},
        "brand.contactEmail",
    ),
    "terms.accepted": ({"campaign_termsAndConditions": False}, "campaign.termsAndConditions"),
}

# rule id → payload changes close to the rule's edge that must not make it fire
PASSES: dict[str, dict[str, Any]] = {
    "field.required": {"campaign_optInKeywords": DELETE},
    "text.min_length": {"campaign_campaignDescription": "Appointment reminders for our patients.."},
    "format.e164": {"brand_contactPhone": "+442071838750"},
    "format.email": {"brand_contactEmail": "Compliance@AcmeDental.com"},
    "format.https_url": {"campaign_privacyPolicyUrl": "https://acmedental.com/privacy?lang=en"},
    "format.ein": {"brand_registrationNumber": "123456789"},
    "format.us_state": {"brand_country": "CA", "brand_state": "Ontario"},
    "format.us_zip": {"brand_zipCode": "02134"},
    "format.country": {"brand_country": "GB"},
    "keywords.format": {"campaign_optOutKeywords": "STOP, QUIT, END2"},
    "opt_out.keywords_include_stop": {"campaign_optOutKeywords": "CANCEL,STOP"},
    "help.keywords_include_help": {"campaign_helpKeywords": "INFO,HELP"},
    "samples.min_distinct": {
        "campaign_messageSamples": [SAMPLE_0, "Acme Dental: your visit is confirmed."]
    },
    "sample.names_brand": {
        "campaign_messageSamples": samples("ACME DENTAL: your cleaning is tomorrow at 9am.")
    },
    "sample.url_shortener": {
        "campaign_messageSamples": samples("Acme Dental: book at https://acmedental.com/b/3xYz"),
        "campaign_embeddedLink": True,
    },
    "sample.embedded_link": {
        "campaign_messageSamples": samples("Acme Dental: book at acmedental.com/book today"),
        "campaign_embeddedLink": True,
    },
    "sample.embedded_phone": {
        "campaign_messageSamples": samples("Acme Dental: questions? Call (415) 555-2671."),
        "campaign_embeddedPhone": True,
    },
    "opt_in.names_brand": {
        "campaign_optInMessage": "acme dental LLC: hi! 4 msgs/month. Msg&data rates may apply"
    },
    "opt_in.message_frequency": {
        "campaign_optInMessage": "Acme Dental: up to 4 msgs/month. Message & data rates may apply."
    },
    "opt_in.data_rates": {
        "campaign_optInMessage": "Acme Dental: recurring alerts. Message and data rates may apply"
    },
    "opt_out.confirms_stop": {
        "campaign_optOutMessage": "Acme Dental: we received your STOP request. Goodbye."
    },
    "help.mentions_help_or_contact": {
        "campaign_helpMessage": "Acme Dental: questions? Write to care@acmedental.com"
    },
    "message_flow.describes_consent": {
        "campaign_messageFlow": "Patients give verbal consent at the front desk when booking."
    },
    "brand.sole_proprietor_type": {
        "brand_entity": "SOLE_PROPRIETOR",
        "brand_brandType": "SOLE_PROPRIETOR",
    },
    "brand.sole_proprietor_registration_number": {
        "brand_entity": "SOLE_PROPRIETOR",
        "brand_registrationNumber": "",
    },
    "campaign.sole_proprietor_use_case": {
        "brand_entity": "SOLE_PROPRIETOR",
        "brand_brandType": "SOLE_PROPRIETOR",
        "campaign_useCaseType": "SOLE_PROPRIETOR",
    },
    "brand.public_profit_email_domain": {
        "brand_entity": "PUBLIC_PROFIT",
        "brand_contactEmail": "ir@investors.acmedental.com",
    },
    "terms.accepted": {"campaign_termsAndConditions": True},
}


def findings_of(payload: dict[str, Any] | None, rule: str) -> list[tuple[str, str]]:
    return [(f.field, f.severity) for f in preflight(payload).findings if f.rule == rule]


def test_every_rule_has_an_example_that_fires_and_one_that_does_not() -> None:
    assert set(FIRES) == set(RULE_IDS) == set(PASSES)


def test_rule_ids_are_unique() -> None:
    assert len(RULE_IDS) == len(set(RULE_IDS))


def test_the_complete_payload_is_ready_with_no_finding() -> None:
    report = preflight(GOOD)
    assert (report.ready, report.findings, report.ruleset) == (True, [], "us_10dlc")


@pytest.mark.parametrize("rule", list(FIRES))
def test_the_rule_fires_on_its_example(rule: str) -> None:
    changes, field = FIRES[rule]
    assert field in [f for f, _ in findings_of(good_with(**changes), rule)]


@pytest.mark.parametrize("rule", list(PASSES))
def test_the_rule_stays_silent_near_its_edge(rule: str) -> None:
    assert findings_of(good_with(**PASSES[rule]), rule) == []


def test_a_declared_link_that_no_sample_shows_fires_the_embedded_link_rule() -> None:
    payload = good_with(campaign_embeddedLink=True)
    assert findings_of(payload, "sample.embedded_link") == [("campaign.embeddedLink", "error")]


def test_each_sample_without_the_brand_is_named_by_its_slot() -> None:
    payload = good_with(
        campaign_messageSamples=[
            "",
            "Your visit is at 9am tomorrow.",
            None,
            SAMPLE_0,
            "See you at 10am next week!",
        ]
    )
    assert [f for f, _ in findings_of(payload, "sample.names_brand")] == [
        "campaign.messageSamples.1",
        "campaign.messageSamples.4",
    ]


def test_us_formats_do_not_apply_to_a_brand_of_another_country() -> None:
    payload = good_with(
        brand_country="GB", brand_zipCode="SW1A 1AA", brand_registrationNumber="GB123456789"
    )
    assert findings_of(payload, "format.us_zip") == findings_of(payload, "format.ein") == []


def test_a_warning_alone_leaves_the_payload_ready() -> None:
    changes, _ = FIRES["message_flow.describes_consent"]
    report = preflight(good_with(**changes))
    assert [(f.rule, f.severity) for f in report.findings] == [
        ("message_flow.describes_consent", "warning")
    ]
    assert report.ready is True


def test_an_error_makes_the_payload_not_ready() -> None:
    assert preflight(good_with(campaign_termsAndConditions=False)).ready is False


def test_a_connection_never_saved_lists_what_registration_needs() -> None:
    report = preflight(None)
    fields = {f.field for f in report.findings if f.rule == "field.required"}
    assert {"brand.displayName", "campaign.optOutMessage", "campaign.numberPooling"} <= fields
    assert report.ready is False


def test_findings_come_in_form_order() -> None:
    payload = good_with(campaign_termsAndConditions=False, brand_zipCode="1", brand_entity="")
    assert [f.field for f in preflight(payload).findings] == [
        "brand.entity",
        "brand.zipCode",
        "campaign.termsAndConditions",
    ]


def test_findings_never_quote_the_values() -> None:
    payload, markers = marked_payload()
    report = preflight(payload)
    text = repr(report)
    assert len(report.findings) > 10
    assert not [m for m in markers if m in text]


def test_no_rule_message_speaks_of_approval() -> None:
    messages = [
        f.message for rule in FIRES for f in preflight(good_with(**FIRES[rule][0])).findings
    ]
    summaries = [rule.summary for rule in RULES]
    assert not [m for m in messages + summaries if "approv" in m.lower()]


@given(compliance_payloads)
def test_any_draft_with_a_blank_required_field_is_not_ready_and_names_it(
    payload: dict[str, Any],
) -> None:
    # Oracle: the design's list of required fields, read from the payload by the test.
    required = [f for fields in REQUIRED_TEXT_FIELDS.values() for f in fields]
    if value_at(payload, "brand.entity") == "SOLE_PROPRIETOR":
        required.remove("brand.registrationNumber")
    left_blank = {f for f in required if blank(value_at(payload, f))}
    report = preflight(payload)
    assert left_blank <= {f.field for f in report.findings if f.rule == "field.required"}
    if left_blank or value_at(payload, "campaign.termsAndConditions") is not True:
        assert report.ready is False


def test_two_distinct_samples_are_enough_and_one_is_not() -> None:
    two = good_with(campaign_messageSamples=[SAMPLE_0, SAMPLES[1]])
    one = good_with(campaign_messageSamples=[SAMPLE_0, None, "  "])
    assert findings_of(two, "samples.min_distinct") == []
    assert findings_of(one, "samples.min_distinct") == [("campaign.messageSamples", "error")]


def test_a_sample_of_exactly_the_minimum_length_passes_and_a_shorter_one_fires() -> None:
    exact = "Acme Dental: hi 1234"  # 20 characters
    assert len(exact) == 20
    assert findings_of(good_with(campaign_messageSamples=samples(exact)), "text.min_length") == []
    shorter = good_with(campaign_messageSamples=samples(exact[:-1]))
    assert findings_of(shorter, "text.min_length") == [("campaign.messageSamples.0", "error")]


def test_a_public_company_email_on_the_parent_domain_of_its_website_passes() -> None:
    # The website is a subdomain (shop.) of the email's domain: the same company.
    payload = good_with(
        brand_entity="PUBLIC_PROFIT",
        brand_website="https://shop.acmedental.com",
        brand_contactEmail="ir@acmedental.com",
    )
    assert findings_of(payload, "brand.public_profit_email_domain") == []
    elsewhere = good_with(
        brand_entity="PUBLIC_PROFIT",
        brand_website="https://shop.acmedental.com",
        brand_contactEmail="ir@dental.com",
    )
    assert findings_of(elsewhere, "brand.public_profit_email_domain") == [
        ("brand.contactEmail", "error")
    ]


def test_the_public_company_rule_leaves_a_malformed_website_to_the_format_rule() -> None:
    payload = good_with(brand_entity="PUBLIC_PROFIT", brand_website="http://acmedental.com")
    assert findings_of(payload, "brand.public_profit_email_domain") == []
    assert findings_of(payload, "format.https_url") == [("brand.website", "error")]
