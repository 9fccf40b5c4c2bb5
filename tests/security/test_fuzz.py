"""Schemathesis over the served OpenAPI document, with a valid token holding every
permission: 0 server errors and 0 responses outside the documented schema, status codes,
content types and required response headers, for valid and invalid (negative) generated
requests and for the document's own examples. Bounded here (FUZZ_CASES, default 1 200 in
all: about a minute); run longer with ``FUZZ_CASES=20000 make fuzz``.

The business operations are reached, not only refused (issue 32): the operations of one
connection run on a live connection of the caller's account for a share of their cases
(its id in the path, its current ``ETag`` as ``If-Match``), the registration submit's on a
connection holding the document's complete compliance form, and connect's examples with a
number nobody holds yet. The run prints its answers by operation (2xx, 4xx, 5xx) and fails
unless connect, the compliance PUT and the registration submit got 2xx answers.

Randomised in every run, so that each explores new cases: the run's Hypothesis seed is in
the pytest header, and ``pytest --hypothesis-seed=N tests/security/test_fuzz.py`` replays
a failure (tests/conftest.py)."""

from __future__ import annotations

import base64
import os
from collections import Counter, defaultdict
from typing import Any

import hypothesis
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from api.main import create_app
from api.openapi_contract import request_examples
from sms_channels.settings import Settings
from tests.e2e.provider_support import Service
from tests.security.conftest import bearer
from tests.support.common import JWT_SECRET, unique_account, unique_us_number

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
    checks.response_headers_conformance,
]
generated: Counter[str] = Counter()
# Answers by operation and status class ("2xx", "4xx", "5xx"), and exact 202s.
answers: defaultdict[str, Counter[str]] = defaultdict(Counter)
# Cases that carried a generated JSON body, by operation (the compliance PUT's body was
# never generated while its schema held unresolved references).
with_body: Counter[str] = Counter()
CONNECTION = "/channels/sms/connections/{connection_id}"
CONNECT = "POST /channels/sms/connect"
COMPLIANCE_PUT = f"PUT {CONNECTION}/compliance"
SUBMIT = f"POST {CONNECTION}/registration"
# Each must have been answered 2xx at least once by the end of the run.
REACHED = (CONNECT, COMPLIANCE_PUT, SUBMIT, f"GET {CONNECTION}", f"PATCH {CONNECTION}")
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


def live_connection(service: Service, account: str, *, submittable: bool) -> str:
    """A connected number of ``account``; with the complete compliance form when
    ``submittable`` (the registration submit can then be accepted)."""
    created = service.connect(account, unique_us_number())
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    if submittable:
        form = request_examples()["compliance"]["complete"]["value"]
        headers = {**bearer(account), "If-Match": created.headers["ETag"]}
        saved = service.http.put(url + "/compliance", json=form, headers=headers)
        assert saved.status_code == 200, saved.text
    return str(url.rsplit("/", 1)[1])


@pytest.mark.parametrize(("method", "path"), LABELS, ids=[f"{m} {p}" for m, p in LABELS])
def test_generated_requests_get_documented_answers(
    api_schema: schemathesis.BaseSchema, service: Service, method: str, path: str
) -> None:
    label = f"{method} {path}"
    operation = api_schema[path][method]
    account = unique_account()
    headers = bearer(account)
    live = None
    if "{connection_id}" in path:
        live = live_connection(service, account, submittable=label == SUBMIT)
    generated_cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    examples = api_schema.get_strategies_from_examples(operation, fill_missing=True)
    strategies = [st.tuples(generated_cases, st.just(False))]
    if live is not None:
        strategies.append(st.tuples(operation.as_strategy(GenerationMode.POSITIVE), st.just(True)))
    strategies += [st.tuples(example, st.just(live is not None)) for example in examples]

    @given(drawn=st.one_of(strategies))
    @settings(
        max_examples=PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(drawn: tuple[schemathesis.Case, bool]) -> None:
        case, on_live = drawn
        if on_live:
            aim_at(service, case, live, headers)
        if label == CONNECT and case.body in _connect_examples():
            # The example's number is claimed once per database: a fresh one connects.
            case.body = {**case.body, "phoneNumber": unique_us_number()}
        generated[label] += 1
        with_body[label] += isinstance(case.body, dict)
        response = case.call(base_url=str(service.http.base_url), headers=headers, timeout=30)
        answers[label][f"{response.status_code // 100}xx"] += 1
        answers[label][str(response.status_code)] += response.status_code == 202
        case.validate_response(response, checks=CHECKS)

    run()


def aim_at(
    service: Service, case: schemathesis.Case, live: str | None, headers: dict[str, str]
) -> None:
    """The case on the live connection, with its current ETag as If-Match (where taken)."""
    assert live is not None
    case.path_parameters = {**(case.path_parameters or {}), "connection_id": live}
    if "If-Match" in (case.headers or {}) or case.operation.method.upper() in ("PUT", "POST"):
        current = service.http.get(f"/channels/sms/connections/{live}", headers=headers)
        if current.status_code == 200:
            case.headers = {**(case.headers or {}), "If-Match": current.headers["ETag"]}


def _connect_examples() -> list[dict[str, Any]]:
    return [example["value"] for example in request_examples()["connect"].values()]


def test_the_fuzz_run_covered_every_operation_and_reached_the_business_ones() -> None:
    if len(generated) < len(LABELS):
        pytest.skip("the generated cases did not all run in this session")
    total = sum(generated.values())
    print(f"\nfuzz: {total} cases over {len(generated)} operations;"
          f" {with_body[COMPLIANCE_PUT]} compliance PUT bodies")  # fmt: skip
    for label in sorted(answers):
        counts = answers[label]
        print(f"  {label}: {generated[label]} cases, 2xx {counts['2xx']}, 202 {counts['202']},"
              f" 4xx {counts['4xx']}, 5xx {counts['5xx']}")  # fmt: skip
    server_errors = sum(counts["5xx"] for counts in answers.values())
    print(f"fuzz: 5xx {server_errors} (503 with Retry-After only); seed"
          f" {hypothesis.core.global_force_seed}")  # fmt: skip
    assert total >= min(1000, FUZZ_CASES)
    assert with_body[COMPLIANCE_PUT] >= PER_OPERATION // 4, with_body
    assert {label: answers[label]["2xx"] for label in REACHED if not answers[label]["2xx"]} == {}
    assert answers[SUBMIT]["202"] >= 1


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
