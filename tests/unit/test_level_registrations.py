"""A brand or campaign registration (``domain/registrations.py``'s ``LevelRegistration``)
on its own: what opening, resubmitting, the provider's created object and its status
reports record (and when they record nothing), with the provider's free texts through the
text rule, and the keys a submission is shared by."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.carriers import CarrierState, Throughput
from domain.errors import InvalidTextError
from domain.ids import REGISTRATIONS_NAMESPACE, brand_registration_id, campaign_registration_id
from domain.registration_levels import LevelState, Reason
from domain.registrations import (
    RESUBMITTABLE,
    LevelRegistration,
    RegistrationRef,
    Vetting,
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


def test_a_resubmission_as_a_new_object_is_recorded_as_not_in_place() -> None:
    registration = created()
    registration.record_status("rejected", raw_status=None, reasons=())
    registration.collect_events()
    registration.resubmit_if_changed("d2")
    (resubmitted,) = registration.collect_events()
    assert isinstance(resubmitted, LevelRegistration.Resubmitted)
    assert (resubmitted.digest, resubmitted.attempt, resubmitted.in_place) == ("d2", 2, False)
    assert resubmitted.in_place is False  # a stored fact: False, never None
    assert not registration.update_due


def rejected_campaign() -> LevelRegistration:
    registration = created(opened("campaign"), ref="CM1", service_ref="MG1")
    registration.record_status("rejected", raw_status="FAILED", reasons=(REASON,))
    registration.collect_events()
    return registration


def test_a_rejected_campaign_fixed_in_place_keeps_its_reference_and_awaits_the_update() -> None:
    registration = rejected_campaign()
    registration.resubmit_in_place("d2")
    assert (registration.digest, registration.attempt) == ("d2", 2)
    assert registration.state == LevelState("submitted", None, "CM1")
    assert registration.service_ref == "MG1"
    assert registration.update_due
    assert not registration.needs_provider
    (resubmitted,) = registration.collect_events()
    assert isinstance(resubmitted, LevelRegistration.Resubmitted)
    assert (resubmitted.digest, resubmitted.attempt, resubmitted.in_place) == ("d2", 2, True)


def test_a_second_in_place_fix_is_the_next_attempt() -> None:
    registration = rejected_campaign()
    registration.resubmit_in_place("d2")
    registration.record_updated(status="rejected", raw_status="FAILED")
    registration.resubmit_in_place("d3")
    assert (registration.digest, registration.attempt) == ("d3", 3)


@pytest.mark.parametrize("status", ["action_required", "expired", "pending", "approved"])
def test_only_a_rejected_campaign_is_fixed_in_place(status: Any) -> None:
    registration = rejected_campaign()
    registration.record_status(status, raw_status=None, reasons=())
    registration.collect_events()
    registration.resubmit_in_place("d2")
    assert registration.collect_events() == []
    assert (registration.digest, registration.attempt, registration.update_due) == ("d1", 1, False)


def test_an_unchanged_payload_or_a_campaign_without_a_reference_is_not_fixed_in_place() -> None:
    registration = rejected_campaign()
    registration.resubmit_in_place("d1")
    assert registration.collect_events() == []
    never_created = opened("campaign")
    never_created.record_status("rejected", raw_status=None, reasons=())
    never_created.collect_events()
    never_created.resubmit_in_place("d2")
    assert never_created.collect_events() == []
    assert (never_created.attempt, never_created.update_due) == (1, False)


def test_the_update_taken_records_its_status_and_cleaned_raw_status_once() -> None:
    registration = rejected_campaign()
    registration.resubmit_in_place("d2")
    registration.collect_events()
    registration.record_updated(status="pending", raw_status="IN\x00PROGRESS" + "z" * 300)
    assert registration.state == LevelState("pending", "IN\ufffdPROGRESS" + "z" * 245, "CM1")
    assert not registration.update_due
    (updated,) = registration.collect_events()
    assert isinstance(updated, LevelRegistration.Updated)
    assert (updated.status, updated.raw_status) == ("pending", registration.state.raw_status)
    registration.record_updated(status="approved", raw_status="OK")  # no update due
    assert registration.collect_events() == []
    assert registration.state.status == "pending"


def test_a_status_report_waits_while_an_in_place_update_is_not_sent() -> None:
    registration = rejected_campaign()
    registration.resubmit_in_place("d2")
    registration.collect_events()
    registration.record_status("approved", raw_status="OK", reasons=())
    assert registration.collect_events() == []
    assert registration.state == LevelState("submitted", None, "CM1")


def test_a_status_report_records_carriers_and_throughput_and_a_report_without_keeps_them() -> None:
    registration = created(opened("campaign"), ref="CM1")
    said = (CarrierState("att", "approved"), CarrierState("tmobile", "pending"))
    throughput = Throughput(tmobile_tier="LOW", tmobile_daily_cap=2000)
    registration.record_status(
        "pending", raw_status="P", reasons=(), carriers=said, throughput=throughput
    )
    assert (registration.state.carriers, registration.state.throughput) == (said, throughput)
    registration.record_status("pending", raw_status="Q", reasons=())  # neither reported
    assert registration.state == LevelState("pending", "Q", "CM1", (), None, said, throughput)
    now = (CarrierState("att", "approved"), CarrierState("tmobile", "approved"))
    faster = Throughput(att_tpm=4500)
    registration.record_status("approved", raw_status="Q", reasons=(), carriers=now,
                               throughput=faster)  # fmt: skip
    assert registration.state == LevelState("approved", "Q", "CM1", (), None, now, faster)
    replayed: Any = None
    for event in registration.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.state == registration.state


def test_a_report_of_the_same_carriers_and_throughput_again_records_nothing() -> None:
    registration = created(opened("campaign"), ref="CM1")
    said = (CarrierState("att", "approved"),)
    registration.record_status("pending", raw_status="P", reasons=(), carriers=said,
                               throughput=Throughput(att_tpm=1))  # fmt: skip
    registration.collect_events()
    registration.record_status("pending", raw_status="P", reasons=(), carriers=said,
                               throughput=Throughput(att_tpm=1))  # fmt: skip
    registration.record_status("pending", raw_status="P", reasons=())
    assert registration.collect_events() == []
    registration.record_status("pending", raw_status="P", reasons=(), carriers=())
    (changed,) = registration.collect_events()
    assert isinstance(changed, LevelRegistration.StatusChanged)
    assert (changed.carriers, changed.throughput) == ([], Throughput(att_tpm=1).as_dict())


def test_a_vetting_records_its_kind_reference_status_and_cleaned_texts() -> None:
    registration = created()
    registration.record_vetted(
        kind="secondary",
        ref="VT1",
        status="pending",
        raw_status="PEND\x00" + "p" * 300,
        vetting_class="C\u202e",
    )
    found = Vetting("secondary", "VT1", "pending", "PEND\ufffd" + "p" * 251, "C\ufffd")
    assert registration.vettings == {"secondary": found}
    recorded = registration.collect_events()
    vetted = recorded[-1]
    assert isinstance(vetted, LevelRegistration.Vetted)
    assert (vetted.kind, vetted.ref, vetted.status, vetted.raw_status, vetted.vetting_class) == (
        "secondary", "VT1", "pending", found.raw_status, "C\ufffd")  # fmt: skip
    replayed: Any = None
    for event in recorded:
        replayed = event.mutate(replayed)
    assert replayed.vettings == {"secondary": found}


def test_the_same_vetting_again_records_nothing_and_another_kind_is_kept_beside_it() -> None:
    registration = created()
    registration.record_vetted(kind="secondary", ref="VT1", status="pending", raw_status="P",
                               vetting_class=None)  # fmt: skip
    registration.collect_events()
    registration.record_vetted(kind="secondary", ref="VT1", status="pending", raw_status="P",
                               vetting_class=None)  # fmt: skip
    assert registration.collect_events() == []
    registration.record_vetted(kind="campaign_verify", ref="VT2", status="approved",
                               raw_status=None, vetting_class=None)  # fmt: skip
    registration.record_vetted(kind="secondary", ref="VT1", status="approved", raw_status="A",
                               vetting_class="STANDARD")  # fmt: skip
    assert [type(e).__name__ for e in registration.collect_events()] == ["Vetted", "Vetted"]
    assert registration.vettings == {
        "secondary": Vetting("secondary", "VT1", "approved", "A", "STANDARD"),
        "campaign_verify": Vetting("campaign_verify", "VT2", "approved", None, None),
    }


def test_a_vettings_reference_is_refused_not_cleaned() -> None:
    with pytest.raises(InvalidTextError):
        created().record_vetted(kind="secondary", ref="VT 1", status="pending",
                                raw_status=None, vetting_class=None)  # fmt: skip


T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_report_dated_before_the_latest_applied_is_stale_and_one_dated_the_same_is_not() -> None:
    ref = RegistrationRef.index("sandbox", "campaign", "CM1", uuid.uuid4())
    assert not ref.is_stale(T0)  # nothing applied yet
    ref.reported(T0)
    assert ref.is_stale(T0 - timedelta(seconds=1))
    assert not ref.is_stale(T0)
    assert not ref.is_stale(T0 + timedelta(seconds=1))
    assert not ref.is_stale(None)


def test_only_a_newer_report_moves_the_latest_applied() -> None:
    ref = RegistrationRef.index("sandbox", "campaign", "CM1", uuid.uuid4())
    ref.reported(None)
    assert ref.reported_at is None
    ref.reported(T0)
    ref.collect_events()
    ref.reported(T0)
    ref.reported(T0 - timedelta(seconds=1))
    ref.reported(None)
    assert ref.collect_events() == []
    assert ref.reported_at == T0
    ref.reported(T0 + timedelta(seconds=1))
    (moved,) = ref.collect_events()
    assert isinstance(moved, RegistrationRef.Reported)
    assert moved.at == ref.reported_at == T0 + timedelta(seconds=1)


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
