"""Phone numbers and countries, checked with Google's libphonenumber rules."""

from __future__ import annotations

import re

import phonenumbers

from domain.errors import (
    InvalidAreaCodeError,
    InvalidCountryError,
    InvalidPhoneNumberError,
    PhoneNumberCountryMismatchError,
)

_AREA_CODE = re.compile(r"[0-9]{2,5}")


def check_country(country: str) -> str:
    """Return the ISO alpha-2 code if the phone plan knows it; raise InvalidCountryError."""
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidCountryError()
    return country


def check_area_code(area_code: str | None) -> str | None:
    """Return the area code if it is absent or 2 to 5 digits; raise InvalidAreaCodeError."""
    if area_code is not None and not _AREA_CODE.fullmatch(area_code):
        raise InvalidAreaCodeError()
    return area_code


def check_e164(number: str, country: str, field: str = "phoneNumber") -> str:
    """Return ``number`` if it is a valid E.164 number of ``country``.

    Raises InvalidPhoneNumberError for anything not in canonical E.164 form (no spaces,
    no national format) or not a valid number, and PhoneNumberCountryMismatchError when the
    number is valid but belongs to another country.
    """
    check_country(country)
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumberError(field) from None
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if canonical != number or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumberError(field)
    if not phonenumbers.is_valid_number_for_region(parsed, country):
        raise PhoneNumberCountryMismatchError(country)
    return number
