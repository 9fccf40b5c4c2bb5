"""The preflight rules across an account's connections (``domain/preflight_account.py``):
what counts as the same tax id, the same brand and the same campaign."""

from __future__ import annotations

import copy
from typing import Any

from domain.compliance.account_rules import MAX_CAMPAIGNS_PER_BRAND
from domain.compliance.preflight import preflight
from tests.support.compliance_payloads import GOOD


def rules(payload: dict[str, Any], others: list[dict[str, Any]]) -> set[str]:
    return {f.rule for f in preflight(payload, others=others).findings}


def with_brand(**brand: Any) -> dict[str, Any]:
    payload = copy.deepcopy(GOOD)
    payload["brand"].update(brand)
    return payload


def test_the_same_tax_id_written_otherwise_under_another_company_name_is_refused() -> None:
    other = with_brand(registrationNumber="123456789", companyName="Another Name Inc")
    assert "account.ein_company_mismatch" in rules(GOOD, [other])  # GOOD: "12-3456789"


def test_the_same_company_spaced_or_cased_otherwise_is_the_same_company() -> None:
    other = with_brand(companyName="  acme   DENTAL llc ")
    assert "account.ein_company_mismatch" not in rules(GOOD, [other])


def campaigns_of(payload: dict[str, Any], count: int, **brand: Any) -> list[dict[str, Any]]:
    others = []
    for index in range(count):
        other = with_brand(**brand)
        other["campaign"]["campaignDescription"] = f"Reminders, series {index}."
        others.append(other)
    return others


def test_a_brand_is_known_by_its_tax_id_whatever_the_company_name() -> None:
    others = campaigns_of(GOOD, MAX_CAMPAIGNS_PER_BRAND, companyName="Acme Dental Group")
    assert "account.brand_campaign_limit" in rules(GOOD, others)


def test_a_campaign_with_its_fields_in_another_order_is_the_same_campaign() -> None:
    others = campaigns_of(GOOD, MAX_CAMPAIGNS_PER_BRAND - 1)
    reordered = copy.deepcopy(GOOD)
    reordered["campaign"] = dict(reversed(list(GOOD["campaign"].items())))
    assert "account.brand_campaign_limit" not in rules(GOOD, [*others, reordered])
    another = with_brand()
    another["campaign"]["campaignDescription"] = "Another series."
    assert "account.brand_campaign_limit" in rules(GOOD, [*others, another])
