# ruff: noqa: E501  (the messages are kept whole, as the UI shows them)
"""The words of every preflight finding, rule by rule, on the example that fires it (the
examples of test_preflight.FIRES). The UI shows these messages as they are: a change of
wording is a visible change and is made here on purpose, never by accident."""

from __future__ import annotations

import pytest

from domain.preflight import preflight
from tests.compliance_payloads import good_with
from tests.unit.test_preflight import FIRES

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


def test_every_rule_has_its_words_here() -> None:
    assert set(MESSAGES) == set(FIRES)
