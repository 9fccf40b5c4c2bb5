"""The Twilio adapter and the fake Twilio against Twilio's own OpenAPI (the reference
subsets vendored in tests/data/provider_openapi, whose README says where they come from):
every request the adapter sends is a documented path and
method with documented query and form parameter names (and the required ones), and every
answer the fake gives validates against the documented response schema.

One exception, named here: ``Addresses.json`` (api_v2010), which the brand step uses for
the business's address and which the reference subset does not include.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from providers.twilio import TwilioConfig, TwilioProvider
from tests.support.compliance_payloads import GOOD
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, available, fake_twilio

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "provider_openapi"
FILES = (
    "twilio-api-v2010-numbers.json",
    "twilio-numbers-v2-hosted.json",
    "twilio-messaging-v1-a2p.json",
    "twilio-trusthub-v1.json",
)
OUTSIDE_THE_REFERENCE = re.compile(r"/2010-04-01/Accounts/[^/]+/Addresses\.json")
NUMBER = "+18089251571"
HOSTED = "+18089251599"


@cache
def documents() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((REFERENCE / name).read_text()) for name in FILES)


def reference_enum(name: str) -> list[str]:
    for document in documents():
        schema = document["components"]["schemas"].get(name)
        if schema is not None:
            return list(schema["enum"])
    raise KeyError(name)


def operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(document, operation) of the documented path template ``path`` matches."""
    for document in documents():
        for template, operations in document["paths"].items():
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
            if re.fullmatch(pattern, path) and method.lower() in operations:
                return document, operations[method.lower()]
    return None


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return schema


_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def problems(document: dict[str, Any], schema: dict[str, Any], value: Any, at: str) -> list[str]:
    """What in ``value`` the schema does not allow: unknown keys, missing required keys,
    wrong JSON types, values off an enum."""
    schema = resolve(document, schema)
    if value is None:
        return [] if schema.get("nullable") or "type" not in schema else [f"{at}: null"]
    expected = _TYPES.get(schema.get("type", ""))
    if expected and (not isinstance(value, expected) or (value is True and expected is int)):
        return [f"{at}: not {schema['type']}"]
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{at}: {value!r} off the enum")
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        found += [f"{at}.{k}: undocumented" for k in value if k not in properties]
        found += [f"{at}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key in properties:
                found += problems(document, properties[key], item, f"{at}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict) and schema["items"]:
        for index, item in enumerate(value):
            found += problems(document, schema["items"], item, f"{at}[{index}]")
    return found


@pytest.fixture(scope="module")
def exercised() -> Iterator[FakeTwilio]:
    """A fake Twilio after the adapter took every call it makes: search, purchase, status
    lookup, hosting, release, and brand → campaign → number with their polls."""
    with fake_twilio() as fake:
        fake.inventory["US"] = [available(NUMBER)]
        config = TwilioConfig(
            account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=fake.url,
            numbers_base_url=fake.url, messaging_base_url=fake.url, trusthub_base_url=fake.url,
            hosting_address_sid="AD" + "1" * 32, hosting_email="owner@example.com",
            hosting_contact_phone="+12344444444", inbound_url="https://ingest.example.test/sms",
            a2p_mock=True, primary_profile_sid="BU" + "2" * 32,
        )  # fmt: skip
        twilio = TwilioProvider(config, sleep=lambda _: None)
        twilio.search("US", "808", "925", 5)
        bought = twilio.purchase("US", NUMBER, reference="conn-1")
        twilio.holding(NUMBER)
        list(twilio.held_numbers())
        order = twilio.start_hosting("US", HOSTED, reference="conn-2")
        twilio.hosting_status(order.ref)
        twilio.release(order.ref)
        brand = twilio.create_brand(GOOD["brand"], reference="b.1")
        twilio.registration_status("brand", brand.ref)
        fake.a2p.set_brand(brand.ref, "APPROVED")
        campaign = twilio.create_campaign(GOOD["campaign"], brand_ref=brand.ref, reference="c.1")
        twilio.registration_status("campaign", campaign.ref)
        twilio.vet_brand(
            brand.ref, vetting_provider="campaign-verify", vetting_id="cv|token", reference="v.1"
        )
        fake.a2p.set_campaign(campaign.ref, "FAILED")  # refused: resubmitted in place
        twilio.update_campaign(
            GOOD["campaign"], ref=campaign.ref, service_ref=campaign.service_ref, reference="c.2"
        )
        number = twilio.register_number(
            NUMBER, bought.ref, campaign_ref=campaign.ref, service_ref=campaign.service_ref,
            reference="n.1",
        )  # fmt: skip
        twilio.registration_status("number", number.ref)
        twilio.release(bought.ref)
        twilio.close()
        yield fake


def test_every_request_is_a_documented_operation_with_documented_parameters(
    exercised: FakeTwilio,
) -> None:
    found: list[str] = []
    for request in exercised.requests:
        if OUTSIDE_THE_REFERENCE.fullmatch(request.path):
            continue
        documented = operation(request.method, request.path)
        if documented is None:
            found.append(f"{request.method} {request.path}: not in the reference")
            continue
        document, op = documented
        names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        found += [f"{request.path}?{q}: undocumented" for q in request.query if q not in names]
        body = op.get("requestBody", {}).get("content", {})
        schema = resolve(
            document, body.get("application/x-www-form-urlencoded", {}).get("schema", {})
        )
        properties = schema.get("properties", {})
        found += [
            f"{request.method} {request.path} {f}: undocumented"
            for f in request.form
            if f not in properties
        ]
        found += [
            f"{request.method} {request.path} {f}: required, not sent"
            for f in schema.get("required", [])
            if f not in request.form
        ]
    assert found == []


def test_the_adapter_took_every_registration_call(exercised: FakeTwilio) -> None:
    sid = re.compile(r"[A-Z]{2}[0-9a-f]{32}")
    paths = {(r.method, sid.sub("{sid}", r.path)) for r in exercised.requests}
    for expected in [
        ("POST", "/v1/CustomerProfiles"),
        ("POST", "/v1/CustomerProfiles/{sid}/EntityAssignments"),
        ("POST", "/v1/CustomerProfiles/{sid}/Evaluations"),
        ("POST", "/v1/CustomerProfiles/{sid}"),
        ("POST", "/v1/EndUsers"),
        ("POST", "/v1/SupportingDocuments"),
        ("POST", "/v1/TrustProducts"),
        ("POST", "/v1/TrustProducts/{sid}/EntityAssignments"),
        ("POST", "/v1/TrustProducts/{sid}/Evaluations"),
        ("POST", "/v1/TrustProducts/{sid}"),
        ("POST", "/v1/a2p/BrandRegistrations"),
        ("GET", "/v1/a2p/BrandRegistrations/{sid}"),
        ("POST", "/v1/Services"),
        ("POST", "/v1/Services/{sid}/Compliance/Usa2p"),
        ("GET", "/v1/Services/{sid}/Compliance/Usa2p"),
        ("POST", "/v1/Services/{sid}/Compliance/Usa2p/{sid}"),
        ("GET", "/v1/a2p/BrandRegistrations/{sid}/Vettings"),
        ("POST", "/v1/a2p/BrandRegistrations/{sid}/Vettings"),
        ("POST", "/v1/Services/{sid}/PhoneNumbers"),
        ("GET", "/v1/Services/{sid}/PhoneNumbers/{sid}"),
    ]:
        assert expected in paths


def test_every_answer_of_the_fake_validates_against_the_reference(
    exercised: FakeTwilio,
) -> None:
    found: list[str] = []
    checked = 0
    for method, path, status, body in exercised.responses:
        if body is None or OUTSIDE_THE_REFERENCE.fullmatch(path):
            continue
        documented = operation(method, path)
        assert documented is not None, f"{method} {path}"
        document, op = documented
        if status >= 400:  # the subsets document no error bodies: Twilio's REST error shape
            if set(body) != {"code", "message", "more_info", "status"}:
                found.append(f"{method} {path}: {status} is not Twilio's error shape")
            continue
        answer = op["responses"].get(str(status))
        if answer is None:
            found.append(f"{method} {path}: {status} is not a documented answer")
            continue
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        checked += 1
        found += problems(document, schema, body, f"{method} {path}")
    assert found == []
    assert checked >= 20
