"""Section progress: the accordion's completion markers, field names only."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from domain.compliance.progress import SECTION_NAMES, compliance_progress
from tests.support.compliance_payloads import (
    DELETE,
    GOOD,
    REQUIRED_TEXT_FIELDS,
    blank,
    compliance_payloads,
    good_with,
    marked_payload,
    value_at,
)

SECTIONS = (
    "brand_identity",
    "brand_contact",
    "campaign_details",
    "message_samples",
    "opt_in",
    "opt_out",
    "help",
    "campaign_attributes",
)


def section(payload: dict[str, Any] | None, name: str) -> tuple[bool, list[str]]:
    found = next(s for s in compliance_progress(payload).sections if s.name == name)
    return found.complete, found.missing


def test_the_sections_come_in_accordion_order() -> None:
    assert [s.name for s in compliance_progress(None).sections] == list(SECTIONS)
    assert SECTION_NAMES == SECTIONS


def test_a_connection_without_compliance_has_no_complete_section() -> None:
    progress = compliance_progress(None)
    assert (progress.complete_sections, progress.total_sections) == (0, 8)
    assert not any(s.complete for s in progress.sections)


def test_a_complete_payload_completes_every_section() -> None:
    progress = compliance_progress(GOOD)
    assert (progress.complete_sections, progress.total_sections) == (8, 8)
    assert all(s.missing == [] for s in progress.sections)


REPRESENTATIVE = ("FirstName", "LastName", "Email", "Phone", "Title", "JobPosition")
FLAGS = ("numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent")


def expected_missing(payload: dict[str, Any]) -> dict[str, list[str]]:
    """Section → its blank required fields, in form order."""
    missing = {
        name: [f for f in fields if blank(value_at(payload, f))]
        for name, fields in REQUIRED_TEXT_FIELDS.items()
    }
    if value_at(payload, "brand.entity") == "SOLE_PROPRIETOR":  # registers without a tax id
        missing["brand_identity"] = [
            f for f in missing["brand_identity"] if f != "brand.registrationNumber"
        ]
    if value_at(payload, "brand.entity") == "PUBLIC_PROFIT":  # registers its stock listing
        missing["brand_identity"] += [
            f for f in ("brand.stockSymbol", "brand.stockExchange") if blank(value_at(payload, f))
        ]
    representative = [f"brand.authorizedRep{n}" for n in REPRESENTATIVE]
    if any(not blank(value_at(payload, f)) for f in representative):  # started: all of it
        missing["brand_contact"] += [f for f in representative if blank(value_at(payload, f))]
    samples = value_at(payload, "campaign.messageSamples") or []
    empty = [i for i in range(5) if i >= len(samples) or blank(samples[i])]
    still_needed = max(0, 2 - (5 - len(empty)))  # two samples, in the first empty slots
    missing["message_samples"] = [f"campaign.messageSamples.{i}" for i in empty[:still_needed]]
    unanswered = [
        f"campaign.{flag}"
        for flag in FLAGS
        if not isinstance(value_at(payload, f"campaign.{flag}"), bool)
    ]
    if value_at(payload, "campaign.termsAndConditions") is not True:
        unanswered.append("campaign.termsAndConditions")
    missing["campaign_attributes"] = unanswered
    return missing


@given(compliance_payloads)
def test_every_section_lists_exactly_the_required_fields_left_blank(
    payload: dict[str, Any],
) -> None:
    progress = compliance_progress(payload)
    expected = expected_missing(payload)
    assert {s.name: s.missing for s in progress.sections} == expected
    assert [s.complete for s in progress.sections] == [not expected[n] for n in SECTIONS]
    assert progress.complete_sections == sum(1 for fields in expected.values() if not fields)
    assert progress.total_sections == 8


def test_a_public_company_needs_its_stock_listing() -> None:
    public = good_with(brand_entity="PUBLIC_PROFIT")
    assert section(public, "brand_identity") == (
        False,
        ["brand.stockSymbol", "brand.stockExchange"],
    )
    listed = good_with(brand_entity="PUBLIC_PROFIT", brand_stockSymbol="ACME")
    assert section({**listed, "brand": {**listed["brand"], "stockExchange": "NASDAQ"}},
                   "brand_identity") == (True, [])  # fmt: skip


def test_the_authorized_representative_is_optional_but_whole_once_started() -> None:
    assert section(GOOD, "brand_contact") == (True, [])
    started = good_with(brand_authorizedRepFirstName="Ada")
    assert section(started, "brand_contact")[1] == [
        f"brand.authorizedRep{n}" for n in REPRESENTATIVE[1:]
    ]


def test_a_filled_first_sample_slot_is_not_reported_missing() -> None:
    payload = good_with(campaign_messageSamples=["Acme Dental: your visit is tomorrow at 9am."])
    assert section(payload, "message_samples") == (False, ["campaign.messageSamples.1"])


@pytest.mark.parametrize(
    ("name", "emptied", "missing"),
    [
        ("brand_identity", {"brand_displayName": ""}, ["brand.displayName"]),
        ("brand_contact", {"brand_zipCode": DELETE}, ["brand.zipCode"]),
        ("campaign_details", {"campaign_useCaseType": ""}, ["campaign.useCaseType"]),
        (
            "message_samples",
            {"campaign_messageSamples": []},
            ["campaign.messageSamples.0", "campaign.messageSamples.1"],
        ),
        ("opt_in", {"campaign_messageFlow": None}, ["campaign.messageFlow"]),
        ("opt_out", {"campaign_optOutMessage": ""}, ["campaign.optOutMessage"]),
        ("help", {"campaign_helpKeywords": DELETE}, ["campaign.helpKeywords"]),
        ("campaign_attributes", {"campaign_directLending": None}, ["campaign.directLending"]),
    ],
)
def test_a_section_with_an_empty_required_field_names_it_and_no_other_section_changes(
    name: str, emptied: dict[str, Any], missing: list[str]
) -> None:
    payload = good_with(**emptied)
    assert section(payload, name) == (False, missing)
    assert compliance_progress(payload).complete_sections == 7


def test_text_of_only_spaces_counts_as_missing() -> None:
    assert section(good_with(brand_city="   "), "brand_contact") == (False, ["brand.city"])


def test_a_sole_proprietor_needs_no_registration_number() -> None:
    payload = good_with(brand_entity="SOLE_PROPRIETOR", brand_registrationNumber="")
    assert section(payload, "brand_identity") == (True, [])


def test_other_entities_need_a_registration_number() -> None:
    payload = good_with(brand_registrationNumber="")
    assert section(payload, "brand_identity") == (False, ["brand.registrationNumber"])


def test_one_filled_sample_asks_for_the_first_empty_slot() -> None:
    payload = good_with(campaign_messageSamples=[None, "Acme Dental: see you at 9am.", ""])
    assert section(payload, "message_samples") == (False, ["campaign.messageSamples.0"])


def test_two_filled_samples_in_any_slots_complete_the_samples() -> None:
    payload = good_with(campaign_messageSamples=["", "", "Acme: one", None, "Acme: two"])
    assert section(payload, "message_samples") == (True, [])


def test_opt_in_keywords_are_optional() -> None:
    assert section(good_with(campaign_optInKeywords=DELETE), "opt_in") == (True, [])


def test_a_false_flag_is_an_answer() -> None:
    payload = good_with(campaign_numberPooling=False, campaign_ageGatedContent=False)
    assert section(payload, "campaign_attributes") == (True, [])


def test_terms_not_accepted_are_missing() -> None:
    payload = good_with(campaign_termsAndConditions=False)
    assert section(payload, "campaign_attributes") == (False, ["campaign.termsAndConditions"])


def test_progress_names_fields_and_never_holds_a_value() -> None:
    payload, markers = marked_payload()
    for name in ("displayName", "city", "zipCode"):
        payload["brand"][name] = ""
    text = repr(compliance_progress(payload))
    assert "brand.displayName" in text
    assert not [m for m in markers if m in text]


@pytest.mark.parametrize(
    "stored",
    [{"brand": "text"}, {"campaign": {"messageSamples": "text"}}, {"brand": None}, []],
)
def test_progress_tolerates_stored_data_of_any_shape(stored: Any) -> None:
    assert compliance_progress(stored).complete_sections == 0
