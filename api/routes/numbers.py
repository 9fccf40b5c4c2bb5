"""Numbers on offer at the provider (the wizard's number step)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ApplicationDep, ChannelsConnector, SearchRateLimit
from api.schemas.numbers import NumbersOut, number_out
from api.schemas.text import served_countries
from domain.service.connecting import MAX_SEARCH_LIMIT

router = APIRouter(tags=["numbers"])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    422: {"description": "A parameter is malformed; ``errors[].field`` names it."},
    429: {"description": "Too many searches for this account; see ``Retry-After``."},
    503: {"description": "The provider is unavailable; see ``Retry-After``."},
}


@router.get(
    "/channels/sms/numbers",
    responses=_PROBLEMS,
    dependencies=[SearchRateLimit],
)
def search_numbers(
    _principal: ChannelsConnector,
    application: ApplicationDep,
    country_code: Annotated[
        str,
        Query(
            alias="countryCode",
            max_length=2,
            description="ISO 3166-1 alpha-2 code of a served country (GET "
            "/channels/sms/countries).",
            json_schema_extra=served_countries,
        ),
    ],
    area_code: Annotated[
        str | None, Query(alias="areaCode", max_length=5, description="2 to 5 digits.")
    ] = None,
    contains: Annotated[
        str | None,
        Query(max_length=16, description="2 to 16 digits or letters; '*' is any one digit."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 20,
) -> NumbersOut:
    """SMS-capable numbers the provider offers; an empty list when none are. Empty
    ``areaCode``/``contains`` mean "any". Records nothing."""
    numbers = application.search_numbers(country_code, area_code or None, contains or None, limit)
    return NumbersOut(numbers=[number_out(n) for n in numbers])
