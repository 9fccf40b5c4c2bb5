# ruff: noqa: E501  (the messages are kept whole, as the UI shows them)
"""The words of every preflight finding, rule by rule, on the example that fires it (the
examples of test_preflight.FIRES). The UI shows these messages as they are: a change of
wording is a visible change and is made here on purpose, never by accident."""

from __future__ import annotations

from typing import Any

import pytest

from domain.compliance.preflight import preflight
from tests.support.compliance_payloads import DELETE, GOOD, good_with
from tests.unit.test_preflight import FIRES, example

SAMPLES = GOOD["campaign"]["messageSamples"]
SAMPLE = SAMPLES[0]

MESSAGES: dict[str, list[tuple[str, str, str]]] = {
    "field.required": [
        ("brand.companyName", "error", "Fill in this field: registration needs it.")
    ],
    "text.min_length": [
        (
            "campaign.campaignDescription",
            "error",
            "Likely to be refused: shorter than 40 characters. Describe the campaign's purpose.",
        )
    ],
    "format.e164": [
        (
            "brand.contactPhone",
            "error",
            "Enter a valid number in international E.164 form: + and country code, no spaces (e.g. +14155550123).",
        )
    ],
    "format.email": [
        (
            "brand.contactEmail",
            "error",
            "Enter a valid email address (e.g. compliance@example.com).",
        )
    ],
    "format.https_url": [
        (
            "campaign.privacyPolicyUrl",
            "error",
            "Enter a full, public https:// address (e.g. https://www.example.com/privacy).",
        )
    ],
    "format.ein": [
        (
            "brand.registrationNumber",
            "error",
            "Enter the US Employer Identification Number: 9 digits as NN-NNNNNNN (the dash is optional).",
        )
    ],
    "format.us_state": [
        ("brand.state", "error", "Use the 2-letter USPS code of the state in capitals (e.g. CA).")
    ],
    "format.us_zip": [
        ("brand.zipCode", "error", "Use the 5-digit US ZIP code (without the +4 extension).")
    ],
    "format.country": [
        (
            "brand.country",
            "error",
            "Use the ISO 3166 two-letter country code in capitals (e.g. US).",
        )
    ],
    "keywords.format": [
        (
            "campaign.optOutKeywords",
            "error",
            "Write keywords as capital letters and digits separated by commas (e.g. STOP,QUIT).",
        )
    ],
    "opt_out.keywords_include_stop": [
        ("campaign.optOutKeywords", "error", "Include STOP among the opt-out keywords.")
    ],
    "help.keywords_include_help": [
        ("campaign.helpKeywords", "error", "Include HELP among the help keywords.")
    ],
    "samples.min_distinct": [
        (
            "campaign.messageSamples",
            "error",
            "Likely to be refused: registration needs at least 2 different message samples. Add samples that show the kinds of messages you send.",
        )
    ],
    "sample.names_brand": [
        (
            "campaign.messageSamples.0",
            "error",
            "Likely to be refused: the sample does not name the brand. Start it with the brand's display name or company name, as subscribers will see it.",
        )
    ],
    "sample.url_shortener": [
        (
            "campaign.messageSamples.0",
            "error",
            "Likely to be refused: the sample links through a public URL shortener. Use a full link on a domain the brand owns.",
        )
    ],
    "sample.embedded_link": [
        (
            "campaign.embeddedLink",
            "error",
            "A message sample contains a link: set embedded link to yes, or remove the link.",
        )
    ],
    "sample.embedded_phone": [
        (
            "campaign.embeddedPhone",
            "error",
            "A message sample contains a phone number: set embedded phone to yes, or remove the number.",
        )
    ],
    "opt_in.names_brand": [
        ("campaign.optInMessage", "error", "Name the brand in the opt-in confirmation.")
    ],
    "opt_in.message_frequency": [
        (
            "campaign.optInMessage",
            "error",
            "State the message frequency in the opt-in confirmation (e.g. 'Msg frequency varies' or 'Up to 4 msgs/month').",
        )
    ],
    "opt_in.data_rates": [
        (
            "campaign.optInMessage",
            "error",
            "Include the disclosure 'Msg & data rates may apply' in the opt-in confirmation.",
        )
    ],
    "opt_out.confirms_stop": [
        (
            "campaign.optOutMessage",
            "error",
            "Confirm the STOP request in the opt-out reply: say that the subscriber is unsubscribed and will receive no more messages.",
        )
    ],
    "help.mentions_help_or_contact": [
        (
            "campaign.helpMessage",
            "error",
            "Say in the help reply how to get help: mention HELP or give a contact (phone number, email address or website).",
        )
    ],
    "message_flow.describes_consent": [
        (
            "campaign.messageFlow",
            "warning",
            "Describe how consent is collected: where subscribers opt in (web form, keyword, checkbox, in person) and what they agree to.",
        )
    ],
    "brand.sole_proprietor_type": [
        (
            "brand.brandType",
            "error",
            "Entity and brand type disagree: a sole proprietor uses the SOLE_PROPRIETOR brand type, and only a sole proprietor does.",
        )
    ],
    "brand.sole_proprietor_registration_number": [
        (
            "brand.registrationNumber",
            "error",
            "A sole proprietor registers without a tax id: leave the registration number empty.",
        )
    ],
    "campaign.sole_proprietor_use_case": [
        (
            "campaign.useCaseType",
            "error",
            "Brand type and use case disagree: a sole-proprietor brand registers the SOLE_PROPRIETOR use case, and only such a brand can.",
        )
    ],
    "brand.public_profit_email_domain": [
        (
            "brand.contactEmail",
            "error",
            "A publicly traded company is verified by email on its own domain: use a contact email on the website's domain.",
        )
    ],
    "terms.accepted": [
        (
            "campaign.termsAndConditions",
            "error",
            "Accept the terms and conditions: registration cannot be submitted without it.",
        )
    ],
}


@pytest.mark.parametrize("rule", list(MESSAGES))
def test_each_rule_says_what_to_fix_in_its_own_words(rule: str) -> None:
    changes, _ = FIRES[rule]
    found = [
        (f.field, f.severity, f.message)
        for f in preflight(good_with(**changes)).findings
        if f.rule == rule
    ]
    assert found == MESSAGES[rule]


def test_the_rules_worded_here_are_rules_of_the_preflight() -> None:
    # The exact words of the first 28 rules; preflight v2's rules are held below by theirs.
    assert set(MESSAGES) <= set(FIRES)


def test_every_rule_fires_on_its_example_with_words_of_its_own() -> None:
    words: dict[str, set[str]] = {}
    for rule, (changes, _) in FIRES.items():
        payload, others = example(changes)
        messages = {f.message for f in preflight(payload, others=others).findings if f.rule == rule}
        assert messages, rule
        assert all(len(m) > 20 for m in messages), rule
        words[rule] = messages
    shared = [(a, b) for a in words for b in words if a < b and words[a] & words[b]]
    assert shared == []


# Each minimum length, the yes/no questions, the declared-but-missing link and the keyword
# fields, with the words the operator reads (examples beyond test_preflight.FIRES).
MORE: list[tuple[dict[str, Any], str, str, str]] = [
    (
        {"campaign_messageFlow": "Too short."},
        "campaign.messageFlow",
        "text.min_length",
        "Likely to be refused: shorter than 40 characters. Describe step by step how subscribers opt in.",
    ),
    (
        {"campaign_optInMessage": "Short."},
        "campaign.optInMessage",
        "text.min_length",
        "Likely to be refused: shorter than 20 characters. Write the full confirmation message.",
    ),
    (
        {"campaign_optOutMessage": "Short."},
        "campaign.optOutMessage",
        "text.min_length",
        "Likely to be refused: shorter than 20 characters. Write the full opt-out confirmation.",
    ),
    (
        {"campaign_helpMessage": "Short."},
        "campaign.helpMessage",
        "text.min_length",
        "Likely to be refused: shorter than 20 characters. Write the full help reply.",
    ),
    (
        {"campaign_numberPooling": DELETE},
        "campaign.numberPooling",
        "field.required",
        "Answer this yes/no question: registration needs an explicit answer.",
    ),
    (
        {"campaign_embeddedLink": True},
        "campaign.embeddedLink",
        "sample.embedded_link",
        "Embedded link is yes but no message sample shows a link: add a sample with the link as it will be sent, or set embedded link to no.",
    ),
    (
        {"campaign_optInKeywords": "join,start"},
        "campaign.optInKeywords",
        "keywords.format",
        "Write keywords as capital letters and digits separated by commas (e.g. STOP,QUIT).",
    ),
    (
        {"campaign_helpKeywords": "help,info"},
        "campaign.helpKeywords",
        "keywords.format",
        "Write keywords as capital letters and digits separated by commas (e.g. STOP,QUIT).",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "rule", "message"), MORE, ids=[f"{m[2]}:{m[1]}" for m in MORE]
)
def test_each_field_of_a_rule_gets_its_own_words(
    changes: dict[str, Any], field: str, rule: str, message: str
) -> None:
    findings = preflight(good_with(**changes)).findings
    assert (field, message) in [(f.field, f.message) for f in findings if f.rule == rule]


def test_a_region_that_never_permits_replies_says_so_as_a_warning() -> None:
    report = preflight(GOOD, country="FR")
    assert report.ready is True
    assert [(f.field, f.rule, f.severity, f.message) for f in report.findings] == [
        (
            "countryCode",
            "region.a2p_not_permitted",
            "warning",
            "Carriers in this country block application-to-person messages from these numbers: agent replies cannot be sent, whatever the registration.",
        )
    ]


def test_findings_follow_the_form_with_sample_slots_in_order() -> None:
    samples = GOOD["campaign"]["messageSamples"]
    payload = good_with(
        brand_contactEmail="x",
        campaign_campaignDescription="short",
        campaign_messageSamples=[
            samples[0],
            "Too short",
            samples[1],
            "https://bit.ly/x Acme Dental",
        ],
        campaign_optInMessage="Short.",
    )
    assert [(f.field, f.rule) for f in preflight(payload).findings] == [
        ("brand.contactEmail", "format.email"),
        ("campaign.campaignDescription", "text.min_length"),
        ("campaign.messageSamples.1", "text.min_length"),
        ("campaign.messageSamples.1", "sample.names_brand"),
        ("campaign.messageSamples.3", "sample.url_shortener"),
        ("campaign.optInMessage", "text.min_length"),
        ("campaign.optInMessage", "opt_in.names_brand"),
        ("campaign.optInMessage", "opt_in.message_frequency"),
        ("campaign.optInMessage", "opt_in.data_rates"),
        ("campaign.optInMessage", "opt_in.help_and_stop"),
        ("campaign.embeddedLink", "sample.embedded_link"),
    ]


def test_a_sample_problem_comes_after_the_samples_as_a_whole_and_says_what_to_fix() -> None:
    payload = good_with(campaign_messageSamples=["Too short", " too short", None])
    findings = preflight(payload).findings
    assert [(f.field, f.rule) for f in findings] == [
        ("campaign.messageSamples", "samples.min_distinct"),
        ("campaign.messageSamples", "samples.opt_out_wording"),
        ("campaign.messageSamples.0", "text.min_length"),
        ("campaign.messageSamples.0", "sample.names_brand"),
        ("campaign.messageSamples.1", "text.min_length"),
        ("campaign.messageSamples.1", "sample.names_brand"),
    ]
    assert findings[2].message == (
        "Likely to be refused: a sample shorter than 20 characters. Write it as a complete"
        " message a subscriber would receive."
    )
    # Empty sample slots are the samples rule's business, never "required field" findings.
    assert [f for f in findings if f.rule == "field.required"] == []


def test_one_filled_sample_is_reported_by_the_samples_rule_not_as_required_fields() -> None:
    payload = good_with(campaign_messageSamples=[SAMPLE])
    assert [f for f in preflight(payload).findings if f.rule == "field.required"] == []


def findings_of(payload: dict[str, Any], rule: str) -> list[str]:
    return [f.field for f in preflight(payload).findings if f.rule == rule]


def test_a_help_reply_giving_only_a_phone_number_is_enough() -> None:
    payload = good_with(campaign_helpMessage="Acme Dental: questions? Call (415) 555-2671.")
    assert findings_of(payload, "help.mentions_help_or_contact") == []


@pytest.mark.parametrize(
    "sample",
    [
        "Acme Dental: book your visit at bit.ly/3xYz today",  # no scheme
        "Acme Dental: book your visit at https://m.bit.ly/3xYz",  # a shortener's subdomain
        "Acme Dental: all the details are at bit.ly.",  # the link ends the sentence
    ],
    ids=["no-scheme", "subdomain", "sentence-end"],
)
def test_a_shortened_link_is_recognised_however_it_is_written(sample: str) -> None:
    payload = good_with(campaign_messageSamples=[sample, SAMPLES[1]], campaign_embeddedLink=True)
    assert findings_of(payload, "sample.url_shortener") == ["campaign.messageSamples.0"]


@pytest.mark.parametrize(
    "website", ["https://localhost/privacy", "https://example./privacy", "https:///privacy"]
)
def test_a_website_without_a_dotted_host_is_not_an_https_url(website: str) -> None:
    assert findings_of(good_with(brand_website=website), "format.https_url") == ["brand.website"]


def test_a_contact_phone_with_spaces_is_not_e164() -> None:
    payload = good_with(brand_contactPhone="+1 415 555 2671")
    assert findings_of(payload, "format.e164") == ["brand.contactPhone"]
