"""Registration per carrier, throughput and remedies, in memory with the sandbox provider
(issue 31): the sandbox decides per carrier and the connection's status stays honest; the
throughput the sandbox reports reaches the registration; a refusal's reasons carry their
fields and fix; a fix the provider takes in place updates the same campaign, any other
costs a new one, and the answer says which beforehand with the attempts so far. Events
written by the previous code (no carriers, no throughput, resubmissions not in place) load."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from api.schemas.registration import registration_document
from domain.application import SmsChannels
from domain.providers import ProviderEvent, RegistrationReported
from domain.registrations import LevelRegistration
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider, SandboxWebhook
from providers.sandbox.webhooks import _fact
from tests.compliance_payloads import GOOD
from tests.support import unique_account
from tests.support_events import application_with_stored_events
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
    return registration_document(connection, facts).model_dump(mode="json", by_alias=True)


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
