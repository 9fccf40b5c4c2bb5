"""Preflight of the compliance payload: what would likely be refused at 10DLC registration.

Level 3 of the design's checks. Each rule has a stable id (``sample.names_brand``), a
severity (``error``: likely to be refused; ``warning``: worth a second look) and a message
that explains the fix in general terms: a finding names the field and the rule, never the
value. ``ready`` means "no error found by these rules", nothing more: the preflight cannot
and does not say that a carrier or The Campaign Registry will approve anything.

The rules are those of US 10DLC (A2P messaging on US local numbers), and apply only where the
regional rules (``domain/regions.toml``) name ``us_10dlc`` as the registration outbound
replies need. Elsewhere the report's ``ruleset`` names what the region needs instead
(``none``, or ``long_code_a2p_prohibited`` with one warning that replies are blocked there)
and no 10DLC rule is applied. Within the 10DLC rules, US formats (EIN, USPS state, 5-digit
ZIP) are checked unless the brand names another country.

Pure functions of the stored payload: no I/O, no clock, never raises on any payload that the
shape check accepted (and tolerates anything else).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from domain.compliance import BRAND_FIELDS, CAMPAIGN_FIELDS
from domain.compliance_progress import required_fields
from domain.regions import Registration, load_regions

Severity = Literal["error", "warning"]
RULESET = "us_10dlc"

MIN_DESCRIPTION = 40
MIN_MESSAGE_FLOW = 40
MIN_SAMPLE = 20
MIN_REPLY_MESSAGE = 20
MIN_DISTINCT_SAMPLES = 2


@dataclass(frozen=True)
class Finding:
    """One likely refusal: the field (dotted name), the rule id, how bad, and how to fix it.
    The message is fixed text per rule: it never quotes what the operator entered."""

    field: str
    rule: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class PreflightReport:
    """All findings in form order; ``ready`` when none is an error. Never an approval."""

    ready: bool
    findings: list[Finding]
    ruleset: str = RULESET


# --- reading the payload ------------------------------------------------------------------


class _Payload:
    """Read access to a stored payload that tolerates drafts: a blank or non-text field
    reads as ""."""

    def __init__(self, payload: dict[str, Any] | None) -> None:
        self.raw = payload
        self.brand = _section(payload, "brand")
        self.campaign = _section(payload, "campaign")

    def brand_text(self, name: str) -> str:
        return _text(self.brand.get(name))

    def campaign_text(self, name: str) -> str:
        return _text(self.campaign.get(name))

    def flag(self, name: str) -> bool | None:
        value = self.campaign.get(name)
        return value if isinstance(value, bool) else None

    @property
    def samples(self) -> list[tuple[int, str]]:
        """The filled message-sample slots, with their index."""
        slots = self.campaign.get("messageSamples")
        if not isinstance(slots, list):
            return []
        return [(i, _text(sample)) for i, sample in enumerate(slots) if _text(sample)]

    @property
    def brand_names(self) -> list[str]:
        names = (self.brand_text("displayName"), self.brand_text("companyName"))
        return [name.casefold() for name in names if name]

    def names_brand(self, text: str) -> bool:
        folded = text.casefold()
        return any(name in folded for name in self.brand_names)

    @property
    def us_formats(self) -> bool:
        """US formats apply unless the brand names another country."""
        return self.brand_text("country") in ("", "US")

    @property
    def sole_proprietor(self) -> bool:
        return self.brand_text("entity") == "SOLE_PROPRIETOR"


def _section(payload: dict[str, Any] | None, name: str) -> dict[str, Any]:
    section = payload.get(name) if isinstance(payload, dict) else None
    return section if isinstance(section, dict) else {}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


# --- recognisers ------------------------------------------------------------------------

# Top-level domains that make a bare "word.tld" in a message read as a link. Links with a
# scheme or "www." are recognised whatever their domain.
_LINK_TLDS = (
    "com|net|org|edu|gov|io|co|us|ly|gl|gd|gy|me|app|info|biz|ai|to|tv|cc|ca|uk|de|fr|au|in|"
    "id|at|ae|ink|site|online|shop|store|link|xyz|page|dev|health|care|club|live|ru|it|es|nl"
)
_URL = re.compile(
    r"(?i)(?:\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+|"
    r"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _LINK_TLDS + r")\b"
    r"(?:/[^\s<>\"']*)?)"
)
# Public link shorteners: carriers filter their links, the same domain being shared by
# every sender (brand-owned short domains are fine).
URL_SHORTENERS = frozenset(
    {
        "bit.ly",
        "bitly.com",
        "bit.do",
        "tinyurl.com",
        "tiny.cc",
        "tiny.one",
        "goo.gl",
        "t.co",
        "ow.ly",
        "is.gd",
        "v.gd",
        "buff.ly",
        "rebrand.ly",
        "cutt.ly",
        "shorturl.at",
        "rb.gy",
        "t.ly",
        "bl.ink",
        "lnkd.in",
        "s.id",
        "qr.ae",
        "adf.ly",
        "shorte.st",
        "soo.gd",
        "x.co",
        "clck.ru",
        "trib.al",
        "dlvr.it",
        "ift.tt",
    }
)
_EIN = re.compile(r"[0-9]{2}-?[0-9]{7}")
_ZIP = re.compile(r"[0-9]{5}")
_KEYWORD = re.compile(r"[A-Z0-9]+")
_WORD_HELP = re.compile(r"(?i)\bhelp\b")
_WORD_STOP = re.compile(r"(?i)\bstop\b")
_OPT_OUT_CONFIRMED = re.compile(
    r"(?i)\b(?:unsubscribed|opted[ -]?out|no (?:more|further) (?:messages|msgs|texts)|"
    r"will not (?:receive|get)|won't (?:receive|get))\b"
)
_DATA_RATES = re.compile(r"(?i)\b(?:msg|message)s?\s*(?:&|and|\+)\s*data\s+rates?\s+may\s+apply")
_FREQUENCY = re.compile(
    r"(?i)\b(?:(?:msg|message)s?\s+freq(?:uency)?|freq(?:uency)?\s+varies|recurring|"
    r"daily|weekly|monthly|per\s+(?:day|week|month|year)|"
    r"[0-9]+\s*(?:msgs?|messages?|texts?)\s*(?:/|per|a|each|every)\s*"
    r"(?:day|wk|week|mo|month|year|yr))"
)
_CONSENT = re.compile(
    r"(?i)\b(?:opt(?:s|ed)?[- ]?in|consent|check[- ]?box|sign(?:s|ed)?[- ]?up|subscribe[sd]?|"
    r"agree[sd]?|permission|web ?form|online form|keyword|by texting|text(?:s|ing)? [A-Z0-9]+ to|"
    r"verbal(?:ly)?)"
)
# USPS codes: the states, DC, the territories and the military "states".
# fmt: off
_US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
})
# fmt: on


def urls_in(text: str) -> list[str]:
    """The links a message holds (with or without a scheme)."""
    return [match.group(0).rstrip(".,;:!?)") for match in _URL.finditer(text)]


def _host(url: str) -> str:
    with_scheme = url if "://" in url else "https://" + url
    try:
        return (urlsplit(with_scheme).hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def shortened(text: str) -> bool:
    """True if the text links to a public URL shortener."""
    for url in urls_in(text):
        host = _host(url)
        if any(host == domain or host.endswith("." + domain) for domain in URL_SHORTENERS):
            return True
    return False


def phone_numbers_in(text: str) -> bool:
    """True if the text holds a valid phone number (libphonenumber's matcher, US default)."""
    matcher = phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID)
    return matcher.has_next()


def _email_domain(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).ascii_domain.lower()
    except EmailNotValidError:
        return None


def _emails_in(text: str) -> bool:
    candidates = (word.strip(".,;:!?()<>[]\"'") for word in text.split() if "@" in word)
    return any(_email_domain(word) is not None for word in candidates)


def https_host(value: str) -> str | None:
    """The host of an absolute https URL with a dotted, valid host name; None otherwise."""
    if any(ch.isspace() for ch in value):
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not host or "." not in host.strip("."):
        return None
    try:
        host.encode("idna")
    except UnicodeError:
        return None
    return host.lower()


def valid_e164(value: str) -> bool:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return canonical == value and phonenumbers.is_valid_number(parsed)


def _keywords(text: str) -> list[str]:
    return [keyword.strip() for keyword in text.split(",")]


# --- the rules --------------------------------------------------------------------------

Hit = tuple[str, str]  # (field, message)
Check = Callable[[_Payload], Iterator[Hit]]


@dataclass(frozen=True)
class Rule:
    """A named check. ``id`` is part of the API contract: never rename one."""

    id: str
    severity: Severity
    summary: str
    check: Check


_FLAGS = ("numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent")


def _required(p: _Payload) -> Iterator[Hit]:
    # Sample slots are judged by samples.min_distinct and the terms by terms.accepted.
    for field in required_fields(p.raw):
        if field.startswith("campaign.messageSamples.") or field == "campaign.termsAndConditions":
            continue
        if field.removeprefix("campaign.") in _FLAGS:
            yield field, "Answer this yes/no question: registration needs an explicit answer."
        else:
            yield field, "Fill in this field: registration needs it."


def _min_lengths(p: _Payload) -> Iterator[Hit]:
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


def _e164(p: _Payload) -> Iterator[Hit]:
    phone = p.brand_text("contactPhone")
    if phone and not valid_e164(phone):
        yield (
            "brand.contactPhone",
            "Enter a valid number in international E.164 form: + and country code, no spaces "
            "(e.g. +14155550123).",
        )


def _email(p: _Payload) -> Iterator[Hit]:
    email = p.brand_text("contactEmail")
    if email and _email_domain(email) is None:
        yield "brand.contactEmail", "Enter a valid email address (e.g. compliance@example.com)."


def _https(p: _Payload) -> Iterator[Hit]:
    for field, value in (
        ("brand.website", p.brand_text("website")),
        ("campaign.privacyPolicyUrl", p.campaign_text("privacyPolicyUrl")),
    ):
        if value and https_host(value) is None:
            yield (
                field,
                "Enter a full, public https:// address (e.g. https://www.example.com/privacy).",
            )


def _ein(p: _Payload) -> Iterator[Hit]:
    number = p.brand_text("registrationNumber")
    if number and p.us_formats and not p.sole_proprietor and not _EIN.fullmatch(number):
        yield (
            "brand.registrationNumber",
            "Enter the US Employer Identification Number: 9 digits as NN-NNNNNNN "
            "(the dash is optional).",
        )


def _us_state(p: _Payload) -> Iterator[Hit]:
    state = p.brand_text("state")
    if state and p.us_formats and state not in _US_STATES:
        yield "brand.state", "Use the 2-letter USPS code of the state in capitals (e.g. CA)."


def _us_zip(p: _Payload) -> Iterator[Hit]:
    zip_code = p.brand_text("zipCode")
    if zip_code and p.us_formats and not _ZIP.fullmatch(zip_code):
        yield "brand.zipCode", "Use the 5-digit US ZIP code (without the +4 extension)."


def _country(p: _Payload) -> Iterator[Hit]:
    country = p.brand_text("country")
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        yield "brand.country", "Use the ISO 3166 two-letter country code in capitals (e.g. US)."


def _keyword_format(p: _Payload) -> Iterator[Hit]:
    for name in ("optInKeywords", "optOutKeywords", "helpKeywords"):
        text = p.campaign_text(name)
        if text and not all(_KEYWORD.fullmatch(k) for k in _keywords(text)):
            yield (
                f"campaign.{name}",
                "Write keywords as capital letters and digits separated by commas "
                "(e.g. STOP,QUIT).",
            )


def _stop_keyword(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("optOutKeywords")
    if text and "STOP" not in [k.upper() for k in _keywords(text)]:
        yield "campaign.optOutKeywords", "Include STOP among the opt-out keywords."


def _help_keyword(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("helpKeywords")
    if text and "HELP" not in [k.upper() for k in _keywords(text)]:
        yield "campaign.helpKeywords", "Include HELP among the help keywords."


def _distinct_samples(p: _Payload) -> Iterator[Hit]:
    distinct = {" ".join(sample.split()).casefold() for _, sample in p.samples}
    if len(distinct) < MIN_DISTINCT_SAMPLES:
        yield (
            "campaign.messageSamples",
            f"Likely to be refused: registration needs at least {MIN_DISTINCT_SAMPLES} "
            "different message samples. Add samples that show the kinds of messages you send.",
        )


def _samples_name_brand(p: _Payload) -> Iterator[Hit]:
    if not p.brand_names:
        return
    for index, sample in p.samples:
        if not p.names_brand(sample):
            yield (
                f"campaign.messageSamples.{index}",
                "Likely to be refused: the sample does not name the brand. Start it with the "
                "brand's display name or company name, as subscribers will see it.",
            )


def _shorteners(p: _Payload) -> Iterator[Hit]:
    for index, sample in p.samples:
        if shortened(sample):
            yield (
                f"campaign.messageSamples.{index}",
                "Likely to be refused: the sample links through a public URL shortener. "
                "Use a full link on a domain the brand owns.",
            )


def _embedded_link(p: _Payload) -> Iterator[Hit]:
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


def _embedded_phone(p: _Payload) -> Iterator[Hit]:
    if p.flag("embeddedPhone") is False and any(phone_numbers_in(s) for _, s in p.samples):
        yield (
            "campaign.embeddedPhone",
            "A message sample contains a phone number: set embedded phone to yes, or remove "
            "the number.",
        )


def _opt_in_names_brand(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("optInMessage")
    if text and p.brand_names and not p.names_brand(text):
        yield "campaign.optInMessage", "Name the brand in the opt-in confirmation."


def _opt_in_frequency(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("optInMessage")
    if text and not _FREQUENCY.search(text):
        yield (
            "campaign.optInMessage",
            "State the message frequency in the opt-in confirmation (e.g. 'Msg frequency "
            "varies' or 'Up to 4 msgs/month').",
        )


def _opt_in_rates(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("optInMessage")
    if text and not _DATA_RATES.search(text):
        yield (
            "campaign.optInMessage",
            "Include the disclosure 'Msg & data rates may apply' in the opt-in confirmation.",
        )


def _opt_out_confirms(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("optOutMessage")
    if text and not (_WORD_STOP.search(text) or _OPT_OUT_CONFIRMED.search(text)):
        yield (
            "campaign.optOutMessage",
            "Confirm the STOP request in the opt-out reply: say that the subscriber is "
            "unsubscribed and will receive no more messages.",
        )


def _help_contact(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("helpMessage")
    if text and not (
        _WORD_HELP.search(text) or phone_numbers_in(text) or _emails_in(text) or urls_in(text)
    ):
        yield (
            "campaign.helpMessage",
            "Say in the help reply how to get help: mention HELP or give a contact "
            "(phone number, email address or website).",
        )


def _flow_consent(p: _Payload) -> Iterator[Hit]:
    text = p.campaign_text("messageFlow")
    if text and not _CONSENT.search(text):
        yield (
            "campaign.messageFlow",
            "Describe how consent is collected: where subscribers opt in (web form, keyword, "
            "checkbox, in person) and what they agree to.",
        )


def _sole_proprietor_type(p: _Payload) -> Iterator[Hit]:
    entity, brand_type = p.brand_text("entity"), p.brand_text("brandType")
    if entity and brand_type and (entity == "SOLE_PROPRIETOR") != (brand_type == "SOLE_PROPRIETOR"):
        yield (
            "brand.brandType",
            "Entity and brand type disagree: a sole proprietor uses the SOLE_PROPRIETOR brand "
            "type, and only a sole proprietor does.",
        )


def _sole_proprietor_number(p: _Payload) -> Iterator[Hit]:
    if p.sole_proprietor and p.brand_text("registrationNumber"):
        yield (
            "brand.registrationNumber",
            "A sole proprietor registers without a tax id: leave the registration number empty.",
        )


def _sole_proprietor_use_case(p: _Payload) -> Iterator[Hit]:
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


def _public_email_domain(p: _Payload) -> Iterator[Hit]:
    if p.brand_text("entity") != "PUBLIC_PROFIT":
        return
    domain = _email_domain(p.brand_text("contactEmail"))
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


def _terms(p: _Payload) -> Iterator[Hit]:
    if p.flag("termsAndConditions") is not True:
        yield (
            "campaign.termsAndConditions",
            "Accept the terms and conditions: registration cannot be submitted without it.",
        )


RULES: tuple[Rule, ...] = (
    Rule("field.required", "error", "A field registration needs is empty.", _required),
    Rule("text.min_length", "error", "Text shorter than registration's minimum.", _min_lengths),
    Rule("format.e164", "error", "Contact phone is not a valid E.164 number.", _e164),
    Rule("format.email", "error", "Contact email is not a valid address.", _email),
    Rule("format.https_url", "error", "Website or privacy policy is not an https URL.", _https),
    Rule("format.ein", "error", "Registration number is not a US EIN (NN-NNNNNNN).", _ein),
    Rule("format.us_state", "error", "State is not a 2-letter USPS code.", _us_state),
    Rule("format.us_zip", "error", "ZIP code is not 5 digits.", _us_zip),
    Rule("format.country", "error", "Country is not an ISO 3166 alpha-2 code.", _country),
    Rule(
        "keywords.format",
        "error",
        "Keywords are not capitals/digits, comma-separated.",
        _keyword_format,
    ),
    Rule("opt_out.keywords_include_stop", "error", "Opt-out keywords lack STOP.", _stop_keyword),
    Rule("help.keywords_include_help", "error", "Help keywords lack HELP.", _help_keyword),
    Rule(
        "samples.min_distinct", "error", "Fewer than 2 distinct message samples.", _distinct_samples
    ),
    Rule(
        "sample.names_brand",
        "error",
        "A message sample does not name the brand.",
        _samples_name_brand,
    ),
    Rule(
        "sample.url_shortener", "error", "A sample links through a public shortener.", _shorteners
    ),
    Rule(
        "sample.embedded_link",
        "error",
        "Embedded-link flag disagrees with the samples.",
        _embedded_link,
    ),
    Rule(
        "sample.embedded_phone",
        "error",
        "A sample holds a phone number, flag says no.",
        _embedded_phone,
    ),
    Rule(
        "opt_in.names_brand",
        "error",
        "Opt-in confirmation does not name the brand.",
        _opt_in_names_brand,
    ),
    Rule(
        "opt_in.message_frequency",
        "error",
        "Opt-in confirmation lacks message frequency.",
        _opt_in_frequency,
    ),
    Rule(
        "opt_in.data_rates",
        "error",
        "Opt-in confirmation lacks 'Msg & data rates may apply'.",
        _opt_in_rates,
    ),
    Rule(
        "opt_out.confirms_stop",
        "error",
        "Opt-out reply does not confirm the opt-out.",
        _opt_out_confirms,
    ),
    Rule(
        "help.mentions_help_or_contact",
        "error",
        "Help reply gives no help or contact.",
        _help_contact,
    ),
    Rule(
        "message_flow.describes_consent",
        "warning",
        "Message flow does not say how consent is collected.",
        _flow_consent,
    ),
    Rule(
        "brand.sole_proprietor_type",
        "error",
        "Sole-proprietor entity and brand type disagree.",
        _sole_proprietor_type,
    ),
    Rule(
        "brand.sole_proprietor_registration_number",
        "error",
        "A sole proprietor with a tax id.",
        _sole_proprietor_number,
    ),
    Rule(
        "campaign.sole_proprietor_use_case",
        "error",
        "Sole-proprietor brand type and use case disagree.",
        _sole_proprietor_use_case,
    ),
    Rule(
        "brand.public_profit_email_domain",
        "error",
        "Public company email off the website's domain.",
        _public_email_domain,
    ),
    Rule("terms.accepted", "error", "Terms and conditions not accepted.", _terms),
)
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)

# Form order of fields, for a stable order of findings.
_FIELD_ORDER = {
    name: index
    for index, name in enumerate(
        [f"brand.{name}" for name in BRAND_FIELDS]
        + [f"campaign.{name}" for name in CAMPAIGN_FIELDS]
    )
}


def _order(finding: Finding) -> tuple[int, int, int]:
    base, _, slot = finding.field.partition(".messageSamples.")
    base = base + ".messageSamples" if slot else finding.field
    return (
        _FIELD_ORDER.get(base, len(_FIELD_ORDER)),
        int(slot) if slot.isdigit() else -1,
        RULE_IDS.index(finding.rule),
    )


# Raised for a region whose numbers may not carry A2P at all (not a payload problem: the
# operator cannot fix it by editing, so a warning that leaves ``ready`` alone).
REGION_RULE = "region.a2p_not_permitted"
REGION_MESSAGE = (
    "Carriers in this country block application-to-person messages from these numbers:"
    " agent replies cannot be sent, whatever the registration."
)


def preflight(payload: dict[str, Any] | None, country: str = "US") -> PreflightReport:
    """Check ``payload`` (None: never saved) against the rules of ``country``'s region:
    every 10DLC rule where the region needs ``us_10dlc`` (findings in form order), none
    elsewhere. A country missing from the regional rules gets the 10DLC rules (the
    strictest), so that nothing is reported ready by mistake."""
    regions = load_regions()
    region = regions.find(country)
    if region is not None and region.registration != RULESET:
        return _regional(regions.registration_of(region))
    p = _Payload(payload)
    findings = [
        Finding(field=field, rule=rule.id, severity=rule.severity, message=message)
        for rule in RULES
        for field, message in rule.check(p)
    ]
    findings.sort(key=_order)
    return PreflightReport(
        ready=not any(f.severity == "error" for f in findings), findings=findings
    )


def _regional(registration: Registration) -> PreflightReport:
    """The report for a region outside 10DLC: which registration it needs, nothing else."""
    findings: list[Finding] = []
    if registration.never_permitted:
        findings.append(
            Finding(
                field="countryCode", rule=REGION_RULE, severity="warning", message=REGION_MESSAGE
            )
        )
    return PreflightReport(ready=True, findings=findings, ruleset=registration.id)
