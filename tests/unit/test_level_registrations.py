"""A brand or campaign registration (``domain/registrations.py``'s ``LevelRegistration``)
on its own: what opening, resubmitting, the provider's created object and its status
reports record (and when they record nothing), with the provider's free texts through the
text rule, and the keys a submission is shared by."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any
from uuid import UUID

import pytest

from domain.errors import InvalidTextError
from domain.ids import REGISTRATIONS_NAMESPACE, brand_registration_id, campaign_registration_id
from domain.registration_levels import LevelState, Reason
from domain.registrations import (
    RESUBMITTABLE,
    LevelRegistration,
    brand_identity,
    digest,
    payload_json,
    registration_ids,
)

REASON = Reason("30794", "Mismatch", ("brand.ein",))


def opened(level: Any = "brand") -> LevelRegistration:
    return LevelRegistration.open(
        registration_id=uuid.uuid4(), level=level, account_id="acc_1", digest="d1"
    )


def created(registration: LevelRegistration | None = None, **more: Any) -> LevelRegistration:
    registration = registration or opened()
    given: dict[str, Any] = {
        "provider": "sandbox", "ref": "BN1", "status": "pending", "raw_status": "PENDING",
    }  # fmt: skip
    registration.record_created(**{**given, **more})
    return registration


def events(registration: LevelRegistration) -> list[str]:
    return [type(e).__name__ for e in registration.collect_events()]


def test_a_new_registration_is_submitted_attempt_one_awaiting_the_provider() -> None:
    registration = opened("campaign")
    assert (registration.level, registration.account_id, registration.digest) == (
        "campaign", "acc_1", "d1",
    )  # fmt: skip
    assert registration.attempt == 1
    assert registration.state == LevelState("submitted")
    assert registration.needs_provider
    assert registration.step_reference == f"{registration.id}.1"
    assert (registration.provider, registration.service_ref, registration.connection_ids) == (
        None, None, [],
    )  # fmt: skip


def test_the_account_id_must_be_an_id() -> None:
    with pytest.raises(InvalidTextError) as refused:
        LevelRegistration.open(
            registration_id=uuid.uuid4(), level="brand", account_id="acc 1", digest="d"
        )
    assert refused.value.field == "acc"


def test_linking_a_connection_twice_links_it_once() -> None:
    registration = opened()
    first, second = uuid.uuid4(), uuid.uuid4()
    registration.link(first)
    registration.link(first)
    registration.link(second)
    assert registration.connection_ids == [first, second]
    assert events(registration) == ["Opened", "ConnectionLinked", "ConnectionLinked"]


def test_the_created_object_records_provider_reference_status_and_texts() -> None:
    registration = created(service_ref="MG1", identity_status="VERIFIED")
    assert registration.provider == "sandbox"
    assert registration.service_ref == "MG1"
    assert registration.state == LevelState("pending", "PENDING", "BN1", (), "VERIFIED")
    assert not registration.needs_provider


def test_the_same_created_object_again_records_nothing() -> None:
    registration = created()
    created(registration, status="approved", raw_status="APPROVED")
    assert registration.state == LevelState("pending", "PENDING", "BN1")
    assert events(registration) == ["Opened", "ProviderRefRecorded"]


def test_the_created_objects_references_are_refused_not_cleaned() -> None:
    with pytest.raises(InvalidTextError) as ref:
        created(ref="BN\x001")
    assert ref.value.field == "providerRef"
    with pytest.raises(InvalidTextError) as service:
        created(service_ref="MG 1")
    assert service.value.field == "serviceRef"


def test_the_created_objects_free_texts_are_cleaned_and_cut_at_256() -> None:
    registration = created(raw_status="P\x00" + "x" * 300, identity_status="V\u202e")
    assert registration.state.raw_status == "P\ufffd" + "x" * 254
    assert registration.state.identity_status == "V\ufffd"
    assert created(raw_status=None).state.raw_status is None


def test_a_status_report_records_status_raw_status_and_reasons_under_the_same_reference() -> None:
    registration = created(identity_status="UNVERIFIED")
    registration.record_status("rejected", raw_status="FAILED", reasons=(REASON,))
    assert registration.state == LevelState("rejected", "FAILED", "BN1", (REASON,), "UNVERIFIED")
    registration.record_status("approved", raw_status="OK", reasons=(), identity_status="VERIFIED")
    assert registration.state == LevelState("approved", "OK", "BN1", (), "VERIFIED")
    replayed: Any = None
    for event in registration.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.state == registration.state


def test_an_unchanged_status_report_records_nothing() -> None:
    registration = created(identity_status="VERIFIED")
    registration.collect_events()
    registration.record_status("pending", raw_status="PENDING", reasons=())
    registration.record_status("pending", raw_status="PENDING", reasons=(), identity_status=None)
    assert registration.collect_events() == []
    registration.record_status("pending", raw_status="PENDING", reasons=(REASON,))
    assert [type(e).__name__ for e in registration.collect_events()] == ["StatusChanged"]


def test_a_status_reports_free_texts_are_cleaned_and_cut_at_256() -> None:
    registration = created()
    registration.record_status(
        "pending", raw_status="R\x07" + "y" * 300, reasons=(), identity_status="I\x00"
    )
    assert registration.state.raw_status == "R\ufffd" + "y" * 254
    assert registration.state.identity_status == "I\ufffd"
    registration.record_status("pending", raw_status=None, reasons=())
    assert registration.state.raw_status is None
    assert registration.state.identity_status == "I\ufffd"  # kept when not reported


@pytest.mark.parametrize("status", sorted(RESUBMITTABLE))
def test_a_refused_registration_whose_payload_changed_is_a_new_attempt(status: Any) -> None:
    registration = created(service_ref="MG1")
    registration.record_status(status, raw_status=None, reasons=())
    registration.resubmit_if_changed("d2")
    assert (registration.digest, registration.attempt) == ("d2", 2)
    assert registration.state == LevelState("submitted")
    assert registration.service_ref is None
    assert registration.needs_provider
    assert registration.step_reference == f"{registration.id}.2"


@pytest.mark.parametrize("status", ["pending", "approved", "suspended"])
def test_a_registration_not_refused_is_not_sent_again(status: Any) -> None:
    registration = created()
    registration.record_status(status, raw_status=None, reasons=())
    registration.resubmit_if_changed("d2")
    assert (registration.digest, registration.attempt, registration.state.status) == (
        "d1", 1, status,
    )  # fmt: skip


def test_a_refused_registration_with_the_same_payload_is_not_sent_again() -> None:
    registration = created()
    registration.record_status("rejected", raw_status=None, reasons=())
    registration.resubmit_if_changed("d1")
    assert (registration.attempt, registration.state.status) == (1, "rejected")


def test_the_resubmittable_statuses_are_rejected_action_required_and_expired() -> None:
    assert {"rejected", "action_required", "expired"} == RESUBMITTABLE


def test_the_digest_is_the_sha256_of_sorted_compact_json_with_unicode_kept() -> None:
    payload = {"b": 1, "a": ["é", None]}
    text = '{"a":["é",null],"b":1}'
    assert payload_json(payload) == text
    assert digest(payload) == hashlib.sha256(text.encode()).hexdigest()


def test_a_brand_is_identified_by_its_ein_digits_and_country() -> None:
    assert brand_identity({"registrationNumber": "12-345 6789", "country": "CA"}) == (
        "ein|CA|123456789"
    )
    assert brand_identity({"registrationNumber": None}) == "ein|US|"


@pytest.mark.parametrize("key", ["entity", "brandType"])
def test_a_sole_proprietor_is_identified_by_the_persons_own_fields(key: str) -> None:
    brand = {
        key: "SOLE_PROPRIETOR",
        "displayName": " Ada Lovelace ",
        "contactPhone": "+14155550100",
        "contactEmail": "Ada@Example.com",
        "registrationNumber": "123",
    }
    assert brand_identity(brand) == "sole|ada lovelace|+14155550100|ada@example.com"
    assert brand_identity({key: "SOLE_PROPRIETOR"}) == "sole|||"


def test_registration_ids_are_derived_from_account_brand_identity_and_campaign_content() -> None:
    # Part of the stored data: the derivation is written out here, not called.
    namespace = UUID("3c1d9a47-5e2b-4f61-9b8a-7d0e4c2f1a66")
    assert namespace == REGISTRATIONS_NAMESPACE
    brand = uuid.uuid5(uuid.uuid5(namespace, "acc_1"), "brand|ein|US|123456789")
    assert brand_registration_id("acc_1", "ein|US|123456789") == brand
    assert campaign_registration_id(brand, '{"a":1}') == uuid.uuid5(brand, 'campaign|{"a":1}')
    payload = {"brand": {"registrationNumber": "12-3456789"}, "campaign": {"a": 1}}
    assert registration_ids("acc_1", payload) == (brand, uuid.uuid5(brand, 'campaign|{"a":1}'))


def test_brands_of_other_eins_get_other_registrations() -> None:
    first = registration_ids("acc_1", {"brand": {"registrationNumber": "12-3456789"}})
    second = registration_ids("acc_1", {"brand": {"registrationNumber": "98-7654321"}})
    assert first[0] != second[0]
