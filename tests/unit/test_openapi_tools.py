"""The served OpenAPI document is readable by tools (issue 20, item 1): every reference
resolves (what ``redocly lint`` checks), public routes say ``security: []``, the licence
is set, and parameter schemas say what the server enforces."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from api.main import create_app
from api.openapi import hoist_defs, unresolved_references
from api.preconditions import IF_MATCH_PATTERN
from domain.regions import load_regions
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET
from tests.support.compliance_payloads import GOOD

COMPLIANCE = "/channels/sms/connections/{connection_id}/compliance"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(persistence="memory", jwt_secret=JWT_SECRET)).openapi()


def _parameter(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    parameters = document["paths"][path][method]["parameters"]
    found: dict[str, Any] = next(p for p in parameters if p["name"] == name)
    return found


def test_every_reference_of_the_served_document_resolves(document: dict[str, Any]) -> None:
    assert unresolved_references(document) == []


def test_the_resolver_reports_a_reference_that_does_not_resolve() -> None:
    broken = {"components": {"schemas": {"A": {}}}, "x": [{"$ref": "#/components/schemas/B"}]}
    assert unresolved_references(broken) == ["#/components/schemas/B"]
    assert unresolved_references({"x": {"$ref": "#/$defs/A"}, "$defs": {"A": {}}}) == []


def test_the_compliance_put_body_is_registered_under_components(document: dict[str, Any]) -> None:
    body = document["paths"][COMPLIANCE]["put"]["requestBody"]["content"]["application/json"]
    assert "$defs" not in str(body)
    schemas = document["components"]["schemas"]
    assert {"BrandDraft", "CampaignDraft"} <= schemas.keys()


def test_a_json_schema_validator_resolves_the_compliance_body(document: dict[str, Any]) -> None:
    # An independent resolver (jsonschema-rs) against the document's components.
    body = document["paths"][COMPLIANCE]["put"]["requestBody"]["content"]["application/json"]
    validator = jsonschema_rs.validator_for(
        {**body["schema"], "components": document["components"]}
    )
    assert validator.is_valid(GOOD)
    assert not validator.is_valid({"brand": {"displayName": 7}})


def test_nested_defs_are_hoisted_and_references_rewritten() -> None:
    schemas: dict[str, Any] = {}
    operation = {"schema": {"$defs": {"A": {"$defs": {"B": {}}, "$ref": "#/$defs/B"}}}}
    hoist_defs(operation, schemas)
    assert operation == {"schema": {}}
    assert schemas == {"A": {"$ref": "#/components/schemas/B"}, "B": {}}


def test_public_operations_declare_no_security(document: dict[str, Any]) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/providers/{provider}/webhooks"):
        for operation in document["paths"][path].values():
            assert operation["security"] == [], path
    connect = document["paths"]["/channels/sms/connect"]["post"]
    assert connect["security"] == [{"HTTPBearer": []}]


def test_every_operation_states_its_security(document: dict[str, Any]) -> None:
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert all("security" in op for op in operations)


def test_the_licence_is_set(document: dict[str, Any]) -> None:
    assert document["info"]["license"]["name"]


def test_parameter_schemas_say_what_the_server_enforces(document: dict[str, Any]) -> None:
    path = "/channels/sms/connections/{connection_id}"
    if_match = _parameter(document, path, "patch", "If-Match")
    assert if_match["schema"]["pattern"] == IF_MATCH_PATTERN
    history = _parameter(document, COMPLIANCE + "/history", "get", "asOf")
    assert history["schema"]["format"] == "date-time"
    country = _parameter(document, "/channels/sms/numbers", "get", "countryCode")
    assert country["schema"]["enum"] == [r.iso_code for r in load_regions().countries]


def test_if_match_is_required_where_its_absence_is_428(document: dict[str, Any]) -> None:
    assert _parameter(document, COMPLIANCE, "put", "If-Match")["required"] is True
    path = "/channels/sms/connections/{connection_id}"
    assert _parameter(document, path, "patch", "If-Match")["required"] is False


def test_header_parameters_are_never_null(document: dict[str, Any]) -> None:
    headers = [
        p
        for item in document["paths"].values()
        for op in item.values()
        for p in op.get("parameters", [])
        if p["in"] == "header"
    ]
    assert headers
    assert all(p["schema"]["type"] == "string" and "anyOf" not in p["schema"] for p in headers)
