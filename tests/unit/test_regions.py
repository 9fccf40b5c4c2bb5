"""The regional rules table: its packaged data is consistent, an unsupported country is
refused wherever a country is taken, and the preflight applies 10DLC only where the region
needs it."""

from __future__ import annotations

import phonenumbers
import pytest
from pydantic import ValidationError

from domain.application import SmsChannels
from domain.compliance.preflight import RULESET, preflight
from domain.errors import AreaCodeNotApplicableError, InvalidCountryError, UnsupportedCountryError
from domain.regions import Region, load_regions, parse_regions
from domain.service.commands import ConnectNumber
from tests.support.common import unique_account, unique_us_number
from tests.support.compliance_payloads import GOOD

REGISTRATION = """
[registrations.none]
name = "None"
description = "Nothing needed."
permitted_statuses = ["approved"]
source = "https://example.org/none"
"""


def country(iso: str, registration: str = "none") -> str:
    return f"""
[[countries]]
iso_code = "{iso}"
name = "{iso}"
dial_code = "+1"
area_code_search = true
registration = "{registration}"
notes = ""
source = "https://example.org/{iso}"
"""


# --- the packaged data --------------------------------------------------------------------


def test_the_table_starts_with_us_canada_and_the_united_kingdom() -> None:
    codes = [region.iso_code for region in load_regions().countries]
    assert codes[:3] == ["US", "CA", "GB"]
    assert load_regions().require("US").registration == "us_10dlc"


@pytest.mark.parametrize("region", load_regions().countries, ids=lambda r: r.iso_code)
def test_each_country_has_the_dial_code_of_the_phone_plan_and_a_public_https_source(
    region: Region,
) -> None:
    assert region.dial_code == f"+{phonenumbers.country_code_for_region(region.iso_code)}"
    assert region.source.scheme == "https"
    registration = load_regions().registration_of(region)
    assert registration.source.scheme == "https"


def test_the_table_is_loaded_once() -> None:
    assert load_regions() is load_regions()


@pytest.mark.parametrize(
    "document",
    [
        REGISTRATION + country("US") + country("US"),  # listed twice
        REGISTRATION + country("US", registration="missing"),  # unknown registration
        REGISTRATION + country("XX"),  # not a country of the phone plan
        REGISTRATION,  # no country at all
        REGISTRATION.replace('"approved"', '"granted"') + country("US"),  # not a status
        REGISTRATION.replace("https://example.org/none", "not a url") + country("US"),
    ],
)
def test_an_inconsistent_table_is_refused_when_loaded(document: str) -> None:
    with pytest.raises((ValidationError, InvalidCountryError)):
        parse_regions(document)


# --- a country is checked everywhere one is taken -----------------------------------------


def connect(country: str, number: str, area_code: str | None = None) -> ConnectNumber:
    return ConnectNumber(unique_account(), "ws", "agent_1", "new", country, area_code, number, "u")


def test_an_unsupported_country_is_refused_by_the_number_search(memory_app: SmsChannels) -> None:
    with pytest.raises(UnsupportedCountryError) as refused:
        memory_app.search_numbers("NZ", None, None, 20)
    assert (refused.value.code, refused.value.field) == ("unsupported_country", "countryCode")


def test_an_unsupported_country_is_refused_by_connect_and_records_nothing(
    memory_app: SmsChannels,
) -> None:
    before = memory_app.current_position()
    with pytest.raises(UnsupportedCountryError):
        memory_app.connect(connect("NZ", "+6495550100"))
    assert memory_app.current_position() == before


def test_a_code_that_is_no_country_stays_invalid_country(memory_app: SmsChannels) -> None:
    with pytest.raises(InvalidCountryError):
        memory_app.search_numbers("XX", None, None, 20)


def test_an_area_code_is_refused_where_the_search_takes_none(memory_app: SmsChannels) -> None:
    assert load_regions().require("FR").area_code_search is False
    with pytest.raises(AreaCodeNotApplicableError) as refused:
        memory_app.search_numbers("FR", "75", None, 20)
    assert (refused.value.code, refused.value.field) == ("invalid_area_code", "areaCode")


def test_a_supported_country_still_gets_the_phone_plan_checks(memory_app: SmsChannels) -> None:
    result = memory_app.connect(connect("US", unique_us_number()))
    assert result.connection.country == "US"


# --- the preflight by region --------------------------------------------------------------


def test_us_numbers_get_the_10dlc_rules() -> None:
    report = preflight(None, country="US")
    assert (report.ruleset, report.ready) == (RULESET, False)
    assert report.findings


@pytest.mark.parametrize("iso", ["CA", "GB", "DE"])
def test_regions_without_registration_apply_no_10dlc_rule(iso: str) -> None:
    # An empty draft would fail 10DLC on every required field; here nothing is required.
    report = preflight(None, country=iso)
    assert (report.ruleset, report.ready, report.findings) == ("none", True, [])


def test_a_region_without_a2p_on_long_codes_says_so_and_checks_no_payload() -> None:
    report = preflight(GOOD, country="FR")
    assert report.ruleset == "long_code_a2p_prohibited"
    assert [(f.field, f.rule, f.severity) for f in report.findings] == [
        ("countryCode", "region.a2p_not_permitted", "warning")
    ]


def test_a_country_missing_from_the_table_gets_the_strictest_rules() -> None:
    assert preflight(None, country="NZ").ruleset == RULESET
