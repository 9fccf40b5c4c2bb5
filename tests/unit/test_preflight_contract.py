"""The preflight's findings as the served OpenAPI document describes them."""

from __future__ import annotations

from api.main import create_app
from api.schemas.compliance import preflight_out
from domain.compliance.preflight import preflight
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET
from tests.support.compliance_payloads import good_with


def test_the_openapi_document_requires_provider_codes_on_every_finding() -> None:
    document = create_app(Settings(persistence="memory", jwt_secret=JWT_SECRET)).openapi()
    finding = document["components"]["schemas"]["FindingOut"]
    assert "providerCodes" in finding["required"]
    assert finding["properties"]["providerCodes"]["items"] == {"type": "string"}


def test_a_finding_goes_on_the_wire_with_its_codes_in_camel_case() -> None:
    report = preflight(good_with(brand_contactEmail="acme.dental@gmail.com"))
    body = preflight_out(report).model_dump(mode="json", by_alias=True)
    assert body["findings"] == [
        {
            "field": "brand.contactEmail",
            "rule": "brand.free_mail_email",
            "severity": "error",
            "message": "Use a contact email on the brand's own domain, not a free mailbox "
            "provider.",
            "providerCodes": ["30881"],
        }
    ]
