"""The domain's text rule (``domain/text.py``) as pydantic types, so a request breaking it
is refused as a 422 naming the field before any command runs. The domain checks again:
this is the first line, not the only one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from domain.errors import InvalidTextError
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
# An id where "" means "not chosen" (the domain answers that with its own error).
IdOrEmpty = Annotated[
    str,
    Field(max_length=ID_MAX_LENGTH, pattern=f"^$|{ID_REGEX}"),
    text_validator(_id_or_empty),
]
NameText = Annotated[
    str, Field(min_length=1, max_length=NAME_MAX_LENGTH), text_validator(check_name)
]
