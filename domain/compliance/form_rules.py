"""The preflight's rules of form and wording (those of its first version; ids unchanged).

Each rule is declared with its check: id, severity, summary, the provider reason codes a
finding predicts, and the public source it follows (``domain.compliance.rules``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from domain.compliance.progress import required_fields
from domain.compliance.recognisers import (
    CONSENT,
    DATA_RATES,
    FREQUENCY,
    OPT_OUT_CONFIRMED,
    WORD_HELP,
    WORD_STOP,
    email_domain,
    emails_in,
    https_host,
    phone_numbers_in,
    shortened,
    urls_in,
    valid_e164,
)
from domain.compliance.rules import (
    AWS_OPT_IN_CHECKLIST,
    TCR_DESIGN,
    TELNYX_CAMPAIGN,
    TWILIO_BEST_PRACTICES,
    TWILIO_BRAND_INFO,
    Hit,
    Payload,
    RuleBook,
    twilio_error,
)

MIN_DESCRIPTION = 40
MIN_MESSAGE_FLOW = 40
MIN_SAMPLE = 20
MIN_REPLY_MESSAGE = 20
MIN_DISTINCT_SAMPLES = 2

_EIN = re.compile(r"[0-9]{2}-?[0-9]{7}")
_ZIP = re.compile(r"[0-9]{5}")
_KEYWORD = re.compile(r"[A-Z0-9]+")
# USPS codes: the states, DC, the territories and the military "states".
# fmt: off
_US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
})
# fmt: on

book = RuleBook()


def _keywords(text: str) -> list[str]:
    return [keyword.strip() for keyword in text.split(",")]


_FLAGS = ("numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent")


@book.rule(
    "field.required",
    "error",
    "A field registration needs is empty.",
    source=TCR_DESIGN,
)
def _required(p: Payload) -> Iterator[Hit]:
    # Sample slots are judged by samples.min_distinct and the terms by terms.accepted.
    for field in required_fields(p.raw):
        if field.startswith("campaign.messageSamples.") or field == "campaign.termsAndConditions":
            continue
        if field.removeprefix("campaign.") in _FLAGS:
            yield field, "Answer this yes/no question: registration needs an explicit answer."
        else:
            yield field, "Fill in this field: registration needs it."


@book.rule(
    "text.min_length",
    "error",
    "Text shorter than registration's minimum.",
    field_codes={
        "campaign.campaignDescription": ("30886",),
        "campaign.messageSamples": ("30893",),
        "campaign.optInMessage": ("30540",),
        "campaign.optOutMessage": ("30887",),
        "campaign.helpMessage": ("30890",),
    },
    source=(twilio_error("30886"), twilio_error("30893")),
)
def _min_lengths(p: Payload) -> Iterator[Hit]:
    limits = (
        ("campaignDescription", MIN_DESCRIPTION, "Describe the campaign's purpose"),
        ("messageFlow", MIN_MESSAGE_FLOW, "Describe step by step how subscribers opt in"),
        ("optInMessage", MIN_REPLY_MESSAGE, "Write the full confirmation message"),
        ("optOutMessage", MIN_REPLY_MESSAGE, "Write the full opt-out confirmation"),
        ("helpMessage", MIN_REPLY_MESSAGE, "Write the full help reply"),
    )
    for name, minimum, advice in limits:
        text = p.campaign_text(name)
        if text and len(text) < minimum:
            yield (
                f"campaign.{name}",
                f"Likely to be refused: shorter than {minimum} characters. {advice}.",
            )
    for index, sample in p.samples:
        if len(sample) < MIN_SAMPLE:
            yield (
                f"campaign.messageSamples.{index}",
                f"Likely to be refused: a sample shorter than {MIN_SAMPLE} characters. "
                "Write it as a complete message a subscriber would receive.",
            )


@book.rule(
    "format.e164",
    "error",
    "Contact phone is not a valid E.164 number.",
    codes=("30701",),
    source=twilio_error("30701"),
)
def _e164(p: Payload) -> Iterator[Hit]:
    phone = p.brand_text("contactPhone")
    if phone and not valid_e164(phone):
        yield (
            "brand.contactPhone",
            "Enter a valid number in international E.164 form: + and country code, no spaces "
            "(e.g. +14155550123).",
        )


@book.rule(
    "format.email",
    "error",
    "Contact email is not a valid address.",
    codes=("30701",),
    source=twilio_error("30701"),
)
def _email(p: Payload) -> Iterator[Hit]:
    email = p.brand_text("contactEmail")
    if email and email_domain(email) is None:
        yield "brand.contactEmail", "Enter a valid email address (e.g. compliance@example.com)."


@book.rule(
    "format.https_url",
    "error",
    "Website or privacy policy is not an https URL.",
    source=TWILIO_BEST_PRACTICES,
)
def _https(p: Payload) -> Iterator[Hit]:
    for field, value in (
        ("brand.website", p.brand_text("website")),
        ("campaign.privacyPolicyUrl", p.campaign_text("privacyPolicyUrl")),
    ):
        if value and https_host(value) is None:
            yield (
                field,
                "Enter a full, public https:// address (e.g. https://www.example.com/privacy).",
            )


@book.rule(
    "format.ein",
    "error",
    "Registration number is not a US EIN (NN-NNNNNNN).",
    codes=("30701",),
    source=twilio_error("30701"),
)
def _ein(p: Payload) -> Iterator[Hit]:
    number = p.brand_text("registrationNumber")
    if number and p.us_formats and not p.sole_proprietor and not _EIN.fullmatch(number):
        yield (
            "brand.registrationNumber",
            "Enter the US Employer Identification Number: 9 digits as NN-NNNNNNN "
            "(the dash is optional).",
        )


@book.rule(
    "format.us_state",
    "error",
    "State is not a 2-letter USPS code.",
    codes=("30701",),
    source=twilio_error("30701"),
)
def _us_state(p: Payload) -> Iterator[Hit]:
    state = p.brand_text("state")
    if state and p.us_formats and state not in _US_STATES:
        yield "brand.state", "Use the 2-letter USPS code of the state in capitals (e.g. CA)."


@book.rule(
    "format.us_zip",
    "error",
    "ZIP code is not 5 digits.",
    codes=("30701",),
    source=twilio_error("30701"),
)
def _us_zip(p: Payload) -> Iterator[Hit]:
    zip_code = p.brand_text("zipCode")
    if zip_code and p.us_formats and not _ZIP.fullmatch(zip_code):
        yield "brand.zipCode", "Use the 5-digit US ZIP code (without the +4 extension)."


@book.rule(
    "format.country",
    "error",
    "Country is not an ISO 3166 alpha-2 code.",
    codes=("30729",),
    source=twilio_error("30729"),
)
def _country(p: Payload) -> Iterator[Hit]:
    country = p.brand_text("country")
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        yield "brand.country", "Use the ISO 3166 two-letter country code in capitals (e.g. US)."


@book.rule(
    "keywords.format",
    "error",
    "Keywords are not capitals/digits, comma-separated.",
    source=TELNYX_CAMPAIGN,
)
def _keyword_format(p: Payload) -> Iterator[Hit]:
    for name in ("optInKeywords", "optOutKeywords", "helpKeywords"):
        text = p.campaign_text(name)
        if text and not all(_KEYWORD.fullmatch(k) for k in _keywords(text)):
            yield (
                f"campaign.{name}",
                "Write keywords as capital letters and digits separated by commas "
                "(e.g. STOP,QUIT).",
            )


@book.rule(
    "opt_out.keywords_include_stop",
    "error",
    "Opt-out keywords lack STOP.",
    codes=("30887",),
    source=twilio_error("30887"),
)
def _stop_keyword(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("optOutKeywords")
    if text and "STOP" not in [k.upper() for k in _keywords(text)]:
        yield "campaign.optOutKeywords", "Include STOP among the opt-out keywords."


@book.rule(
    "help.keywords_include_help",
    "error",
    "Help keywords lack HELP.",
    codes=("30890",),
    source=twilio_error("30890"),
)
def _help_keyword(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("helpKeywords")
    if text and "HELP" not in [k.upper() for k in _keywords(text)]:
        yield "campaign.helpKeywords", "Include HELP among the help keywords."


@book.rule(
    "samples.min_distinct",
    "error",
    "Fewer than 2 distinct message samples.",
    codes=("30893",),
    source=twilio_error("30893"),
)
def _distinct_samples(p: Payload) -> Iterator[Hit]:
    distinct = {" ".join(sample.split()).casefold() for _, sample in p.samples}
    if len(distinct) < MIN_DISTINCT_SAMPLES:
        yield (
            "campaign.messageSamples",
            f"Likely to be refused: registration needs at least {MIN_DISTINCT_SAMPLES} "
            "different message samples. Add samples that show the kinds of messages you send.",
        )


@book.rule(
    "sample.names_brand",
    "error",
    "A message sample does not name the brand.",
    codes=("30893",),
    source=(twilio_error("30893"), TELNYX_CAMPAIGN),
)
def _samples_name_brand(p: Payload) -> Iterator[Hit]:
    if not p.brand_names:
        return
    for index, sample in p.samples:
        if not p.names_brand(sample):
            yield (
                f"campaign.messageSamples.{index}",
                "Likely to be refused: the sample does not name the brand. Start it with the "
                "brand's display name or company name, as subscribers will see it.",
            )


@book.rule(
    "sample.url_shortener",
    "error",
    "A sample links through a public shortener.",
    codes=("30892",),
    source=twilio_error("30892"),
)
def _shorteners(p: Payload) -> Iterator[Hit]:
    for index, sample in p.samples:
        if shortened(sample):
            yield (
                f"campaign.messageSamples.{index}",
                "Likely to be refused: the sample links through a public URL shortener. "
                "Use a full link on a domain the brand owns.",
            )


@book.rule(
    "sample.embedded_link",
    "error",
    "Embedded-link flag disagrees with the samples.",
    source=TELNYX_CAMPAIGN,
)
def _embedded_link(p: Payload) -> Iterator[Hit]:
    flag = p.flag("embeddedLink")
    has_link = any(urls_in(sample) for _, sample in p.samples)
    if flag is False and has_link:
        yield (
            "campaign.embeddedLink",
            "A message sample contains a link: set embedded link to yes, or remove the link.",
        )
    elif flag is True and p.samples and not has_link:
        yield (
            "campaign.embeddedLink",
            "Embedded link is yes but no message sample shows a link: add a sample with the "
            "link as it will be sent, or set embedded link to no.",
        )


@book.rule(
    "sample.embedded_phone",
    "error",
    "Embedded-phone flag disagrees with the samples.",
    codes=("30889",),
    source=twilio_error("30889"),
)
def _embedded_phone(p: Payload) -> Iterator[Hit]:
    flag = p.flag("embeddedPhone")
    has_phone = any(phone_numbers_in(s) for _, s in p.samples)
    if flag is False and has_phone:
        yield (
            "campaign.embeddedPhone",
            "A message sample contains a phone number: set embedded phone to yes, or remove "
            "the number.",
        )
    elif flag is True and p.samples and not has_phone:
        yield (
            "campaign.embeddedPhone",
            "Embedded phone is yes but no message sample shows a phone number: add a sample "
            "with the number as it will be sent, or set embedded phone to no.",
        )


@book.rule(
    "opt_in.names_brand",
    "error",
    "Opt-in confirmation does not name the brand.",
    codes=("30540",),
    source=(twilio_error("30540"), AWS_OPT_IN_CHECKLIST),
)
def _opt_in_names_brand(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("optInMessage")
    if text and p.brand_names and not p.names_brand(text):
        yield "campaign.optInMessage", "Name the brand in the opt-in confirmation."


@book.rule(
    "opt_in.message_frequency",
    "error",
    "Opt-in confirmation lacks message frequency.",
    codes=("30540",),
    source=(twilio_error("30540"), AWS_OPT_IN_CHECKLIST),
)
def _opt_in_frequency(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("optInMessage")
    if text and not FREQUENCY.search(text):
        yield (
            "campaign.optInMessage",
            "State the message frequency in the opt-in confirmation (e.g. 'Msg frequency "
            "varies' or 'Up to 4 msgs/month').",
        )


@book.rule(
    "opt_in.data_rates",
    "error",
    "Opt-in confirmation lacks 'Msg & data rates may apply'.",
    codes=("30540",),
    source=(twilio_error("30540"), AWS_OPT_IN_CHECKLIST),
)
def _opt_in_rates(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("optInMessage")
    if text and not DATA_RATES.search(text):
        yield (
            "campaign.optInMessage",
            "Include the disclosure 'Msg & data rates may apply' in the opt-in confirmation.",
        )


@book.rule(
    "opt_out.confirms_stop",
    "error",
    "Opt-out reply does not confirm the opt-out.",
    codes=("30887",),
    source=twilio_error("30887"),
)
def _opt_out_confirms(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("optOutMessage")
    if text and not (WORD_STOP.search(text) or OPT_OUT_CONFIRMED.search(text)):
        yield (
            "campaign.optOutMessage",
            "Confirm the STOP request in the opt-out reply: say that the subscriber is "
            "unsubscribed and will receive no more messages.",
        )


@book.rule(
    "help.mentions_help_or_contact",
    "error",
    "Help reply gives no help or contact.",
    codes=("30890",),
    source=twilio_error("30890"),
)
def _help_contact(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("helpMessage")
    if text and not (
        WORD_HELP.search(text) or phone_numbers_in(text) or emails_in(text) or urls_in(text)
    ):
        yield (
            "campaign.helpMessage",
            "Say in the help reply how to get help: mention HELP or give a contact "
            "(phone number, email address or website).",
        )


@book.rule(
    "message_flow.describes_consent",
    "warning",
    "Message flow does not say how consent is collected.",
    codes=("30896",),
    source=twilio_error("30896"),
)
def _flow_consent(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("messageFlow")
    if text and not CONSENT.search(text):
        yield (
            "campaign.messageFlow",
            "Describe how consent is collected: where subscribers opt in (web form, keyword, "
            "checkbox, in person) and what they agree to.",
        )


@book.rule(
    "brand.political_campaign_verify",
    "error",
    "A POLITICAL brand without a Campaign Verify token.",
    codes=("30826",),
    source=(twilio_error("30826"), "https://www.campaignverify.org/"),
)
def _political_campaign_verify(p: Payload) -> Iterator[Hit]:
    if p.brand_text("vertical") == "POLITICAL" and not p.brand_text("campaignVerifyToken"):
        yield (
            "brand.campaignVerifyToken",
            "Political messages need a Campaign Verify token: get one at campaignverify.org "
            "and enter it in the brand (it is sent to the provider as a vetting).",
        )


@book.rule(
    "brand.sole_proprietor_type",
    "error",
    "Sole-proprietor entity and brand type disagree.",
    source=TWILIO_BRAND_INFO,
)
def _sole_proprietor_type(p: Payload) -> Iterator[Hit]:
    entity, brand_type = p.brand_text("entity"), p.brand_text("brandType")
    if entity and brand_type and (entity == "SOLE_PROPRIETOR") != (brand_type == "SOLE_PROPRIETOR"):
        yield (
            "brand.brandType",
            "Entity and brand type disagree: a sole proprietor uses the SOLE_PROPRIETOR brand "
            "type, and only a sole proprietor does.",
        )


@book.rule(
    "brand.sole_proprietor_registration_number",
    "error",
    "A sole proprietor with a tax id.",
    source=TWILIO_BRAND_INFO,
)
def _sole_proprietor_number(p: Payload) -> Iterator[Hit]:
    if p.sole_proprietor and p.brand_text("registrationNumber"):
        yield (
            "brand.registrationNumber",
            "A sole proprietor registers without a tax id: leave the registration number empty.",
        )


@book.rule(
    "campaign.sole_proprietor_use_case",
    "error",
    "Sole-proprietor brand type and use case disagree.",
    source=TWILIO_BRAND_INFO,
)
def _sole_proprietor_use_case(p: Payload) -> Iterator[Hit]:
    brand_type, use_case = p.brand_text("brandType"), p.campaign_text("useCaseType")
    if (
        brand_type
        and use_case
        and (brand_type == "SOLE_PROPRIETOR") != (use_case == "SOLE_PROPRIETOR")
    ):
        yield (
            "campaign.useCaseType",
            "Brand type and use case disagree: a sole-proprietor brand registers the "
            "SOLE_PROPRIETOR use case, and only such a brand can.",
        )


@book.rule(
    "brand.public_profit_email_domain",
    "error",
    "Public company email off the website's domain.",
    source=TWILIO_BRAND_INFO,
)
def _publicemail_domain(p: Payload) -> Iterator[Hit]:
    if p.brand_text("entity") != "PUBLIC_PROFIT":
        return
    domain = email_domain(p.brand_text("contactEmail"))
    host = https_host(p.brand_text("website"))
    if domain is None or host is None:
        return  # the format rules report these
    host = host.removeprefix("www.")
    if not (domain == host or domain.endswith("." + host) or host.endswith("." + domain)):
        yield (
            "brand.contactEmail",
            "A publicly traded company is verified by email on its own domain: use a contact "
            "email on the website's domain.",
        )


@book.rule(
    "terms.accepted",
    "error",
    "Terms and conditions not accepted.",
    source=TCR_DESIGN,
)
def _terms(p: Payload) -> Iterator[Hit]:
    if p.flag("termsAndConditions") is not True:
        yield (
            "campaign.termsAndConditions",
            "Accept the terms and conditions: registration cannot be submitted without it.",
        )
