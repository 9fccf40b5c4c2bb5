"""Preflight: one example that fires and one that does not, for every named rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.compliance.preflight import RULE_IDS, RULES, preflight
from tests.support.compliance_payloads import (
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
FLOW = GOOD["campaign"]["messageFlow"]


def samples(*texts: str) -> list[str]:
    return [*texts, SAMPLES[1]]


def flow(old: str, new: str = "") -> str:
    """GOOD's message flow with ``old`` replaced (the test fails loudly if it is not there)."""
    assert old in FLOW
    return FLOW.replace(old, new)


SOLE_PROPRIETOR = {
    "brand_entity": "SOLE_PROPRIETOR",
    "brand_brandType": "SOLE_PROPRIETOR",
    "brand_registrationNumber": "",
    "brand_companyName": "Jane Doe",
    "campaign_useCaseType": "SOLE_PROPRIETOR",
}


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
        {
            "campaign_messageFlow": "Patients get appointment reminder texts after booking at "
            "the front desk. Msg frequency varies. Msg & data rates may apply. Reply HELP for "
            "help. Privacy policy at acmedental.com/privacy."
        },
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
    "link.unsecured": (
        {
            "campaign_messageSamples": samples("Acme Dental: book at http://acmedental.com/b"),
            "campaign_embeddedLink": True,
        },
        "campaign.messageSamples.0",
    ),
    "samples.opt_out_wording": (
        {"campaign_messageSamples": samples("Acme Dental: your cleaning is tomorrow at 9am.")},
        "campaign.messageSamples",
    ),
    "text.placeholder": (
        {"campaign_messageSamples": samples("Acme Dental: hi {name}, see you at 9am tomorrow.")},
        "campaign.messageSamples.0",
    ),
    "text.not_english": (
        {"campaign_campaignDescription": "Acme Dental の予約のリマインダー。"},
        "campaign.campaignDescription",
    ),
    "opt_in.help_and_stop": (
        {
            "campaign_optInMessage": "Acme Dental: you are subscribed. Msg frequency varies. "
            "Msg & data rates may apply."
        },
        "campaign.optInMessage",
    ),
    "opt_out.names_brand": (
        {"campaign_optOutMessage": "You are unsubscribed and will receive no more messages."},
        "campaign.optOutMessage",
    ),
    "help.names_brand_and_contact": (
        {"campaign_helpMessage": "For help call +1 415 555 2671 or visit our front desk."},
        "campaign.helpMessage",
    ),
    "message_flow.purpose": (
        {"campaign_messageFlow": flow("appointment reminder ")},
        "campaign.messageFlow",
    ),
    "message_flow.frequency": (
        {"campaign_messageFlow": flow("Msg frequency varies. ")},
        "campaign.messageFlow",
    ),
    "message_flow.data_rates": (
        {"campaign_messageFlow": flow("Msg & data rates may apply. ")},
        "campaign.messageFlow",
    ),
    "message_flow.help": (
        {"campaign_messageFlow": flow("Reply HELP for help, ")},
        "campaign.messageFlow",
    ),
    "message_flow.sms_or_text": (
        {"campaign_messageFlow": flow("reminder texts", "reminders")},
        "campaign.messageFlow",
    ),
    "message_flow.privacy_policy": (
        {"campaign_messageFlow": flow(" Privacy policy: https://www.acmedental.com/privacy")},
        "campaign.messageFlow",
    ),
    "consent.bundled_channels": (
        {"campaign_messageFlow": flow("reminder texts", "reminder texts, emails and calls")},
        "campaign.messageFlow",
    ),
    "content.shaft": (
        {"campaign_campaignDescription": "Happy hour deals on beer and wine for our members."},
        "campaign.campaignDescription",
    ),
    "content.cannabis": (
        {"campaign_messageSamples": samples("Acme Dental: 20% off CBD gummies. Reply STOP to end")},
        "campaign.messageSamples.0",
    ),
    "content.gambling": ({"brand_vertical": "GAMBLING"}, "brand.vertical"),
    "content.high_risk_lending": (
        {"campaign_campaignDescription": "Debt consolidation offers for our customers, monthly."},
        "campaign.campaignDescription",
    ),
    "content.credit_repair": (
        {"campaign_messageSamples": samples("Acme Dental: fix your credit in 30 days! Reply STOP")},
        "campaign.messageSamples.0",
    ),
    "content.crypto_investment": (
        {"campaign_messageSamples": samples("Acme Dental: we now take Bitcoin! Reply STOP to end")},
        "campaign.messageSamples.0",
    ),
    "flags.direct_lending": (
        {"campaign_messageSamples": samples("Acme Dental: apply for patient financing today.")},
        "campaign.directLending",
    ),
    "flags.age_gated": ({"campaign_ageGatedContent": True}, "campaign.ageGatedContent"),
    "brand.free_mail_email": (
        {"brand_contactEmail": "acme.dental@gmail.com"},
        "brand.contactEmail",
    ),
    "brand.sole_proprietor_company_suffix": ({"brand_entity": "SOLE_PROPRIETOR"}, "brand.entity"),
    "brand.entity_outside_us": (
        {"brand_entity": "NON_PROFIT", "brand_country": "CA"},
        "brand.entity",
    ),
    "brand.po_box": ({"brand_address": "P.O. Box 1234"}, "brand.address"),
    "brand.provider_max_length": ({"brand_zipCode": "94105-1234-5678"}, "brand.zipCode"),
    "account.ein_company_mismatch": (
        {"others": [good_with(brand_companyName="Acme Dental Group Inc")]},
        "brand.companyName",
    ),
    "account.brand_campaign_limit": (
        {"others": [good_with(campaign_campaignDescription=f"Campaign {i}") for i in range(100)]},
        "campaign.useCaseType",
    ),
    "account.second_sole_proprietor": (
        {**SOLE_PROPRIETOR, "others": [good_with(**SOLE_PROPRIETOR, campaign_helpKeywords="INFO")]},
        "brand.entity",
    ),
    "account.number_pool_limit": (
        {"others": [good_with() for _ in range(49)]},
        "campaign.numberPooling",
    ),
    "brand.political_campaign_verify": (
        {"brand_vertical": "POLITICAL"},
        "brand.campaignVerifyToken",
    ),
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
    "link.unsecured": {
        "campaign_messageSamples": samples("Acme Dental: book at https://acmedental.com/b"),
        "campaign_embeddedLink": True,
    },
    "samples.opt_out_wording": {
        "campaign_messageSamples": samples("Acme Dental: see you at 9am. Text END to unsubscribe")
    },
    "text.placeholder": {
        "campaign_messageSamples": samples("Acme Dental: hi [first name], test results are in.")
    },
    "text.not_english": {
        "campaign_campaignDescription": "Appointment reminders for Acme Dental's café señor Núñez."
    },
    "opt_in.help_and_stop": {
        "campaign_optInMessage": "Acme Dental: subscribed! Msg frequency varies. Msg & data "
        "rates may apply. Text help for help or stop to end."
    },
    "opt_out.names_brand": {"campaign_optOutMessage": "ACME DENTAL LLC: you are unsubscribed."},
    "help.names_brand_and_contact": {
        "campaign_helpMessage": "Acme Dental support: care@acmedental.com"
    },
    "message_flow.purpose": {
        "campaign_messageFlow": flow("appointment reminder ", "order update ")
    },
    "message_flow.frequency": {
        "campaign_messageFlow": flow("Msg frequency varies.", "Up to 4 msgs/month.")
    },
    "message_flow.data_rates": {
        "campaign_messageFlow": flow("Msg & data rates", "Message and data rates")
    },
    "message_flow.help": {"campaign_messageFlow": flow("Reply HELP", "Text help")},
    "message_flow.sms_or_text": {"campaign_messageFlow": flow("reminder texts", "reminder SMS")},
    "message_flow.privacy_policy": {
        "campaign_messageFlow": flow("Privacy policy:", "See our privacy notice at")
    },
    "consent.bundled_channels": {
        "campaign_messageFlow": flow("appointment reminder", "recall and appointment reminder")
    },
    "content.shaft": {
        "campaign_campaignDescription": "Appointment reminders for the Acme Dental Gunnison clinic."
    },
    "content.cannabis": {
        "campaign_messageSamples": samples(
            "Acme Dental: 20% off for Weedon Park. Reply STOP to end"
        )
    },
    "content.gambling": {
        "campaign_messageSamples": samples(
            "Acme Dental: a Friday slot opened up. Reply STOP to end"
        )
    },
    "content.high_risk_lending": {
        "campaign_campaignDescription": "Payment plan reminders for patients of Acme Dental."
    },
    "content.credit_repair": {
        "campaign_messageSamples": samples(
            "Acme Dental: we take credit cards now. Reply STOP to end"
        )
    },
    "content.crypto_investment": {
        "campaign_messageSamples": samples("Acme Dental: we now take Apple Pay! Reply STOP to end")
    },
    "flags.direct_lending": {
        "campaign_messageSamples": samples("Acme Dental: apply for patient financing today."),
        "campaign_directLending": True,
    },
    "flags.age_gated": {
        "campaign_ageGatedContent": True,
        "campaign_campaignDescription": "Wine club reminders for Acme members aged 21 and over.",
    },
    "brand.free_mail_email": {"brand_contactEmail": "dental@notgmail.com"},
    "brand.sole_proprietor_company_suffix": {
        "brand_entity": "SOLE_PROPRIETOR",
        "brand_companyName": "Jane Incognito Dental",
    },
    "brand.entity_outside_us": {"brand_entity": "NON_PROFIT", "brand_country": "US"},
    "brand.po_box": {"brand_address": "1 Boxwood Post Rd"},
    "brand.provider_max_length": {"brand_country": "GB", "brand_zipCode": "SW1A 1AA"},
    "account.ein_company_mismatch": {"others": [good_with(brand_companyName="ACME  dental llc")]},
    "account.brand_campaign_limit": {
        "others": [good_with(campaign_campaignDescription=f"Campaign {i}") for i in range(99)]
    },
    "account.second_sole_proprietor": {**SOLE_PROPRIETOR, "others": [good_with(**SOLE_PROPRIETOR)]},
    "account.number_pool_limit": {"others": [good_with() for _ in range(48)]},
    "brand.political_campaign_verify": {
        "brand_vertical": "POLITICAL",
        "brand_campaignVerifyToken": "cv|1.0|tcr|10dlc|9957c339-d46f-49b7-a399-2e6d5ebac66d|GQ3EBh",
    },
}


def findings_of(
    payload: dict[str, Any] | None, rule: str, others: list[dict[str, Any]] | None = None
) -> list[tuple[str, str]]:
    report = preflight(payload, others=others or [])
    return [(f.field, f.severity) for f in report.findings if f.rule == rule]


def example(changes: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The payload of an example and the account's other payloads (key ``others``)."""
    fields = {key: value for key, value in changes.items() if key != "others"}
    return good_with(**fields), changes.get("others", [])


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
    payload, others = example(changes)
    assert field in [f for f, _ in findings_of(payload, rule, others)]


@pytest.mark.parametrize("rule", list(PASSES))
def test_the_rule_stays_silent_near_its_edge(rule: str) -> None:
    payload, others = example(PASSES[rule])
    assert findings_of(payload, rule, others) == []


def test_every_finding_carries_the_provider_codes_of_its_rule() -> None:
    rules = {rule.id: rule for rule in RULES}
    examples = [example(changes) for changes, _ in FIRES.values()]
    findings = [f for p, o in examples for f in preflight(p, others=o).findings]
    assert {f.rule for f in findings} >= set(FIRES)
    assert all(f.provider_codes == rules[f.rule].codes_for(f.field) for f in findings)
    assert all(set(f.provider_codes) <= set(rules[f.rule].codes) for f in findings)


def test_a_rule_on_several_fields_predicts_the_codes_of_the_field_it_names() -> None:
    short = good_with(
        campaign_campaignDescription="Reminders.",
        campaign_messageSamples=samples("Acme Dental: hi!"),
    )
    found = [(f.field, f.provider_codes) for f in preflight(short).findings]
    assert ("campaign.campaignDescription", ("30886",)) in found
    assert ("campaign.messageSamples.0", ("30893",)) in found


def test_an_unsecured_or_shortened_link_predicts_30892() -> None:
    changes, _ = FIRES["link.unsecured"]
    report = preflight(good_with(**changes))
    assert ("link.unsecured", ("30892",)) in [(f.rule, f.provider_codes) for f in report.findings]


def test_every_rule_cites_a_public_https_source() -> None:
    assert all(rule.sources for rule in RULES)
    assert all(url.startswith("https://") for rule in RULES for url in rule.sources)


def test_provider_codes_are_numeric_strings() -> None:
    assert all(code.isdigit() for rule in RULES for code in rule.codes)


def test_the_sweepstake_use_case_is_named_as_likely_refused() -> None:
    payload = good_with(campaign_useCaseType="SWEEPSTAKE")
    assert findings_of(payload, "content.gambling") == [("campaign.useCaseType", "error")]


def test_a_declared_phone_that_no_sample_shows_fires_the_embedded_phone_rule() -> None:
    payload = good_with(campaign_embeddedPhone=True)
    assert findings_of(payload, "sample.embedded_phone") == [("campaign.embeddedPhone", "error")]


def test_unanswered_yes_no_questions_are_asked_for_and_break_no_rule() -> None:
    # Issue 14 may store unanswered questions as null: only "field.required" speaks of them.
    flags = ("numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent")
    report = preflight(good_with(**{f"campaign_{flag}": None for flag in flags}))
    assert {(f.rule, f.field) for f in report.findings} == {
        ("field.required", f"campaign.{flag}") for flag in flags
    }


def test_without_other_connections_no_rule_across_connections_fires() -> None:
    changes, _ = FIRES["account.ein_company_mismatch"]
    assert findings_of(good_with(), "account.ein_company_mismatch") == []
    assert findings_of(good_with(), "account.ein_company_mismatch", changes["others"])


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
    examples = [example(changes) for changes, _ in FIRES.values()]
    reports = [preflight(payload, others=others) for payload, others in examples]
    messages = [f.message for report in reports for f in report.findings]
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


@given(compliance_payloads, st.lists(st.one_of(st.none(), compliance_payloads), max_size=3))
def test_any_drafts_across_connections_get_findings_with_their_rules_codes(
    payload: dict[str, Any], others: list[dict[str, Any] | None]
) -> None:
    rules = {rule.id: rule for rule in RULES}
    report = preflight(payload, others=others)
    assert all(f.provider_codes == rules[f.rule].codes_for(f.field) for f in report.findings)


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
