"""The domain's text rule (``domain/text.py``) as pydantic types, so a request breaking it
is refused as a 422 naming the field before any command runs. The domain checks again:
this is the first line, not the only one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from domain.errors import InvalidTextError
from domain.regions import load_regions
from domain.text import (
    ID_MAX_LENGTH,
    ID_PATTERN,
    NAME_MAX_LENGTH,
    check_id,
    check_name,
)


def text_validator(check: Callable[[str, str], str]) -> AfterValidator:
    def validate(value: str) -> str:
        try:
            return check(value, "value")
        except InvalidTextError as error:
            raise PydanticCustomError(error.rule, error.message) from None

    return AfterValidator(validate)


def _id_or_empty(value: str, field: str) -> str:
    return value if value == "" else check_id(value, field)


ID_REGEX = f"^{ID_PATTERN.pattern}$"

IdText = Annotated[
    str, Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_REGEX), text_validator(check_id)
]
# An agent id: "" passes the model so that the domain refuses it with its own stable code
# (422 ``agent_required``), but the document promises only what is accepted: an id.
AgentId = Annotated[
    str,
    Field(max_length=ID_MAX_LENGTH, pattern=f"^$|{ID_REGEX}"),
    text_validator(_id_or_empty),
    Field(json_schema_extra={"minLength": 1, "pattern": ID_REGEX}),
]


def served_countries(schema: dict[str, Any]) -> None:
    """The countries this service serves (``domain/regions.toml``), read when the document
    is built, never at import. Any other code is refused: 422 ``unsupported_country``."""
    schema.pop("pattern", None)
    schema["enum"] = [region.iso_code for region in load_regions().countries]


# A country code of a number to connect: checked by the domain (``invalid_country``,
# ``unsupported_country``), documented as the served countries' enum.
CountryCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=2,
        pattern="^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 code of a served country (GET /channels/sms/countries).",
        json_schema_extra=served_countries,
    ),
]
NameText = Annotated[
    str, Field(min_length=1, max_length=NAME_MAX_LENGTH), text_validator(check_name)
]
