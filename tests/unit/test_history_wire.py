"""The compliance history is serialised by orjson from plain values (``history_json``), not
through a model per version: for random histories (any JSON payload, either narrowing),
its bytes are exactly what pydantic writes for ``history_out``'s ``ComplianceHistoryOut``,
the response model the OpenAPI document declares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.schemas.compliance import history_json, history_out
from domain.registration_levels import Reason
from domain.service.compliance_history import ComplianceHistory, ComplianceVersion
from domain.service.registration_history import RegistrationFact

texts = st.text(max_size=10)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=12,
)
versions = st.builds(
    ComplianceVersion,
    version=st.integers(1, 10_000),
    recorded_at=moments,
    actor=texts,
    changed_fields=st.lists(texts, max_size=3),
    compliance=st.dictionaries(texts, json_values, max_size=4),
    chain=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
)
facts = st.builds(
    RegistrationFact,
    version=st.integers(1, 10_000),
    at=moments,
    actor=texts,
    type=st.sampled_from(["registration.submitted", "registration.changed"]),
    level=texts,
    status=texts,
    raw_status=st.none() | texts,
    reasons=st.lists(st.builds(Reason, code=texts, description=texts), max_size=2).map(tuple),
    submitted_version=st.none() | st.integers(1, 100),
    registration_status=texts,
)
histories = st.builds(
    ComplianceHistory,
    connection_id=st.uuids(),
    status=texts,
    read_at_version=st.integers(1, 10_000),
    versions=st.lists(versions, max_size=5),
    registration=st.lists(facts, max_size=3),
)


@settings(max_examples=300)
@given(histories, st.none() | st.lists(versions, max_size=1), st.none() | st.lists(facts))
def test_the_history_on_the_wire_is_byte_for_byte_the_models_json(
    history: ComplianceHistory,
    narrowed: list[ComplianceVersion] | None,
    narrowed_facts: list[RegistrationFact] | None,
) -> None:
    args: tuple[Any, ...] = (history, narrowed, narrowed_facts)
    assert history_json(*args) == history_out(*args).model_dump_json(by_alias=True).encode()
