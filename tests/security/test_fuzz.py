"""Schemathesis over the served OpenAPI document, with a valid token holding every
permission: 0 server errors and 0 responses outside the documented schema, status codes
and content types, for valid and invalid (negative) generated requests. Bounded here
(FUZZ_CASES, default 1 200 in all); run longer with ``FUZZ_CASES=20000 make fuzz``.
Randomised in every run, so that each explores new cases: the run's Hypothesis seed is in
the pytest header, and ``pytest --hypothesis-seed=N tests/security/test_fuzz.py`` replays
a failure (tests/conftest.py)."""

from __future__ import annotations

import base64
import os
from collections import Counter

import hypothesis
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from api.main import create_app
from sms_channels.settings import Settings
from tests.e2e.provider_support import Service
from tests.security.conftest import bearer
from tests.support import JWT_SECRET, unique_account

FUZZ_CASES = int(os.environ.get("FUZZ_CASES", "1200"))


@schemathesis.check
def no_server_error(ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Any 5xx is a failure, except a 503 with Retry-After: the documented "not ready /
    dependency unavailable" answer (e.g. /readyz while projections are not running here)."""
    status = response.status_code
    retry_after = any(name.lower() == "retry-after" for name in response.headers)
    if status >= 500 and not (status == 503 and retry_after):
        msg = f"server error {status}: {response.text[:500]}"
        raise AssertionError(msg)


CHECKS = [
    no_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
generated: Counter[str] = Counter()
# Cases that carried a generated JSON body, by operation (the compliance PUT's body was
# never generated while its schema held unresolved references).
with_body: Counter[str] = Counter()
COMPLIANCE_PUT = "PUT /channels/sms/connections/{connection_id}/compliance"
LIST_ROUTES = (
    "/settings/sms-requests",
    "/channels/sms/connections",
    "/directory/agents",
    "/audit/events",
)


def operation_labels() -> list[tuple[str, str, bool]]:
    """(METHOD, path, takes input) of every operation in the document, read from an
    in-memory app."""
    document = create_app(Settings(persistence="memory", jwt_secret=JWT_SECRET)).openapi()
    return [
        (method.upper(), path, bool(op.get("parameters") or op.get("requestBody")))
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]


OPERATIONS = operation_labels()
LABELS = [(method, path) for method, path, _ in OPERATIONS]
# Operations without input have one possible request; the budget goes to the others.
PER_OPERATION = max(2, -(-FUZZ_CASES // sum(takes for *_, takes in OPERATIONS)))


@pytest.fixture(scope="module")
def api_schema(service: Service) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{service.http.base_url}/openapi.json")


@pytest.mark.parametrize(("method", "path"), LABELS, ids=[f"{m} {p}" for m, p in LABELS])
def test_generated_requests_get_documented_answers(
    api_schema: schemathesis.BaseSchema, service: Service, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    headers = bearer(unique_account())
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        generated[f"{method} {path}"] += 1
        with_body[f"{method} {path}"] += isinstance(case.body, dict)
        case.call_and_validate(
            base_url=str(service.http.base_url), headers=headers, checks=CHECKS, timeout=30
        )

    run()


def test_the_fuzz_run_covered_every_operation_with_enough_cases() -> None:
    if len(generated) < len(LABELS):
        pytest.skip("the generated cases did not all run in this session")
    assert sum(generated.values()) >= min(1000, FUZZ_CASES)
    assert with_body[COMPLIANCE_PUT] >= PER_OPERATION // 4, with_body
    print(
        f"fuzz: {sum(generated.values())} cases over {len(generated)} operations;"
        f" {with_body[COMPLIANCE_PUT]} compliance PUT bodies"
    )
    print(f"fuzz seed: {hypothesis.core.global_force_seed}")


# Cursors are opaque strings to the schema: schemathesis cannot generate what they decode
# to. These cases do: any JSON value (or raw bytes) in a cursor's base64.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.datetimes().map(lambda moment: moment.isoformat())
    | st.uuids().map(str),
    lambda inner: st.lists(inner, max_size=5),
    max_leaves=8,
)
CURSOR_PAYLOADS = st.one_of(JSON_VALUES.map(orjson.dumps), st.binary(max_size=64))


@pytest.mark.parametrize("path", LIST_ROUTES)
def test_tampered_cursors_are_never_a_server_error(service: Service, path: str) -> None:
    headers = bearer(unique_account())

    @given(payload=CURSOR_PAYLOADS)
    @settings(
        max_examples=max(20, FUZZ_CASES // 12),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(payload: bytes) -> None:
        cursor = base64.urlsafe_b64encode(payload).decode()
        response = service.http.get(path, params={"cursor": cursor}, headers=headers)
        assert response.status_code in (200, 422), response.text

    run()
