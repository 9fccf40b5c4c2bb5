"""Registration per carrier, throughput and remedies, in memory with the sandbox provider
(issue 31): the sandbox decides per carrier and the connection's status stays honest; the
throughput the sandbox reports reaches the registration; a refusal's reasons carry their
fields and fix; a fix the provider takes in place updates the same campaign, any other
costs a new one, and the answer says which beforehand with the attempts so far. Events
written by the previous code (no carriers, no throughput, resubmissions not in place) load."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from api.schemas.registration import registration_document
from domain.application import SmsChannels
from domain.carriers import CarrierState, Throughput
from domain.providers import ProviderEvent, RegistrationAnswer, RegistrationReported
from domain.registrations import LevelRegistration
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider, SandboxWebhook
from providers.sandbox.webhooks import _fact
from tests.support.common import unique_account
from tests.support.compliance_payloads import GOOD
from tests.support.events import application_with_stored_events
from tests.unit.test_registration import connected, run_steps, submit

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
DATA = Path(__file__).parent.parent / "data"
# GOOD's samples, the second one reworded (a fix of the samples only).
SAMPLES = [
    GOOD["campaign"]["messageSamples"][0],
    "Acme Dental: please confirm your Friday visit by replying YES.",
]


@pytest.fixture
def provider() -> SandboxProvider:
    return SandboxProvider()


@pytest.fixture
def app(provider: SandboxProvider) -> SmsChannels:
    return SmsChannels(provider, env=POPO)


def deliver(app: SmsChannels, events: list[SandboxWebhook]) -> None:
    """The sandbox's webhooks, as the service reads them."""
    for event in events:
        app.record_provider_event(ProviderEvent("sandbox", event.id, _fact(event.type, event.data)))


def registered(app: SmsChannels, account: str, compliance: dict[str, Any] = GOOD) -> UUID:
    connection_id = connected(app, account, compliance)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    return connection_id


def number_of(app: SmsChannels, account: str, connection_id: UUID) -> str:
    return app.get_connection(account, connection_id).phone_number


def document(app: SmsChannels, account: str, connection_id: UUID) -> dict[str, Any]:
    connection, facts = app.registration_view(connection_id, account_id=account)
    brand = app.brand_registration_of(connection)
    return registration_document(connection, facts, brand).model_dump(mode="json", by_alias=True)


def test_approved_by_att_and_verizon_refused_by_tmobile_is_rejected_naming_tmobile(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    number = number_of(app, account, connection_id)
    deliver(app, provider.decide_registration(number, "approved", level="brand"))
    for carrier in ("att", "verizon"):
        deliver(app, provider.decide_registration(
            number, "approved", level="campaign", carrier=carrier))  # fmt: skip
    deliver(app, provider.decide_registration(
        number, "rejected", level="campaign", carrier="tmobile", code="30892"))  # fmt: skip

    connection = app.get_connection(account, connection_id)
    assert connection.registration_status == "rejected"
    assert connection.not_permitted_on == ["tmobile"]
    answer = document(app, account, connection_id)
    carriers = {c["carrier"]: c["status"] for c in answer["campaign"]["carriers"]}
    assert carriers == {"att": "approved", "tmobile": "rejected", "verizon": "approved"}
    assert answer["campaign"]["status"] == "rejected"
    named = [r for r in answer["campaign"]["reasons"] if r["carrier"] == "tmobile"]
    assert [r["code"] for r in named] == ["30892"]
    assert named[0]["fix"]
    assert "campaign.messageSamples" in named[0]["fields"]
    assert answer["notPermittedOn"] == ["tmobile"]
    assert answer["brand"]["carriers"] is None  # the provider reports no carrier for a brand


def test_every_carrier_approving_and_the_campaign_verified_is_approved(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    number = number_of(app, account, connection_id)
    deliver(app, provider.decide_registration(number, "approved"))
    deliver(app, provider.decide_registration(
        number, "pending", level="campaign", carrier="tmobile"))  # fmt: skip
    assert app.get_connection(account, connection_id).registration_status == "pending"
    deliver(app, provider.decide_registration(
        number, "approved", level="campaign", carrier="tmobile"))  # fmt: skip
    assert app.get_connection(account, connection_id).registration_status == "approved"


def test_carriers_are_absent_where_the_provider_reports_none(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    deliver(app, provider.decide_registration(number_of(app, account, connection_id), "approved"))
    answer = document(app, account, connection_id)
    assert [answer[level]["carriers"] for level in ("brand", "campaign", "number")] == [None] * 3
    assert answer["status"] == "approved"
    assert answer["notPermittedOn"] == []


def test_the_sandboxs_throughput_reaches_the_registration_and_a_change_is_recorded(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    number = number_of(app, account, connection_id)
    assert document(app, account, connection_id)["throughput"] == {
        "brandScore": None, "tmobileTier": None, "tmobileDailyCap": None,
        "attMessageClass": None, "attTpm": None,
    }  # fmt: skip
    deliver(app, provider.set_throughput(
        number, brandScore=42, tmobileTier="LOW", attMessageClass="T", attTpm=240))  # fmt: skip
    before = app.get_connection(account, connection_id).version
    assert document(app, account, connection_id)["throughput"] == {
        "brandScore": 42, "tmobileTier": "LOW", "tmobileDailyCap": 2000,
        "attMessageClass": "T", "attTpm": 240,
    }  # fmt: skip
    deliver(app, provider.set_throughput(number, tmobileTier="MID"))
    connection = app.get_connection(account, connection_id)
    assert connection.version > before
    assert connection.registration_throughput.tmobile_daily_cap == 40_000
    assert connection.registration_throughput.brand_score == 42  # kept


def test_a_poll_records_the_carriers_and_throughput_the_provider_reports(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    number = number_of(app, account, connection_id)
    # The provider's word without its webhooks: the poll of levels in flight reads it.
    provider.decide_registration(number, "pending", level="campaign", carrier="tmobile")
    provider.set_throughput(number, brandScore=42, tmobileTier="LOW")
    assert app.poll_registration(connection_id) == 2  # the brand and the campaign
    connection = app.get_connection(account, connection_id)
    assert [(c.carrier, c.status) for c in connection.registration_carriers or ()] == [
        ("tmobile", "pending")]  # fmt: skip
    throughput = connection.registration_throughput
    assert (throughput.brand_score, throughput.tmobile_tier) == (42, "LOW")


class NumbersWithCarriers(SandboxProvider):
    """The sandbox, except that a number's registration is answered with what T-Mobile
    decided so far and the throughput of the number."""

    def register_number(self, phone_number: str, number_ref: str, **asked: Any) -> Any:
        made = super().register_number(phone_number, number_ref, **asked)
        return replace(made, carriers=(CarrierState("tmobile", "pending"),),
                       throughput=Throughput(att_message_class="T", att_tpm=240))  # fmt: skip


def test_the_number_steps_answer_records_its_carriers_and_throughput() -> None:
    app = SmsChannels(NumbersWithCarriers(), env=POPO)
    account = unique_account()
    connection_id = registered(app, account)
    number = app.get_connection(account, connection_id).level("number")
    assert number.carriers == (CarrierState("tmobile", "pending"),)
    assert number.throughput == Throughput(att_message_class="T", att_tpm=240)


class AnsweringUpdates(SandboxProvider):
    """The sandbox, except that an in-place update is answered with ``answer`` (status,
    raw status)."""

    answer: tuple[str, str] = ("pending", "PENDING")

    def update_campaign(self, campaign: Any, **asked: Any) -> Any:
        made = super().update_campaign(campaign, **asked)
        return RegistrationAnswer(made.ref, *self.answer, service_ref=made.service_ref)


@pytest.mark.parametrize(
    ("answer", "recorded"),
    [(("rejected", "UPDATE_REFUSED"), "rejected"), (("QUANTUM", "QUANTUM_UPDATE"), "pending")],
)
def test_an_in_place_update_records_the_providers_answer_in_the_services_words(
    answer: tuple[str, str], recorded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("domain.registration_levels._unknown_logged", set())  # logged once
    provider = AnsweringUpdates()
    provider.answer = answer
    app = SmsChannels(provider, env=POPO)
    account, connection_id = refused(app, provider, "30892")
    with capture_logs() as logs:
        resubmitted(app, account, connection_id, messageSamples=SAMPLES)
    campaign = app.get_connection(account, connection_id).level("campaign")
    assert (campaign.status, campaign.raw_status) == (recorded, answer[1])
    unknown = [e["raw_status"] for e in logs if e["event"] == "registration_status_unknown"]
    assert unknown == ([] if recorded == answer[0] else [answer[1]])  # named, once


def refused(app: SmsChannels, provider: SandboxProvider, code: str) -> tuple[str, UUID]:
    account = unique_account()
    connection_id = registered(app, account)
    number = number_of(app, account, connection_id)
    deliver(app, provider.decide_registration(number, "approved", level="brand"))
    deliver(app, provider.decide_registration(number, "rejected", level="campaign", code=code))
    return account, connection_id


def resubmitted(
    app: SmsChannels, account: str, connection_id: UUID, **campaign: Any
) -> dict[str, Any]:
    payload = copy.deepcopy(GOOD)
    payload["campaign"].update(campaign)
    app.update_compliance(account, connection_id, payload, by="u1")
    plan = document(app, account, connection_id)["resubmission"]
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    return dict(plan)


def test_a_sample_fix_is_resubmitted_in_place_the_same_campaign_updated(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account, connection_id = refused(app, provider, "30892")
    before = document(app, account, connection_id)
    assert before["resubmission"] == {
        "mode": "in_place",
        "attempts": 1,
        "fields": ["campaign.messageSamples", "campaign.messageFlow", "campaign.embeddedLink"],
    }
    campaigns = provider.registrations.count("campaign")
    plan = resubmitted(app, account, connection_id, messageSamples=SAMPLES)
    assert plan["mode"] == "in_place"
    assert provider.registrations.count("campaign") == campaigns  # no new campaign
    after = document(app, account, connection_id)
    assert after["campaign"]["providerRef"] == before["campaign"]["providerRef"]
    assert after["campaign"]["status"] == "pending"
    updated = provider.registrations.get(after["campaign"]["providerRef"])
    assert updated is not None
    assert updated.updates == 1
    assert after["resubmission"]["attempts"] == 2


def test_a_fix_outside_what_updates_in_place_costs_a_new_campaign(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account, connection_id = refused(app, provider, "30887")  # opt-out: not updatable
    assert document(app, account, connection_id)["resubmission"]["mode"] == "new_campaign"
    campaigns = provider.registrations.count("campaign")
    plan = resubmitted(
        app, account, connection_id,
        optOutMessage="Acme Dental: you are unsubscribed and will get no more messages.",
    )  # fmt: skip
    assert plan["mode"] == "new_campaign"
    assert provider.registrations.count("campaign") == campaigns + 1


def test_an_in_place_refusal_with_an_edit_beyond_it_says_new_campaign_before_submitting(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account, connection_id = refused(app, provider, "30892")
    payload = copy.deepcopy(GOOD)
    payload["campaign"]["useCaseType"] = "CUSTOMER_CARE"
    app.update_compliance(account, connection_id, payload, by="u1")
    assert document(app, account, connection_id)["resubmission"]["mode"] == "new_campaign"


def test_reports_about_the_campaign_before_its_update_is_sent_are_not_applied(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account, connection_id = refused(app, provider, "30892")
    payload = copy.deepcopy(GOOD)
    payload["campaign"]["messageSamples"] = SAMPLES
    app.update_compliance(account, connection_id, payload, by="u1")
    submit(app, account, connection_id)
    campaign_id = app.get_connection(account, connection_id).submission.campaign_registration_id  # type: ignore[union-attr]
    registration: LevelRegistration = app.repository.get(campaign_id)
    assert registration.update_due
    ref = registration.state.provider_ref
    assert ref is not None
    fact = RegistrationReported("campaign", ref, "rejected", "FAILED")
    app.record_provider_event(ProviderEvent("sandbox", "evt_stale_fail", fact))
    registration = app.repository.get(campaign_id)
    assert registration.state.status == "submitted"
    assert registration.update_due


def test_every_preflight_code_has_fields_and_a_fix() -> None:
    from domain.compliance.preflight import RULES  # noqa: PLC0415
    from domain.remedies import remedy_of  # noqa: PLC0415

    codes = {code for rule in RULES for code in rule.codes}
    missing = sorted(code for code in codes if remedy_of(code) is None)
    assert missing == []
    for code in codes:
        remedy = remedy_of(code)
        assert remedy is not None
        assert remedy.fields
        assert remedy.fix.endswith(".")


# --- events written by the previous code ------------------------------------------------


@pytest.mark.parametrize(
    "stored", ["events_before_explicit_classes.json", "events_before_keyed_brand_ids.json"]
)
def test_the_previous_codes_registration_events_load_without_carriers_or_throughput(
    stored: str,
) -> None:
    app = application_with_stored_events(SandboxProvider(), DATA / stored)
    ids = {UUID(r["originator_id"]) for r in json.loads((DATA / stored).read_text())}
    found = 0
    for aggregate_id in ids:
        for event in app.events.get(aggregate_id):
            if isinstance(event, LevelRegistration.StatusChanged):
                assert (event.carriers, event.throughput) == (None, None)
                found += 1
            if isinstance(event, LevelRegistration.Resubmitted):
                assert event.in_place is False
                found += 1
            if isinstance(event, SmsConnection.RegistrationLevelChanged):
                assert (event.carriers, event.throughput) == (None, None)
                found += 1
        aggregate = app.repository.get(aggregate_id)
        if isinstance(aggregate, LevelRegistration):
            assert aggregate.state.carriers is None
            assert not aggregate.update_due
    assert found


def test_a_connection_written_by_the_previous_code_takes_a_carriers_report() -> None:
    app = application_with_stored_events(
        SandboxProvider(), DATA / "events_before_keyed_brand_ids.json",
        env={"REGISTRATION_ID_KEY": "k" * 40},
    )  # fmt: skip
    account, connection_id = "acc_before_keyed_ids", UUID("17027a64-e5fa-4f44-976b-584bc9548f77")
    old = app.get_connection(account, connection_id)
    assert old.registration_carriers is None
    assert not old.registration_throughput.known
    ref = old.level("campaign").provider_ref
    assert ref is not None
    fact = RegistrationReported(
        "campaign", ref, "pending", "IN_PROGRESS",
        carriers=_fact("registration.level_changed", {
            "level": "campaign", "ref": ref, "status": "pending",
            "carriers": [{"carrier": "tmobile", "status": "rejected", "reasons": []}],
        }).carriers,  # type: ignore[union-attr]
    )  # fmt: skip
    app.record_provider_event(ProviderEvent("sandbox", "evt_after_upgrade", fact))
    connection = app.get_connection(account, connection_id)
    assert connection.registration_status == "rejected"
    assert connection.not_permitted_on == ["tmobile"]
    document(app, account, connection_id)  # the answer reads old and new facts together


# --- number pools ----------------------------------------------------------------------


def pooled(pooling: bool) -> dict[str, Any]:
    payload = copy.deepcopy(GOOD)
    payload["campaign"]["numberPooling"] = pooling
    return payload


def test_the_50th_number_of_a_campaign_without_pooling_waits_for_number_pooling(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    first = [registered(app, account, pooled(False)) for _ in range(49)]
    assert all(app.get_connection(account, c).level("number").provider_ref for c in first)
    numbers = provider.registrations.count("number")
    fiftieth = registered(app, account, pooled(False))
    connection = app.get_connection(account, fiftieth)
    number = connection.level("number")
    assert (number.status, number.provider_ref) == ("action_required", None)
    assert [r.code for r in number.reasons] == ["number_pool_required"]
    assert connection.registration_status == "action_required"
    assert provider.registrations.count("number") == numbers  # never sent to the provider
    answer = document(app, account, fiftieth)
    assert answer["number"]["reasons"][0]["fields"] == ["campaign.numberPooling"]
    assert answer["number"]["reasons"][0]["fix"]
    assert app.advance_registration(fiftieth).step is None  # waits, recorded once

    # A number leaving the campaign frees a place: the next pass registers the 50th.
    app.delete(account, first[0], by="u1", expected_version=None)
    assert app.advance_registration(fiftieth).step == "number"
    assert app.get_connection(account, fiftieth).level("number").provider_ref is not None


def test_with_number_pooling_the_50th_number_is_registered(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    for _ in range(49):
        registered(app, account, pooled(True))
    fiftieth = registered(app, account, pooled(True))
    number = app.get_connection(account, fiftieth).level("number")
    assert number.provider_ref is not None
    assert number.status == "pending"


def pool_of(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """T-Mobile's limit lowered (the rule is the same at any size; 50 numbers are slow)."""
    monkeypatch.setattr("domain.service.registration.MAX_NUMBERS_WITHOUT_POOLING", size)


def waits_for_pooling(app: SmsChannels, account: str, connection_id: UUID) -> bool:
    number = app.get_connection(account, connection_id).level("number")
    if number.status != "action_required":
        assert number.provider_ref is not None
        return False
    assert number.provider_ref is None
    assert [r.code for r in number.reasons] == ["number_pool_required"]
    return True


def test_the_number_past_the_limit_waits_and_the_worker_says_it_took_that_step(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_of(monkeypatch, 2)
    account = unique_account()
    first = [registered(app, account, pooled(False)) for _ in range(2)]
    assert not any(waits_for_pooling(app, account, c) for c in first)
    third = connected(app, account, pooled(False))
    submit(app, account, third)
    step = app.advance_registration(third)  # brand and campaign are shared: the number
    assert (step.step, step.position) == ("number", app.current_position())
    assert waits_for_pooling(app, account, third)
    again = app.advance_registration(third)
    assert (again.step, again.position) == (None, app.current_position())


def test_a_connection_linked_first_to_the_campaign_still_counts_the_numbers_after_it(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_of(monkeypatch, 2)
    account = unique_account()
    late = connected(app, account, pooled(False))
    submit(app, account, late)  # linked to the campaign first, its number step taken last
    others = [registered(app, account, pooled(False)) for _ in range(2)]
    assert not any(waits_for_pooling(app, account, c) for c in others)
    run_steps(app, late)
    assert waits_for_pooling(app, account, late)


def test_a_deleted_connection_ahead_of_the_campaigns_numbers_frees_only_its_own_place(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_of(monkeypatch, 2)
    account = unique_account()
    gone, kept = (registered(app, account, pooled(False)) for _ in range(2))
    app.delete(account, gone, by="u1", expected_version=None)
    taken = registered(app, account, pooled(False))  # the place the deleted one freed
    assert not waits_for_pooling(app, account, taken)
    assert not waits_for_pooling(app, account, kept)
    assert waits_for_pooling(app, account, registered(app, account, pooled(False)))


@pytest.mark.parametrize("status", ["rejected", "expired"])
def test_a_refused_number_frees_its_place_on_the_campaign(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    pool_of(monkeypatch, 2)
    account = unique_account()
    refused_one, _ = (registered(app, account, pooled(False)) for _ in range(2))
    ref = app.get_connection(account, refused_one).level("number").provider_ref
    assert ref is not None
    fact = RegistrationReported("number", ref, status, status.upper())
    app.record_provider_event(ProviderEvent("sandbox", f"evt_{refused_one}", fact))
    assert not waits_for_pooling(app, account, registered(app, account, pooled(False)))


@pytest.mark.parametrize("status", ["pending", "approved", "suspended"])
def test_a_number_still_held_keeps_its_place_on_the_campaign(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    pool_of(monkeypatch, 2)
    account = unique_account()
    held, _ = (registered(app, account, pooled(False)) for _ in range(2))
    ref = app.get_connection(account, held).level("number").provider_ref
    assert ref is not None
    fact = RegistrationReported("number", ref, status, status.upper())
    app.record_provider_event(ProviderEvent("sandbox", f"evt_{held}", fact))
    assert waits_for_pooling(app, account, registered(app, account, pooled(False)))


def test_numbers_of_another_campaign_take_no_place_on_this_one(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_of(monkeypatch, 2)
    account = unique_account()
    other = copy.deepcopy(pooled(False))
    other["campaign"]["optInKeywords"] = "START,JOIN"
    moved = [registered(app, account, pooled(False)) for _ in range(2)]
    # Both move to another campaign (a new submission): they leave this one's places.
    for connection_id in moved:
        app.update_compliance(account, connection_id, other, by="u1")
        submit(app, account, connection_id)
        run_steps(app, connection_id)
    assert not waits_for_pooling(app, account, registered(app, account, pooled(False)))


def test_a_worker_that_found_the_pool_full_records_no_wait_once_another_registered_the_number(
    app: SmsChannels, provider: SandboxProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    assert [app.advance_registration(connection_id).step for _ in range(2)] == [
        "brand", "campaign"]  # fmt: skip
    pool_full = app._pool_full
    others: list[str | None] = []

    def full_while_another_worker_registers(*args: Any) -> bool:
        # A second worker takes the number step (a place is free for it) meanwhile.
        monkeypatch.setattr(app, "_pool_full", pool_full)
        others.append(app.advance_registration(connection_id).step)
        return True

    monkeypatch.setattr(app, "_pool_full", full_while_another_worker_registers)
    assert app.advance_registration(connection_id).step is None
    assert others == ["number"]
    number = app.get_connection(account, connection_id).level("number")
    assert (number.status, number.reasons) == ("pending", ())
    assert number.provider_ref is not None
    assert provider.registrations.count("number") == 1


def test_the_preflight_warns_of_the_50th_number_without_pooling() -> None:
    from domain.compliance.preflight import preflight  # noqa: PLC0415

    others = [pooled(False)] * 49
    found = preflight(pooled(False), country="US", others=others).findings
    warned = [f for f in found if f.rule == "account.number_pool_limit"]
    assert [(f.field, f.severity, list(f.provider_codes)) for f in warned] == [
        ("campaign.numberPooling", "warning", [])
    ]
    assert not [
        f
        for f in preflight(pooled(True), country="US", others=[pooled(True)] * 49).findings
        if f.rule == "account.number_pool_limit"
    ]
    assert not [
        f
        for f in preflight(pooled(False), country="US", others=others[:48]).findings
        if f.rule == "account.number_pool_limit"
    ]


# --- vetting --------------------------------------------------------------------------

TOKEN = "cv|1.0|tcr|10dlc|9957c339-d46f-49b7-a399-2e6d5ebac66d|CANARYtokenQ7"


def political(token: str | None) -> dict[str, Any]:
    payload = copy.deepcopy(GOOD)
    payload["brand"]["vertical"] = "POLITICAL"
    if token is not None:
        payload["brand"]["campaignVerifyToken"] = token
    return payload


def test_a_political_brand_without_a_token_is_refused_by_the_preflight(app: SmsChannels) -> None:
    from domain.errors import PreflightFailedError  # noqa: PLC0415

    account = unique_account()
    connection_id = connected(app, account, political(None))
    with pytest.raises(PreflightFailedError) as refused:
        submit(app, account, connection_id)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("smsCompliance.brand.campaignVerifyToken", "brand.political_campaign_verify")
    ]


def test_a_political_brands_token_is_sent_as_a_campaign_verify_vetting_before_the_campaign(
    app: SmsChannels, provider: SandboxProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    account = unique_account()
    connection_id = connected(app, account, political(TOKEN))
    submit(app, account, connection_id)
    assert run_steps(app, connection_id) == ["brand"]  # the campaign waits for the vetting
    assert provider.registrations.count("campaign") == 0
    brand_ref = app.get_connection(account, connection_id).level("brand").provider_ref
    assert brand_ref is not None
    provider.registrations.set_status(brand_ref, "approved", None, None)  # the provider's review
    app.poll_registration(connection_id)
    assert run_steps(app, connection_id) == ["brand", "campaign", "number"]
    vetting = next(r for r in provider_vettings(provider) if r.parent_ref == brand_ref)
    assert vetting.reason == "campaign-verify"
    answer = document(app, account, connection_id)
    assert answer["brand"]["vettings"] == [
        {
            "kind": "campaign_verify", "status": "approved", "rawStatus": "SUCCESS",
            "vettingClass": "POLITICAL", "providerRef": vetting.ref,
        }
    ]  # fmt: skip
    # The canary: the token is only in the compliance payload's own events.
    assert TOKEN not in str(answer)
    assert TOKEN not in capsys.readouterr().out
    for aggregate_id in (connection_id, *registration_ids(app, account, connection_id)):
        for event in app.events.get(aggregate_id):
            if TOKEN in repr(vars(event)):
                assert isinstance(event, SmsConnection.ComplianceUpdated), type(event)


def provider_vettings(provider: SandboxProvider) -> list[Any]:
    memory = provider.registrations
    return [r for r in vars(memory)["_by_ref"].values() if r.level == "vetting"]


def registration_ids(app: SmsChannels, account: str, connection_id: UUID) -> list[UUID]:
    submission = app.get_connection(account, connection_id).submission
    assert submission is not None
    return [submission.brand_registration_id, submission.campaign_registration_id]


def test_secondary_vetting_records_its_status_and_the_new_score(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    from domain.errors import InvalidTransitionError  # noqa: PLC0415

    account = unique_account()
    connection_id = registered(app, account)
    with pytest.raises(InvalidTransitionError):  # the brand is not approved yet
        app.request_secondary_vetting(account, connection_id, by="u1", expected_version=None)
    number = number_of(app, account, connection_id)
    deliver(app, provider.decide_registration(number, "approved", level="brand"))
    deliver(app, provider.set_throughput(number, brandScore=20))
    assert document(app, account, connection_id)["throughput"]["brandScore"] == 20
    app.request_secondary_vetting(account, connection_id, by="u1", expected_version=None)
    app.request_secondary_vetting(account, connection_id, by="u1", expected_version=None)
    assert run_steps(app, connection_id) == ["brand"]
    answer = document(app, account, connection_id)
    assert [(v["kind"], v["status"]) for v in answer["brand"]["vettings"]] == [
        ("secondary", "approved")
    ]
    assert answer["brand"]["secondaryVettingRequested"] is True
    assert answer["throughput"]["brandScore"] == 75
    facts = app.compliance_history(connection_id, account_id=account).registration
    assert [f.type for f in facts].count("registration.vetting_requested") == 1


def test_a_numbers_report_records_its_carriers_and_throughput_and_a_report_without_keeps_them(
    app: SmsChannels,
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    ref = app.get_connection(account, connection_id).level("number").provider_ref
    assert ref is not None
    carriers = (CarrierState("att", "pending"), CarrierState("tmobile", "approved"))
    throughput = Throughput(tmobile_tier="LOW", tmobile_daily_cap=2000, att_tpm=240)
    fact = RegistrationReported(
        "number", ref, "pending", "IN_REVIEW", (), None, carriers, throughput
    )
    app.record_provider_event(ProviderEvent("sandbox", "evt_n1", fact))
    number = app.get_connection(account, connection_id).level("number")
    assert (number.status, number.raw_status) == ("pending", "IN_REVIEW")
    assert (number.carriers, number.throughput) == (carriers, throughput)
    # A later report saying nothing of carriers nor throughput keeps what was reported.
    app.record_provider_event(
        ProviderEvent("sandbox", "evt_n2", RegistrationReported("number", ref, "approved", "OK"))
    )
    number = app.get_connection(account, connection_id).level("number")
    assert (number.status, number.raw_status) == ("approved", "OK")
    assert (number.carriers, number.throughput) == (carriers, throughput)
