"""Response models of the supported-countries endpoint."""

from __future__ import annotations

from pydantic import Field

from api.schemas.connections import WireModel
from domain.regions import Regions


class CountryOut(WireModel):
    iso_code: str = Field(description="ISO 3166-1 alpha-2, e.g. US.")
    name: str
    dial_code: str = Field(description="E.164 country calling code, e.g. +1.")
    area_code_search: bool = Field(description="Whether the number search takes an area code.")
    registration: str = Field(
        description="What outbound replies need there: us_10dlc, none, long_code_a2p_prohibited."
    )
    notes: str
    source: str = Field(description="Public source of the rule.")


class CountriesOut(WireModel):
    countries: list[CountryOut]


def countries_out(regions: Regions) -> CountriesOut:
    return CountriesOut(
        countries=[
            CountryOut(
                iso_code=r.iso_code,
                name=r.name,
                dial_code=r.dial_code,
                area_code_search=r.area_code_search,
                registration=r.registration,
                notes=r.notes,
                source=str(r.source),
            )
            for r in regions.countries
        ]
    )
