"""Text recognisers of the preflight: links, phone numbers, emails, disclosures, placeholder
text, prohibited content and scripts. Pure functions of a string; none raises on any text.

Each recogniser is deliberately cheap and errs towards the published examples: it says
whether a text *looks like* it holds the thing a reviewer looks for, nothing more.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

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
_HTTP_LINK = re.compile(r"(?i)\bhttp://")
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
# Free mailbox providers: an address there does not show that the sender owns a business
# domain (Twilio 30881 and the providers' brand guides ask for an email on the brand's own
# domain). Matched on the registrable domain and its subdomains.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "ymail.com",
        "rocketmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.net",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "comcast.net",
        "att.net",
        "verizon.net",
        "sbcglobal.net",
    }
)

WORD_HELP = re.compile(r"(?i)\bhelp\b")
WORD_STOP = re.compile(r"(?i)\bstop\b")
OPT_OUT_CONFIRMED = re.compile(
    r"(?i)\b(?:unsubscribed|opted[ -]?out|no (?:more|further) (?:messages|msgs|texts)|"
    r"will not (?:receive|get)|won't (?:receive|get))\b"
)
# "Reply STOP to opt out", "Text END to cancel", "opt out at any time", "unsubscribe".
OPT_OUT_INSTRUCTION = re.compile(
    r"(?i)\b(?:(?:reply|text|send|txt)\s+[\"']?(?:stop|end|cancel|quit|unsubscribe)\b|"
    r"stop\s+to\s+(?:opt[ -]?out|cancel|end|unsubscribe|quit|stop)|"
    r"opt[ -]?out|unsubscribe)"
)
DATA_RATES = re.compile(r"(?i)\b(?:msg|message)s?\s*(?:&|and|\+)\s*data\s+rates?\s+may\s+apply")
FREQUENCY = re.compile(
    r"(?i)\b(?:(?:msg|message)s?\s+freq(?:uency)?|freq(?:uency)?\s+varies|recurring|"
    r"daily|weekly|monthly|per\s+(?:day|week|month|year|request)|"
    r"[0-9]+\s*(?:msgs?|messages?|texts?)\s*(?:/|per|a|each|every)\s*"
    r"(?:day|wk|week|mo|month|year|yr|request))"
)
CONSENT = re.compile(
    r"(?i)\b(?:opt(?:s|ed)?[- ]?in|consent|check[- ]?box|sign(?:s|ed)?[- ]?up|subscribe[sd]?|"
    r"agree[sd]?|permission|web ?form|online form|keyword|by texting|text(?:s|ing)? [A-Z0-9]+ to|"
    r"verbal(?:ly)?)"
)
# What the messages are for, as a call to action has to say (appointment reminders,
# order updates, promotions, …).
PURPOSE = re.compile(
    r"(?i)\b(?:reminders?|alerts?|notifications?|updates?|offers?|promotions?|promotional|"
    r"marketing|codes?|passcodes?|confirmations?|news|newsletters?|receipts?|"
    r"appointments?|orders?|deliver(?:y|ies)|shipping|account|support|service|billing)\b"
)
SMS_OR_TEXT = re.compile(r"(?i)\b(?:sms|texts?|text messages?|txts?|mobile messages?)\b")
PRIVACY_POLICY = re.compile(r"(?i)\bprivacy\b")
# Consent to texts bundled with other channels in one box or sentence.
OTHER_CHANNELS = re.compile(
    r"(?i)\b(?:e-?mails?|phone calls?|calls|voice ?mails?|push notifications?|postal mail|"
    r"direct mail|autodialed calls)\b"
)
# Placeholder or test text, and template fields not written in [brackets].
PLACEHOLDER = re.compile(
    r"(?i)(?:\blorem ipsum\b|\bdolor sit amet\b|\bthis is a test\b|"
    r"\btest (?:message|msg|sms|text)\b|\btesting\s*(?:1\s*2\s*3|123)\b|\basdf\b|\bqwerty\b|"
    r"\bfoo ?bar\b|\bplaceholder\b|\bsample (?:message|text)\b|^\s*test\s*$|"
    r"\{\{?\s*\w+\s*\}?\}|%[A-Za-z_]\w*%|\$\{?[A-Za-z_]\w*\}?|<<?[A-Za-z_]\w*>>?)"
)
BRACKETED_FIELD = re.compile(r"\[[^\]\n]{1,40}\]")
LENDING = re.compile(
    r"(?i)\b(?:loans?|lending|lenders?|financing|line of credit|credit lines?|cash advances?|"
    r"mortgages?|refinanc\w*|apr\b|pre-?approved)"
)
AGE_GATED = re.compile(
    r"(?i)\b(?:alcohol\w*|beers?|wines?|liquor|spirits|vodka|whiske?y|tequila|breweries|"
    r"brewery|winery|tobacco|cigars?|cigarettes?|vap(?:e|es|ing)|e-?cig\w*|nicotine|hookah|"
    r"firearms?|guns?|ammunition|ammo|rifles?|handguns?|"
    r"21\+|18\+|must be (?:21|18)|of legal drinking age)\b"
)
PO_BOX = re.compile(r"(?i)\b(?:p\.?\s*o\.?\s*box|post\s+office\s+box|pob\s+[0-9])")
COMPANY_SUFFIX = re.compile(
    r"(?i)(?:\b(?:llc|l\.l\.c|inc|incorporated|corp|corporation|ltd|limited|llp|plc|pllc)\b\.?)"
)


def urls_in(text: str) -> list[str]:
    """The links a message holds (with or without a scheme)."""
    return [match.group(0).rstrip(".,;:!?)") for match in _URL.finditer(text)]


def http_links_in(text: str) -> bool:
    """True if the text holds an unsecured (``http://``) link."""
    return _HTTP_LINK.search(text) is not None


def _host(url: str) -> str:
    with_scheme = url if "://" in url else "https://" + url
    try:
        return (urlsplit(with_scheme).hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def _under(host: str, domains: frozenset[str]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def shortened(text: str) -> bool:
    """True if the text links to a public URL shortener."""
    return any(_under(_host(url), URL_SHORTENERS) for url in urls_in(text))


def phone_numbers_in(text: str) -> bool:
    """True if the text holds a valid phone number (libphonenumber's matcher, US default)."""
    matcher = phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID)
    return matcher.has_next()


def email_domain(value: str) -> str | None:
    """The lower-case ASCII domain of a valid email address; None if it is not one."""
    try:
        return validate_email(value, check_deliverability=False).ascii_domain.lower()
    except EmailNotValidError:
        return None


def free_mail(domain: str) -> bool:
    """True if ``domain`` belongs to a free mailbox provider."""
    return _under(domain, FREE_MAIL_DOMAINS)


def emails_in(text: str) -> bool:
    """True if the text holds a valid email address."""
    candidates = (word.strip(".,;:!?()<>[]\"'") for word in text.split() if "@" in word)
    return any(email_domain(word) is not None for word in candidates)


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


def placeholder_in(text: str) -> bool:
    """True if the text holds test or filler text, or a template field written other than
    in [square brackets] (``{name}``, ``{{name}}``, ``%name%``, ``$name``, ``<name>``)."""
    return PLACEHOLDER.search(BRACKETED_FIELD.sub(" ", text)) is not None


# Share of letters outside the Latin script above which a text is taken as not English.
NON_LATIN_SHARE = 0.3
_MIN_LETTERS = 8


def without_links(text: str) -> str:
    """The text with its links and [bracketed template fields] blanked out."""
    return BRACKETED_FIELD.sub(" ", _URL.sub(" ", text))


def mostly_non_latin(text: str) -> bool:
    """True if a good share of the text's letters (links and template fields left out)
    are outside the Latin script: a cheap stand-in for "not written in English" (Cyrillic,
    CJK, Arabic, Hebrew, Greek, Devanagari, …)."""
    letters = [ch for ch in without_links(text) if ch.isalpha()]
    if len(letters) < _MIN_LETTERS:
        return False
    foreign = sum(1 for ch in letters if not _latin(ch))
    return foreign / len(letters) > NON_LATIN_SHARE


def _latin(ch: str) -> bool:
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN")
