"""The OpenAPI document declares what the service takes and answers (issue 32, item 6):
Idempotency-Key on every write, If-None-Match and 304 where answers are tagged, 412
wherever If-Match is taken, the response headers, examples of every request body (valid
against their schemas), links from connect, servers, and the values the service refuses
left out of the schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from api.main import create_app
from api.openapi_contract import LINKED, TAGGED, request_examples
from domain.regions import load_regions
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET

CONNECT = "/channels/sms/connect"
CONNECTION = "/channels/sms/connections/{connection_id}"
EXAMPLE_FORM = Path(__file__).parents[2] / "docs" / "example-compliance.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    served: dict[str, Any] = create_app(
        Settings(persistence="memory", jwt_secret=JWT_SECRET)
    ).openapi()
    return served


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _headers(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_write_a_token_may_send_declares_idempotency_key(document: dict[str, Any]) -> None:
    writes = [
        (method, path)
        for method, path, op in _operations(document)
        if method in {"post", "put", "patch", "delete"} and op["security"]
    ]
    assert len(writes) >= 8
    missing = [w for w in writes if "Idempotency-Key" not in _headers(_op(document, *w))]
    assert missing == []


def test_every_tagged_get_declares_if_none_match_and_its_304(document: dict[str, Any]) -> None:
    for method, path in TAGGED:
        if method == "get":
            operation = _op(document, method, path)
            assert "If-None-Match" in _headers(operation), path
            assert operation["responses"]["304"]["headers"]["ETag"]["required"] is True


def test_every_operation_taking_if_match_lists_412(document: dict[str, Any]) -> None:
    taking = [(m, p, op) for m, p, op in _operations(document) if "If-Match" in _headers(op)]
    assert {(m, p) for m, p, _ in taking} >= {("patch", CONNECTION), ("delete", CONNECTION)}
    assert all("412" in op["responses"] for _, _, op in taking)


def test_tagged_answers_declare_a_required_etag(document: dict[str, Any]) -> None:
    for method, path in TAGGED:
        responses = _op(document, method, path)["responses"]
        for status, response in responses.items():
            if status.startswith("2"):
                assert response["headers"]["ETag"]["required"] is True, (method, path)
                pattern = response["headers"]["ETag"]["schema"]["pattern"]
                assert re.fullmatch(pattern, '"3-0123456789abcdef-gzip"')


def test_connect_declares_its_headers_and_links_to_the_new_connection(
    document: dict[str, Any],
) -> None:
    created = _op(document, "post", CONNECT)["responses"]["201"]
    assert {"ETag", "Location", "Idempotent-Replayed"} <= set(created["headers"])
    assert created["headers"]["Location"]["required"] is True
    ids = {op["operationId"]: (m, p) for m, p, op in _operations(document)}
    links = created["links"]
    assert {name for name, *_ in LINKED} == set(links)
    for name, method, path in LINKED:
        assert ids[links[name]["operationId"]] == (method, path)
        assert links[name]["parameters"]["connection_id"] == "$response.body#/id"
    assert links["putCompliance"]["parameters"]["header.If-Match"] == "$response.header.ETag"


def test_retry_after_and_projection_lag_are_declared(document: dict[str, Any]) -> None:
    numbers = _op(document, "get", "/channels/sms/numbers")["responses"]
    assert numbers["429"]["headers"]["Retry-After"]["required"] is True
    assert "Retry-After" in numbers["503"]["headers"]
    table = _op(document, "get", "/channels/sms/connections")["responses"]["200"]
    assert "X-Projection-Lag" in table["headers"]


def test_every_request_body_has_examples_valid_against_its_schema(
    document: dict[str, Any],
) -> None:
    bodies = [
        (method, path, op["requestBody"]["content"]["application/json"])
        for method, path, op in _operations(document)
        if "requestBody" in op
    ]
    assert len(bodies) >= 5
    for method, path, content in bodies:
        assert content.get("examples"), (method, path)
        validator = jsonschema_rs.validator_for(
            {**content["schema"], "components": document["components"]}
        )
        for name, example in content["examples"].items():
            errors = [e.message for e in validator.iter_errors(example["value"])]
            assert errors == [], (method, path, name)


def test_the_complete_compliance_example_is_the_documented_form() -> None:
    assert request_examples()["compliance"]["complete"]["value"] == json.loads(
        EXAMPLE_FORM.read_text()
    )


def test_refused_values_are_outside_the_schemas(document: dict[str, Any]) -> None:
    connect = document["components"]["schemas"]["ConnectRequest"]["properties"]
    assert connect["agentId"]["minLength"] == 1
    assert not re.fullmatch(connect["agentId"]["pattern"], "")
    served = [region.iso_code for region in load_regions().countries]
    assert connect["countryCode"]["enum"] == served


def test_the_document_names_its_server(document: dict[str, Any]) -> None:
    assert document["servers"] == [
        {
            "url": "/",
            "description": "This service: paths are relative to where this document is served.",
        }
    ]


def _op(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation
