"""Regional rules: the supported countries and what outbound A2P replies need in each.

The rules are data (``domain/regions.toml``, shipped as package data), validated by the
models below and loaded once per process (``load_regions``). A country missing from the
table is not supported: every command or query that takes a country refuses it with
``UnsupportedCountryError`` (422, field ``countryCode``), after the phone plan's own check.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from domain.errors import AreaCodeNotApplicableError, UnsupportedCountryError
from domain.phone import check_country
from domain.registration_levels import LevelStatus

DATA_FILE = "regions.toml"
# The registration this service carries out itself (US A2P 10DLC): a number of a region
# that needs it is registered here (submit, the registration worker) and its payload is
# checked by the 10DLC rules (``domain.compliance.preflight``). The one place that says so.
REGISTERED_HERE = "us_10dlc"

IsoCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
RegistrationId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,40}$")]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Registration(_Data):
    """What outbound replies need in a region, as a rule over the provider-reported
    registration status: permitted in exactly the statuses listed (none: never)."""

    id: RegistrationId = ""
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    permitted_statuses: tuple[LevelStatus, ...]
    source: HttpUrl

    @property
    def never_permitted(self) -> bool:
        return not self.permitted_statuses

    def permits(self, status: str) -> bool:
        return status in self.permitted_statuses


class Region(_Data):
    """One supported country."""

    iso_code: IsoCode
    name: str = Field(min_length=1)
    dial_code: Annotated[str, StringConstraints(pattern=r"^\+[0-9]{1,4}$")]
    area_code_search: bool
    registration: RegistrationId
    notes: str
    source: HttpUrl

    @property
    def registered_here(self) -> bool:
        """Whether this service registers the region's numbers (``REGISTERED_HERE``)."""
        return self.registration == REGISTERED_HERE

    def check_area_code(self, area_code: str | None) -> str | None:
        """``area_code`` if the number search takes one here (or none was given)."""
        if area_code is not None and not self.area_code_search:
            raise AreaCodeNotApplicableError(self.iso_code)
        return area_code


class Regions(_Data):
    """The whole table: registrations by id, and the countries in file order."""

    registrations: dict[RegistrationId, Registration]
    countries: tuple[Region, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for key, registration in self.registrations.items():
            if registration.id != key:
                raise ValueError(f"registration {key} names itself {registration.id}")
        codes = [region.iso_code for region in self.countries]
        if len(set(codes)) != len(codes):
            raise ValueError("a country is listed twice")
        for region in self.countries:
            check_country(region.iso_code)  # a code the phone plan knows
            if region.registration not in self.registrations:
                raise ValueError(f"{region.iso_code}: unknown registration {region.registration}")
        return self

    def find(self, iso_code: str) -> Region | None:
        return next((r for r in self.countries if r.iso_code == iso_code), None)

    def require(self, iso_code: str) -> Region:
        """The supported region; InvalidCountryError for a code the phone plan does not
        know, UnsupportedCountryError for a real country this service does not serve."""
        check_country(iso_code)
        region = self.find(iso_code)
        if region is None:
            raise UnsupportedCountryError(iso_code)
        return region

    def registration_of(self, region: Region) -> Registration:
        return self.registrations[region.registration]


def parse_regions(text: str) -> Regions:
    """Validate a regions document (TOML); ``ValidationError`` on any inconsistency."""
    raw = tomllib.loads(text)
    registrations = raw.get("registrations", {})
    if isinstance(registrations, dict):
        for key, value in registrations.items():
            if isinstance(value, dict):
                value.setdefault("id", key)
    return Regions.model_validate(raw)


@cache
def load_regions() -> Regions:
    """The packaged table, read and validated on first use (then kept)."""
    return parse_regions(resources.files("domain").joinpath(DATA_FILE).read_text("utf-8"))


def require_region(iso_code: str) -> Region:
    """Shortcut: the supported region of ``iso_code`` from the packaged table."""
    return load_regions().require(iso_code)
