"""The preflight's rules from the providers' published rejection reasons that need only the
form: links, disclosures of the call to action, replies, placeholder text, prohibited
content, attribute flags, brand identity and the providers' field limits.

Each rule is declared with its check: id, severity, summary, the provider reason codes a
finding predicts (Twilio's error codes; Telnyx and AWS publish reasons without codes), and
the public source it follows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from domain.compliance.recognisers import (
    AGE_GATED,
    COMPANY_SUFFIX,
    CONSENT,
    DATA_RATES,
    FREQUENCY,
    LENDING,
    OPT_OUT_INSTRUCTION,
    OTHER_CHANNELS,
    PO_BOX,
    PRIVACY_POLICY,
    PURPOSE,
    SMS_OR_TEXT,
    WORD_HELP,
    WORD_STOP,
    email_domain,
    emails_in,
    free_mail,
    http_links_in,
    mostly_non_latin,
    phone_numbers_in,
    placeholder_in,
    without_links,
)
from domain.compliance.rules import (
    AWS_OPT_IN_CHECKLIST,
    TELNYX_CAMPAIGN,
    TELNYX_TROUBLESHOOTING,
    TWILIO_FORBIDDEN,
    Check,
    Hit,
    Payload,
    RuleBook,
    twilio_error,
)

book = RuleBook()

_REPLIES = ("optInMessage", "optOutMessage", "helpMessage")
_ALL_TEXT = ("campaignDescription", "messageFlow", "messageSamples", *_REPLIES)


# --- links and samples --------------------------------------------------------------------


@book.rule(
    "link.unsecured",
    "error",
    "A sample or the message flow links over http:// (not https).",
    codes=("30892",),
    source=twilio_error("30892"),
)
def _unsecured_links(p: Payload) -> Iterator[Hit]:
    for field, text in p.texts("messageFlow", "messageSamples"):
        if http_links_in(text):
            yield field, "Use secure https:// links: carriers refuse unsecured http:// links."


@book.rule(
    "samples.opt_out_wording",
    "error",
    "No message sample tells how to opt out.",
    codes=("30893",),
    source=(twilio_error("30893"), TELNYX_CAMPAIGN, AWS_OPT_IN_CHECKLIST),
)
def _samples_opt_out(p: Payload) -> Iterator[Hit]:
    if p.samples and not any(OPT_OUT_INSTRUCTION.search(s) for _, s in p.samples):
        yield (
            "campaign.messageSamples",
            "Add opt-out wording to at least one sample (e.g. 'Reply STOP to opt out').",
        )


@book.rule(
    "text.placeholder",
    "error",
    "Test or filler text, or a template field not in [brackets].",
    codes=("30534", "30893"),
    source=twilio_error("30893"),
)
def _placeholders(p: Payload) -> Iterator[Hit]:
    for field, text in p.texts("messageSamples", *_REPLIES):
        if placeholder_in(text):
            yield (
                field,
                "Write the message as it will be sent: no test or filler text, and template "
                "fields in square brackets (e.g. [first name]).",
            )


@book.rule(
    "text.not_english",
    "error",
    "Campaign text mostly outside the Latin script (not English).",
    codes=("30910",),
    source=twilio_error("30910"),
)
def _not_english(p: Payload) -> Iterator[Hit]:
    for field, text in p.texts(*_ALL_TEXT):
        if mostly_non_latin(text):
            yield (
                field,
                "Write the campaign in English (add an English translation of messages sent "
                "in another language).",
            )


# --- replies --------------------------------------------------------------------------------


@book.rule(
    "opt_in.help_and_stop",
    "error",
    "Opt-in confirmation lacks HELP and STOP instructions.",
    codes=("30540",),
    source=twilio_error("30540"),
)
def _opt_in_help_stop(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("optInMessage")
    if text and not (WORD_HELP.search(text) and WORD_STOP.search(text)):
        yield (
            "campaign.optInMessage",
            "Tell subscribers in the opt-in confirmation how to get help and how to opt out "
            "(e.g. 'Reply HELP for help, STOP to cancel').",
        )


@book.rule(
    "opt_out.names_brand",
    "error",
    "Opt-out reply does not name the brand.",
    codes=("30887",),
    source=twilio_error("30887"),
)
def _opt_out_names_brand(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("optOutMessage")
    if text and p.brand_names and not p.names_brand(text):
        yield "campaign.optOutMessage", "Name the brand in the opt-out reply."


@book.rule(
    "help.names_brand_and_contact",
    "error",
    "Help reply lacks the brand name or a phone number or email.",
    codes=("30890",),
    source=twilio_error("30890"),
)
def _help_brand_contact(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("helpMessage")
    if not text:
        return
    named = p.names_brand(text) or not p.brand_names
    if not (named and (phone_numbers_in(text) or emails_in(text))):
        yield (
            "campaign.helpMessage",
            "Name the brand in the help reply and give a phone number or email address for "
            "support.",
        )


# --- the message flow (call to action) ------------------------------------------------------


def _flow_needs(pattern: re.Pattern[str], message: str, *, in_links: bool = False) -> Check:
    """A check that the message flow, when filled, matches ``pattern`` (outside its links,
    unless ``in_links``: a link's path saying ``/sms`` does not tell subscribers anything)."""

    def check(p: Payload) -> Iterator[Hit]:
        text = p.campaign_text("messageFlow")
        if text and not pattern.search(text if in_links else without_links(text)):
            yield "campaign.messageFlow", message

    return check


_FLOW_DISCLOSURES = (
    (
        "message_flow.purpose",
        "Message flow does not say what the messages are for.",
        "30544",
        PURPOSE,
        "Say in the call to action what the messages are for (e.g. appointment reminders).",
    ),
    (
        "message_flow.frequency",
        "Message flow does not state the message frequency.",
        "30545",
        FREQUENCY,
        "State the message frequency in the call to action (e.g. 'Msg frequency varies').",
    ),
    (
        "message_flow.data_rates",
        "Message flow lacks 'Msg & data rates may apply'.",
        "30551",
        DATA_RATES,
        "Include 'Msg & data rates may apply' in the call to action.",
    ),
    (
        "message_flow.help",
        "Message flow does not mention HELP.",
        "30569",
        WORD_HELP,
        "Tell subscribers in the call to action that they can reply HELP for help.",
    ),
    (
        "message_flow.sms_or_text",
        "Message flow does not say the messages are SMS or text messages.",
        "30570",
        SMS_OR_TEXT,
        "Say in the call to action that subscribers agree to receive text (SMS) messages.",
    ),
    (
        "message_flow.privacy_policy",
        "Message flow does not link the privacy policy.",
        "30896",
        PRIVACY_POLICY,
        "Link the privacy policy in the call to action, where subscribers opt in.",
    ),
)
for _id, _summary, _code, _pattern, _message in _FLOW_DISCLOSURES:
    _source = (twilio_error(_code), AWS_OPT_IN_CHECKLIST)
    # A privacy policy is disclosed by its link ("…/privacy") as well as by words.
    _check = _flow_needs(_pattern, _message, in_links=_pattern is PRIVACY_POLICY)
    book.rule(_id, "error", _summary, codes=(_code,), source=_source)(_check)


@book.rule(
    "consent.bundled_channels",
    "warning",
    "Consent to texts looks bundled with other channels.",
    codes=("30556",),
    source=twilio_error("30556"),
)
def _bundled_consent(p: Payload) -> Iterator[Hit]:
    text = p.campaign_text("messageFlow")
    if text and CONSENT.search(text) and OTHER_CHANNELS.search(text):
        yield (
            "campaign.messageFlow",
            "Collect consent to text messages on its own (a separate, unchecked box), not "
            "together with email, calls or other channels.",
        )


# --- prohibited content ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Category:
    """Content carriers refuse on 10DLC, found by its terms in the samples and the
    description (and by an enum value that names it, where one does)."""

    id: str
    summary: str
    codes: tuple[str, ...]
    source: tuple[str, ...]
    terms: re.Pattern[str]
    message: str
    vertical: str = ""
    use_case: str = ""


def _terms(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?i)\b(?:" + pattern + r")\b")


_CATEGORIES = (
    _Category(
        "content.shaft",
        "Sex, hate, alcohol, firearms or tobacco/vaping content (SHAFT).",
        ("30883",),
        (twilio_error("30883"), TWILIO_FORBIDDEN),
        _terms(
            r"porn\w*|xxx|escorts?|nudes?|sexting|sexy|sex (?:toys?|chat|shop)|"
            r"adult (?:content|entertainment|toys|videos)|hate (?:speech|groups?)|"
            r"alcohol\w*|beers?|wines?|liquor|vodka|whiske?y|tequila|tobacco|cigars?|"
            r"cigarettes?|vap(?:e|es|ing)|e-?cig\w*|nicotine|hookah|firearms?|guns?|"
            r"ammunition|ammo|rifles?|handguns?"
        ),
        "Carriers refuse sex, hate, alcohol, firearms and tobacco or vaping content (SHAFT) "
        "on 10DLC.",
    ),
    _Category(
        "content.cannabis",
        "Cannabis, CBD or other controlled substances.",
        ("30897",),
        (twilio_error("30897"), TWILIO_FORBIDDEN),
        _terms(
            r"cannabis|marijuana|cbd|thc|weed|dispensar(?:y|ies)|hemp|kratom|psilocybin|"
            r"magic mushrooms|delta-?8"
        ),
        "Carriers refuse cannabis, CBD and similar content on 10DLC, even where it is legal.",
    ),
    _Category(
        "content.gambling",
        "Gambling or sweepstakes (GAMBLING vertical, SWEEPSTAKE use case).",
        ("30897",),
        (twilio_error("30897"), TWILIO_FORBIDDEN),
        _terms(
            r"gambl\w*|casinos?|sportsbooks?|betting|place (?:a|your) bets?|wager\w*|poker|"
            r"lotter(?:y|ies)|lotto|sweepstakes?|raffles?|jackpots?|free spins"
        ),
        "Most carriers refuse gambling and sweepstakes on 10DLC, even though the registry "
        "accepts the GAMBLING vertical and the SWEEPSTAKE use case.",
        vertical="GAMBLING",
        use_case="SWEEPSTAKE",
    ),
    _Category(
        "content.high_risk_lending",
        "Payday loans, debt relief or third-party debt collection.",
        ("30897",),
        (twilio_error("30897"), TWILIO_FORBIDDEN),
        _terms(
            r"payday loans?|title loans?|cash advances?|"
            r"debt (?:relief|consolidation|reduction|forgiveness|settlement|collection)|"
            r"student loan forgiveness"
        ),
        "Carriers refuse payday and high-risk loans, debt relief and third-party debt "
        "collection on 10DLC.",
    ),
    _Category(
        "content.credit_repair",
        "Credit repair.",
        ("30950",),
        (twilio_error("30950"), TWILIO_FORBIDDEN),
        _terms(
            r"credit repair|repair your credit|fix your credit|credit restoration|"
            r"(?:boost|raise|improve) your credit(?: score)?|remove negative items"
        ),
        "Carriers refuse credit repair messaging on 10DLC.",
    ),
    _Category(
        "content.crypto_investment",
        "Cryptocurrency, risky investments or get-rich-quick schemes.",
        ("30897",),
        (twilio_error("30897"), TWILIO_FORBIDDEN),
        _terms(
            r"crypto\w*|bitcoin|btc|ethereum|nfts?|forex|day trading|binary options|"
            r"get rich|guaranteed returns?|double your money|investment opportunit(?:y|ies)|"
            r"stock tips|make money fast|passive income"
        ),
        "Carriers refuse cryptocurrency, high-risk investment and get-rich-quick content on 10DLC.",
    ),
)


def _content_check(category: _Category) -> Check:
    def check(p: Payload) -> Iterator[Hit]:
        if category.vertical and p.brand_text("vertical") == category.vertical:
            yield "brand.vertical", category.message
        if category.use_case and p.campaign_text("useCaseType") == category.use_case:
            yield "campaign.useCaseType", category.message
        for field, text in p.texts("campaignDescription", "messageSamples"):
            if category.terms.search(text):
                yield field, category.message

    return check


for _category in _CATEGORIES:
    book.rule(
        _category.id,
        "error",
        _category.summary,
        codes=_category.codes,
        source=_category.source,
    )(_content_check(_category))


# --- attribute flags ------------------------------------------------------------------------


def _mentions(p: Payload, pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(text) for _, text in p.texts("campaignDescription", "messageSamples"))


@book.rule(
    "flags.direct_lending",
    "error",
    "Direct-lending flag disagrees with the campaign's text.",
    codes=("30895",),
    source=twilio_error("30895"),
)
def _direct_lending(p: Payload) -> Iterator[Hit]:
    flag, lending = p.flag("directLending"), _mentions(p, LENDING)
    if flag is False and lending:
        yield (
            "campaign.directLending",
            "The description or a sample speaks of loans or lending: set direct lending to "
            "yes, or remove the lending content.",
        )
    elif flag is True and (p.samples or p.campaign_text("campaignDescription")) and not lending:
        yield (
            "campaign.directLending",
            "Direct lending is yes but nothing in the description or samples speaks of "
            "lending: describe the loan arrangement, or set direct lending to no.",
        )


@book.rule(
    "flags.age_gated",
    "error",
    "Age-gated flag disagrees with the vertical or the campaign's text.",
    codes=("30888",),
    source=twilio_error("30888"),
)
def _age_gated(p: Payload) -> Iterator[Hit]:
    flag = p.flag("ageGatedContent")
    gated = _mentions(p, AGE_GATED) or p.brand_text("vertical") == "GAMBLING"
    if flag is False and gated:
        yield (
            "campaign.ageGatedContent",
            "The vertical, description or a sample is age-restricted (alcohol, tobacco, "
            "firearms, gambling): set age-gated content to yes, or change the content.",
        )
    elif flag is True and (p.samples or p.campaign_text("campaignDescription")) and not gated:
        yield (
            "campaign.ageGatedContent",
            "Age-gated content is yes but nothing in the campaign is age-restricted: describe "
            "the age gate, or set age-gated content to no.",
        )


# --- brand identity -------------------------------------------------------------------------


@book.rule(
    "brand.free_mail_email",
    "error",
    "Contact email on a free mailbox provider (gmail, yahoo, outlook, …).",
    codes=("30881",),
    source=twilio_error("30881"),
)
def _free_mail(p: Payload) -> Iterator[Hit]:
    domain = email_domain(p.brand_text("contactEmail"))
    if domain is not None and free_mail(domain):
        yield (
            "brand.contactEmail",
            "Use a contact email on the brand's own domain, not a free mailbox provider.",
        )


@book.rule(
    "brand.sole_proprietor_company_suffix",
    "error",
    "A sole proprietor whose company name says LLC, Inc or Corp.",
    codes=("30903", "30915"),
    source=twilio_error("30903"),
)
def _sole_proprietor_suffix(p: Payload) -> Iterator[Hit]:
    if p.sole_proprietor and COMPANY_SUFFIX.search(p.brand_text("companyName")):
        yield (
            "brand.entity",
            "A company (LLC, Inc, Corp) registers as a business with its tax id, not as a sole "
            "proprietor: change the entity, or use the owner's own name.",
        )


@book.rule(
    "brand.entity_outside_us",
    "error",
    "A government or non-profit entity outside the US.",
    codes=("30797", "30798"),
    source=twilio_error("30797"),
)
def _entity_outside_us(p: Payload) -> Iterator[Hit]:
    entity, country = p.brand_text("entity"), p.brand_text("country")
    if entity in ("GOVERNMENT", "NON_PROFIT") and country not in ("", "US"):
        yield (
            "brand.entity",
            "Government and non-profit entities register only with a US address and tax id: "
            "register as a private company, or use the US entity.",
        )


@book.rule(
    "brand.po_box",
    "error",
    "Brand address is a PO box.",
    source=TELNYX_TROUBLESHOOTING,
)
def _po_box(p: Payload) -> Iterator[Hit]:
    if PO_BOX.search(p.brand_text("address")):
        yield "brand.address", "Use the brand's street address: a PO box cannot be verified."


# Twilio's limits on the brand fields where they are tighter than this service's caps.
PROVIDER_MAX_LENGTHS = {"address": 100, "state": 20, "zipCode": 10}


@book.rule(
    "brand.provider_max_length",
    "error",
    "A brand field longer than the provider accepts.",
    codes=("30701",),
    source=twilio_error("30701"),
)
def _provider_lengths(p: Payload) -> Iterator[Hit]:
    for name, limit in PROVIDER_MAX_LENGTHS.items():
        if len(p.brand_text(name)) > limit:
            yield f"brand.{name}", f"Shorten this field to at most {limit} characters."
