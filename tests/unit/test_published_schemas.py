"""The published schemas: committed = generated, every always-sent field required, no
phone number in a lifecycle event, and only compatible changes from the released versions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.feeds.published_schemas import PUBLISHED, PublishedSchema, by_name, incompatibilities

LIFECYCLE = [s for s in PUBLISHED if s.name.startswith("channel.")]
ROUTING = by_name("sms.routing")


@pytest.mark.parametrize("schema", PUBLISHED, ids=lambda s: s.file_name)
def test_the_committed_schema_is_the_model_s(schema: PublishedSchema) -> None:
    assert schema.committed() == schema.json_schema()


@pytest.mark.parametrize("schema", PUBLISHED, ids=lambda s: s.file_name)
def test_every_field_is_required_because_every_field_is_always_sent(
    schema: PublishedSchema,
) -> None:
    committed = schema.committed()
    assert set(committed["required"]) == set(committed["properties"])


@pytest.mark.parametrize("schema", PUBLISHED, ids=lambda s: s.file_name)
def test_the_schema_changed_only_compatibly_since_its_released_version(
    schema: PublishedSchema,
) -> None:
    released = schema.released()
    assert released is not None, f"keep the released {schema.file_name} in schemas/released/"
    assert incompatibilities(released, schema.committed()) == []


@pytest.mark.parametrize("schema", LIFECYCLE, ids=lambda s: s.file_name)
def test_no_lifecycle_event_has_a_phone_number_or_a_compliance_field(
    schema: PublishedSchema,
) -> None:
    names = {name.lower() for name in schema.committed()["properties"]}
    assert not names & {"phonenumber", "compliance", "brand", "campaign", "contactphone"}
    assert "phoneNumber" in ROUTING.committed()["properties"]


def released_and_property() -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    return st.sampled_from(PUBLISHED).flatmap(
        lambda s: st.tuples(
            st.just(s.committed()), st.sampled_from(sorted(s.committed()["properties"]))
        )
    )


@given(released_and_property())
def test_removing_any_property_is_incompatible(case: tuple[dict[str, Any], str]) -> None:
    released, name = case
    current = copy.deepcopy(released)
    del current["properties"][name]
    current["required"].remove(name)
    assert f"{name}: removed" in incompatibilities(released, current)


@given(released_and_property(), st.sampled_from(["string", "integer", "boolean", "array"]))
def test_retyping_any_property_is_incompatible(
    case: tuple[dict[str, Any], str], new_type: str
) -> None:
    released, name = case
    current = copy.deepcopy(released)
    if current["properties"][name].get("type") == new_type:
        new_type = "object"
    current["properties"][name] = {"type": new_type}
    assert f"{name}: retyped" in incompatibilities(released, current)


@given(st.sampled_from(PUBLISHED), st.booleans())
def test_a_new_field_is_compatible_only_when_optional(
    schema: PublishedSchema, required: bool
) -> None:
    released = schema.committed()
    current = copy.deepcopy(released)
    current["properties"]["addedLater"] = {"type": "string"}
    if required:
        current["required"].append("addedLater")
    assert incompatibilities(released, current) == (
        ["addedLater: newly required"] if required else []
    )


def test_an_enum_may_gain_values_but_not_lose_them() -> None:
    released = by_name("channel.disconnected").committed()
    grown, shrunk = copy.deepcopy(released), copy.deepcopy(released)
    grown["properties"]["reason"]["enum"].append("ported_out")
    shrunk["properties"]["reason"]["enum"].remove("replaced")
    assert incompatibilities(released, grown) == []
    assert incompatibilities(released, shrunk) == ["reason: retyped"]


def test_requiring_a_field_that_was_always_sent_as_a_constant_is_compatible() -> None:
    released = by_name("channel.connected").released()
    assert released is not None
    assert "eventType" not in released["required"]
    assert incompatibilities(released, by_name("channel.connected").committed()) == []
