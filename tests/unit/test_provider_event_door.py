"""The text rule at a webhook's door (``domain.providers.ProviderEvent``): the event id is an
id, and no text of the fact (nested in tuples, lists and mappings, keys included) holds a
lone surrogate; both refused as a malformed webhook that names the field, in words."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidTextError
from domain.providers import ProviderEvent, RegistrationReported, Unrecognised, WebhookPayloadError
from domain.text import check_id


def test_an_event_id_that_is_not_an_id_is_refused_in_words() -> None:
    with pytest.raises(WebhookPayloadError) as refused:
        ProviderEvent("sandbox", "evt\u00001", Unrecognised("x"))
    with pytest.raises(InvalidTextError) as rule:
        check_id("evt\u00001", "id")
    assert refused.value.message == "The event id is not valid: " + rule.value.message


@pytest.mark.parametrize(
    "surrogate",
    [chr(c) for c in (0xD800, 0xDBFF, 0xDC00, 0xDFFF)],
    ids=["d800", "dbff", "dc00", "dfff"],
)
@pytest.mark.parametrize(
    "where",
    [
        lambda s: {"reasons": ({"code": "x", "description": "a" + s},)},  # a mapping's value
        lambda s: {"reasons": ({"code" + s: "x"},)},  # a mapping's key
        lambda s: {"reasons": ({"fields": ["a", "b" + s]},)},  # an item of a list
        lambda s: {"raw_status": "A" + s},  # a string
    ],
    ids=["value", "key", "item", "string"],
)
def test_a_lone_surrogate_anywhere_in_the_fact_is_refused_naming_the_field(
    surrogate: str, where: Any
) -> None:
    fields = where(surrogate)
    fact = RegistrationReported("brand", "BN1", "pending", **{"raw_status": "A", **fields})
    with pytest.raises(WebhookPayloadError) as refused:
        ProviderEvent("sandbox", "evt_1", fact)
    name = next(iter(fields))
    assert refused.value.message == f"The event's {name} holds text that is not valid Unicode."


def test_text_next_to_the_surrogates_passes() -> None:
    fact = RegistrationReported("brand", "BN1", "pending", chr(0xD7FF) + chr(0xE000),
                                ({"code": "c", "fields": ["f"]},))  # fmt: skip
    assert ProviderEvent("sandbox", "evt_1", fact).fact == fact
