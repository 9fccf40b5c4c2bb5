"""The sandbox's inventory: for each supported country and area code, a fixed list of
valid fictional numbers (NANP: 555-0100…0199 of the area code; GB: Ofcom's drama ranges),
offered in a stable order."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import geocoder

from domain.providers import (
    AvailableNumber,
    BadAreaCodeError,
)

FICTIONAL_LINES = range(100, 200)  # NANP 555-0100…0199 and Ofcom's …0100…0199 drama lines
_NANP = frozenset({"US", "CA"})
# Ofcom's numbers for drama: 020 7946 0xxx (London) and 01xx 496 0xxx (big cities).
_GB_EXCHANGES = {
    "20": "7946",
    **dict.fromkeys(("113", "114", "115", "116", "117", "118", "121", "131"), "496"),
    **dict.fromkeys(("141", "151", "161", "191"), "496"),
}
DEFAULT_AREA_CODES = {"US": "415", "CA": "416", "GB": "20"}
_KEYPAD = {
    **dict.fromkeys("ABC", "2"),
    **dict.fromkeys("DEF", "3"),
    **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"),
    **dict.fromkeys("MNO", "6"),
    **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"),
    **dict.fromkeys("WXYZ", "9"),
}


def numbers_of(country: str, area: str) -> list[str]:
    """The fictional numbers of ``area`` in ``country``; BadAreaCodeError if the country has
    no such area code; empty for a country the sandbox does not stock."""
    if country in _NANP:
        if not re.fullmatch(r"[2-9][0-9]{2}", area):
            raise BadAreaCodeError()
        numbers = [f"+1{area}555{line:04d}" for line in FICTIONAL_LINES]
    elif country == "GB":
        exchange = _GB_EXCHANGES.get(area)
        if exchange is None:
            raise BadAreaCodeError()
        numbers = [f"+44{area}{exchange}{line:04d}" for line in FICTIONAL_LINES]
    else:
        return []
    valid = [n for n in numbers if valid_for(n, country)]
    if not valid:
        raise BadAreaCodeError()  # e.g. a Canadian area code searched for in the US
    return valid


def valid_for(phone_number: str, country: str) -> bool:
    try:
        parsed = phonenumbers.parse(phone_number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number_for_region(parsed, country)


def area_code_of(phone_number: str) -> str | None:
    parsed = phonenumbers.parse(phone_number, None)
    length = phonenumbers.length_of_geographical_area_code(parsed)
    national = phonenumbers.national_significant_number(parsed)
    return national[:length] if length else None


def offer(phone_number: str, country: str, area: str) -> AvailableNumber:
    described = geocoder.description_for_number(phonenumbers.parse(phone_number), "en")
    locality, _, region = described.partition(", ")
    return AvailableNumber(
        phone_number=phone_number,
        country=country,
        area_code=area,
        locality=locality or None,
        region=region or None,
        capabilities={"sms": True, "mms": country in _NANP, "voice": True},
    )


def contains_pattern(contains: str | None) -> re.Pattern[str] | None:
    """Twilio's ``Contains`` as a regex over the digits: letters are their keypad digit,
    ``*`` any one digit."""
    if not contains:
        return None
    digits = "".join(_KEYPAD.get(c.upper(), c) for c in contains)
    return re.compile("".join("[0-9]" if c == "*" else re.escape(c) for c in digits))
