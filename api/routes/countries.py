"""Supported countries for the wizard's country selector, from the regional rules."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import ChannelsConnector
from api.schemas.countries import CountriesOut, countries_out
from domain.regions import load_regions

router = APIRouter(tags=["numbers"])


@router.get("/channels/sms/countries")
def list_countries(_principal: ChannelsConnector, response: Response) -> CountriesOut:
    """Every supported country in table order: dial code, whether the number search takes
    an area code, and what outbound replies need there (``registration``, e.g. ``us_10dlc``;
    ``none``; or ``long_code_a2p_prohibited``). A country not listed is refused (422
    ``unsupported_country``) wherever a country is taken."""
    response.headers["Cache-Control"] = "private, max-age=300"  # data shipped with the build
    return countries_out(load_regions())
