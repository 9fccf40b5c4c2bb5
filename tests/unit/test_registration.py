"""Registration with the provider, in memory: the status rule over the three levels, the
submit rules, brand and campaign shared by content, the worker's steps, the provider's
reports, and replay."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.compliance.preflight import preflight
from domain.errors import (
    InvalidTransitionError,
    PreflightFailedError,
    RegistrationInProgressError,
    RegistrationNotRequiredError,
    RegistrationUnchangedError,
)
from domain.providers import ProviderEvent, RegistrationReported
from domain.registration_levels import LEVEL_STATUSES, LevelState, derive_status
from domain.registrations import LevelRegistration
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from tests.support.common import unique_account, unique_us_number
from tests.support.compliance_payloads import GOOD

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def provider() -> SandboxProvider:
    return SandboxProvider()


@pytest.fixture
def app(provider: SandboxProvider) -> SmsChannels:
    return SmsChannels(provider, env=POPO)


def connected(
    app: SmsChannels,
    account: str,
    compliance: dict[str, Any] | None = GOOD,
    *,
    country: str = "US",
    phone_number: str | None = None,
) -> UUID:
    area = "20" if country == "GB" else "415"
    result = app.connect(
        ConnectNumber(
            account_id=account,
            workspace_id="ws_1",
            agent_id="agent_1",
            mode="new",
            country=country,
            area_code=area,
            phone_number=phone_number or unique_us_number(),
            requested_by="u1",
        )
    )
    if compliance is not None:
        app.update_compliance(account, result.connection.id, compliance, by="u1")
    return result.connection.id


def submit(app: SmsChannels, account: str, connection_id: UUID) -> None:
    version = app.get_connection(account, connection_id).version
    app.submit_registration(account, connection_id, by="u1", expected_version=version)


def run_steps(app: SmsChannels, connection_id: UUID) -> list[str | None]:
    steps = []
    for _ in range(4):  # three steps at most, then nothing left: never loop forever
        step = app.advance_registration(connection_id).step
        if step is None:
            return steps
        steps.append(step)
    raise AssertionError(f"the worker kept taking steps: {steps}")


def report(app: SmsChannels, level: str, ref: str, status: str, event_id: str, **more: Any) -> str:
    fact = RegistrationReported(level, ref, status, more.get("raw"), more.get("reasons", ()))  # type: ignore[arg-type]
    return app.record_provider_event(ProviderEvent("sandbox", event_id, fact)).outcome


def edited(**campaign: Any) -> dict[str, Any]:
    payload = copy.deepcopy(GOOD)
    payload["campaign"].update(campaign)
    return payload


# --- the rule ------------------------------------------------------------------------------


def expected(statuses: tuple[str, ...]) -> str:
    """The rule in words (domain.md): nothing submitted; then the first deciding status
    any level is in; all approved; nothing sent yet; otherwise in flight."""
    if set(statuses) == {"not_submitted"}:
        return "not_submitted"
    for deciding in ("rejected", "suspended", "expired", "action_required"):
        if deciding in statuses:
            return deciding
    if set(statuses) == {"approved"}:
        return "approved"
    if set(statuses) <= {"submitted", "not_submitted"}:
        return "submitted"
    return "pending"


@pytest.mark.parametrize("statuses", list(itertools.product(LEVEL_STATUSES, repeat=3)))
def test_the_connection_status_follows_from_every_combination_of_levels(
    statuses: tuple[str, str, str],
) -> None:
    brand, campaign, number = (LevelState(status=s) for s in statuses)  # type: ignore[arg-type]
    assert derive_status(brand, campaign, number) == expected(statuses)


def test_approved_needs_all_three_levels_approved() -> None:
    approved = LevelState(status="approved")
    pending = LevelState(status="pending")
    assert derive_status(approved, approved, pending) == "pending"
    assert derive_status(approved, approved, approved) == "approved"


# --- submit rules ----------------------------------------------------------------------------


def test_a_submission_records_the_version_and_who_and_starts_submitted(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    version = app.get_connection(account, connection_id).version
    submit(app, account, connection_id)
    connection = app.get_connection(account, connection_id)
    assert connection.submission is not None
    assert (connection.submission.compliance_version, connection.submission.submitted_by) == (
        version,
        "u1",
    )
    assert connection.registration_status == "submitted"
    assert not connection.changed_since_submission


def test_a_payload_the_preflight_refuses_is_not_submitted_and_names_fields(
    app: SmsChannels,
) -> None:
    account = unique_account()
    connection_id = connected(app, account, edited(messageSamples=["hi", None, "", "", ""]))
    with pytest.raises(PreflightFailedError) as refused:
        submit(app, account, connection_id)
    assert refused.value.problems
    assert all(p.field.startswith("smsCompliance.") for p in refused.value.problems)
    assert app.get_connection(account, connection_id).submission is None


def test_an_unchanged_payload_in_flight_is_refused(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    with pytest.raises(RegistrationInProgressError):
        submit(app, account, connection_id)


def test_after_a_rejection_only_a_changed_payload_is_submitted_again(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    number = unique_us_number()
    connection_id = connected(app, account, phone_number=number)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    campaign_ref = app.get_connection(account, connection_id).level("campaign").provider_ref
    assert campaign_ref is not None
    assert report(app, "campaign", campaign_ref, "rejected", "evt_r1") == "applied"
    assert app.get_connection(account, connection_id).registration_status == "rejected"
    with pytest.raises(RegistrationUnchangedError):
        submit(app, account, connection_id)
    fixed = edited(campaignDescription="Appointment reminders for patients of Acme Dental only.")
    app.update_compliance(account, connection_id, fixed, by="u1")
    assert app.get_connection(account, connection_id).changed_since_submission
    submit(app, account, connection_id)
    connection = app.get_connection(account, connection_id)
    assert connection.submission is not None
    assert connection.submission.number == 2
    assert connection.registration_status == "pending"  # the brand stays as it was


def test_after_an_approval_a_changed_payload_can_be_submitted(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    approve_all(app, account, connection_id)
    assert app.get_connection(account, connection_id).registration_status == "approved"
    with pytest.raises(RegistrationUnchangedError):
        submit(app, account, connection_id)
    app.update_compliance(account, connection_id, edited(optInKeywords="START,YES"), by="u1")
    submit(app, account, connection_id)
    assert app.get_connection(account, connection_id).registration_status == "pending"


def test_a_region_that_needs_no_registration_refuses_it(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account, country="GB", phone_number="+442079460150")
    with pytest.raises(RegistrationNotRequiredError):
        submit(app, account, connection_id)


def test_a_connection_that_is_not_connected_cannot_submit(app: SmsChannels) -> None:
    account = unique_account()
    result = app.connect(
        ConnectNumber(account, "ws_1", "agent_1", "byon", "US", "415", unique_us_number(), "u1")
    )
    app.update_compliance(account, result.connection.id, GOOD, by="u1")
    with pytest.raises(InvalidTransitionError):
        submit(app, account, result.connection.id)


# --- steps, sharing, reports --------------------------------------------------------------


def approve_all(app: SmsChannels, account: str, connection_id: UUID) -> None:
    connection = app.get_connection(account, connection_id)
    for index, level in enumerate(("brand", "campaign", "number")):
        ref = connection.level(level).provider_ref  # type: ignore[arg-type]
        assert ref is not None
        report(app, level, ref, "approved", f"evt_{connection_id}_{index}")


def test_the_worker_steps_record_each_reference_in_order(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    assert run_steps(app, connection_id) == ["brand", "campaign", "number"]
    connection = app.get_connection(account, connection_id)
    refs = [connection.level(lv).provider_ref or "" for lv in ("brand", "campaign", "number")]  # type: ignore[arg-type]
    assert refs[0].startswith("BN")
    assert refs[1].startswith("CM")
    assert refs[2].startswith("MG")
    assert connection.registration_status == "pending"
    assert [provider.registrations.count(lv) for lv in ("brand", "campaign", "number")] == [1, 1, 1]


def test_two_connections_with_the_same_brand_and_campaign_share_both(
    app: SmsChannels, provider: SandboxProvider
) -> None:
    account = unique_account()
    first, second = connected(app, account), connected(app, account)
    for connection_id in (first, second):
        submit(app, account, connection_id)
        run_steps(app, connection_id)
    one, two = app.get_connection(account, first), app.get_connection(account, second)
    for level in ("brand", "campaign"):
        assert one.level(level).provider_ref == two.level(level).provider_ref  # type: ignore[arg-type]
    assert one.level("number").provider_ref != two.level("number").provider_ref
    assert (provider.registrations.count("brand"), provider.registrations.count("campaign")) == (
        1,
        1,
    )


def test_other_campaign_content_shares_the_brand_only(app: SmsChannels) -> None:
    account = unique_account()
    first = connected(app, account)
    second = connected(app, account, edited(optInKeywords="START,JOIN"))
    for connection_id in (first, second):
        submit(app, account, connection_id)
        run_steps(app, connection_id)
    one, two = app.get_connection(account, first), app.get_connection(account, second)
    assert one.level("brand").provider_ref == two.level("brand").provider_ref
    assert one.level("campaign").provider_ref != two.level("campaign").provider_ref


def test_another_account_with_the_same_brand_gets_its_own(app: SmsChannels) -> None:
    first_account, second_account = unique_account(), unique_account()
    first, second = connected(app, first_account), connected(app, second_account)
    submit(app, first_account, first)
    submit(app, second_account, second)
    one = app.get_connection(first_account, first).submission
    two = app.get_connection(second_account, second).submission
    assert one is not None
    assert two is not None
    assert one.brand_registration_id != two.brand_registration_id


def test_a_brand_decision_reaches_every_connection_sharing_it(app: SmsChannels) -> None:
    account = unique_account()
    first, second = connected(app, account), connected(app, account)
    for connection_id in (first, second):
        submit(app, account, connection_id)
        run_steps(app, connection_id)
    brand_ref = app.get_connection(account, first).level("brand").provider_ref
    assert brand_ref is not None
    reasons = ({"code": "30794", "description": "Brand info mismatch", "fields": []},)
    report(app, "brand", brand_ref, "rejected", "evt_b1", reasons=reasons)
    for connection_id in (first, second):
        connection = app.get_connection(account, connection_id)
        assert connection.registration_status == "rejected"
        assert [r.code for r in connection.level("brand").reasons] == ["30794"]


def test_all_levels_approved_permit_outbound_replies_in_the_rule(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    approve_all(app, account, connection_id)
    assert app.get_connection(account, connection_id).registration_status == "approved"


def test_an_unknown_provider_status_is_kept_raw_and_counts_as_pending(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    ref = app.get_connection(account, connection_id).level("number").provider_ref
    assert ref is not None
    report(app, "number", ref, "approved", "evt_n1")
    report(app, "number", ref, "QUANTUM_REVIEW", "evt_n2", raw="QUANTUM_REVIEW")
    number = app.get_connection(account, connection_id).level("number")
    assert (number.status, number.raw_status) == ("pending", "QUANTUM_REVIEW")


def test_a_report_about_an_unknown_registration_is_ignored(app: SmsChannels) -> None:
    assert report(app, "campaign", "CMnothingofours", "approved", "evt_x") == "ignored"


def test_a_step_asked_again_answers_the_same_provider_object(provider: SandboxProvider) -> None:
    first = provider.create_brand({}, reference="r.1")
    again = provider.create_brand({}, reference="r.1")
    assert first.ref == again.ref
    assert provider.registrations.count("brand") == 1


def test_a_poll_records_the_sandbox_auto_approval() -> None:
    provider = SandboxProvider(auto_approve_after=0)
    app = SmsChannels(provider, env=POPO)
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    assert app.poll_registration(connection_id) == 3
    assert app.get_connection(account, connection_id).registration_status == "approved"
    assert app.registration_settled(connection_id)


# --- replay -----------------------------------------------------------------------------


def test_replaying_the_events_gives_the_state_that_made_them(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    approve_all(app, account, connection_id)
    live = app.get_connection(account, connection_id)
    replayed: Any = None
    for event in app.events.get(connection_id):
        replayed = event.mutate(replayed)
    assert replayed.levels == live.levels
    assert replayed.submission == live.submission
    assert replayed.registration_status == live.registration_status == "approved"
    assert live.submission is not None
    brand: LevelRegistration = app.repository.get(live.submission.brand_registration_id)
    again: Any = None
    for event in app.events.get(brand.id):
        again = event.mutate(again)
    assert (again.state, again.connection_ids) == (brand.state, brand.connection_ids)


def test_the_readme_tours_example_payload_passes_the_preflight() -> None:
    example = Path(__file__).parents[2] / "docs" / "example-compliance.json"
    assert preflight(json.loads(example.read_text())).ready


def test_a_concurrent_write_of_the_shared_brand_is_decided_again(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another connection's submission saves the shared brand between this one's read and
    # its save: the submit decides again on the fresh brand instead of answering 412.
    account = unique_account()
    first, second = connected(app, account), connected(app, account)
    decide = app.submit_decision
    raced: list[bool] = []

    def racing(connection: Any, **kwargs: Any) -> Any:
        decided = decide(connection, **kwargs)
        if not raced:
            raced.append(True)
            submit(app, account, first)
        return decided

    monkeypatch.setattr(app, "submit_decision", racing)
    submit(app, account, second)
    one, two = (app.get_connection(account, i).submission for i in (first, second))
    assert one is not None
    assert two is not None
    assert one.brand_registration_id == two.brand_registration_id


def test_a_report_about_a_shared_brand_no_live_connection_follows_is_still_recorded(
    app: SmsChannels,
) -> None:
    account = unique_account()
    first = connected(app, account)
    submit(app, account, first)
    run_steps(app, first)
    brand_ref = app.get_connection(account, first).level("brand").provider_ref
    assert brand_ref is not None
    brand_id = app.get_connection(account, first).submission.brand_registration_id  # type: ignore[union-attr]
    app.delete(account, first, by="u1")
    # The brand's approval arrives when no connection of it is live: the shared brand
    # registration still records it (the account's next connection of that brand sees it).
    assert report(app, "brand", brand_ref, "approved", "evt-late-brand") == "applied"
    assert app.repository.get(brand_id).state.status == "approved"


def test_a_late_report_about_an_earlier_attempt_changes_nothing(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    first_ref = app.get_connection(account, connection_id).level("brand").provider_ref
    assert first_ref is not None
    assert report(app, "brand", first_ref, "rejected", "evt-brand-1") == "applied"
    # The operator fixes the brand and submits again: a new attempt of the same brand.
    fixed = copy.deepcopy(GOOD)
    fixed["brand"]["city"] = "Oakland"
    app.update_compliance(account, connection_id, fixed, by="u1")
    submit(app, account, connection_id)
    # The provider's late word about the first attempt: acknowledged, applied to nothing.
    assert report(app, "brand", first_ref, "approved", "evt-brand-2") == "ignored"
    assert app.get_connection(account, connection_id).registration_status != "approved"


class Recording(SandboxProvider):
    """The sandbox, keeping what each campaign and number step asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, Any, dict[str, Any]]] = []

    def create_campaign(self, campaign: Any, **asked: Any) -> Any:
        self.asked.append(("create_campaign", copy.deepcopy(campaign), asked))
        return super().create_campaign(campaign, **asked)

    def update_campaign(self, campaign: Any, **asked: Any) -> Any:
        self.asked.append(("update_campaign", copy.deepcopy(campaign), asked))
        return super().update_campaign(campaign, **asked)

    def register_number(self, phone_number: str, number_ref: str, **asked: Any) -> Any:
        self.asked.append(("register_number", (phone_number, number_ref), asked))
        return super().register_number(phone_number, number_ref, **asked)


def registered_with_recording() -> tuple[Recording, SmsChannels, str, UUID]:
    """A connection submitted and stepped through on a provider that records what it was
    asked: (provider, application, account, connection id)."""
    provider = Recording()
    app = SmsChannels(provider, env=POPO)
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    return provider, app, account, connection_id


def test_the_campaign_and_number_steps_send_the_submitted_content_and_references() -> None:
    provider, app, account, connection_id = registered_with_recording()
    connection = app.get_connection(account, connection_id)
    assert connection.submission is not None
    campaign: LevelRegistration = app.repository.get(connection.submission.campaign_registration_id)
    (created, registered) = provider.asked
    assert created == ("create_campaign", GOOD["campaign"], {
        "brand_ref": connection.level("brand").provider_ref,
        "reference": f"{campaign.id}.1",
    })  # fmt: skip
    assert campaign.service_ref is not None
    assert registered == (
        "register_number", (connection.phone_number, connection.provider_ref), {
            "campaign_ref": connection.level("campaign").provider_ref,
            "service_ref": campaign.service_ref,
            "reference": f"{connection_id}.1",
        })  # fmt: skip
    # A second pass after a crash would ask with the same references: the same objects.
    again = provider.create_campaign(GOOD["campaign"], **created[2])
    assert again.ref == connection.level("campaign").provider_ref


def test_an_in_place_resubmission_sends_the_fixed_campaign_to_the_same_object() -> None:
    provider, app, account, connection_id = registered_with_recording()
    campaign_ref = app.get_connection(account, connection_id).level("campaign").provider_ref
    assert campaign_ref is not None
    reasons = ({"code": "30892", "description": "Samples", "fields": []},)
    assert report(app, "campaign", campaign_ref, "rejected", "evt_c1", reasons=reasons) == (
        "applied"
    )
    samples = [GOOD["campaign"]["messageSamples"][0], "Acme Dental: reply YES to confirm."]
    fixed = edited(messageSamples=samples)
    app.update_compliance(account, connection_id, fixed, by="u1")
    submit(app, account, connection_id)
    asked = len(provider.asked)
    assert run_steps(app, connection_id) == ["campaign", "number"]
    update = provider.asked[asked]
    connection = app.get_connection(account, connection_id)
    assert connection.submission is not None
    campaign: LevelRegistration = app.repository.get(connection.submission.campaign_registration_id)
    assert update == ("update_campaign", fixed["campaign"], {
        "ref": campaign_ref, "service_ref": campaign.service_ref,
        "reference": f"{campaign.id}.2",
    })  # fmt: skip
    assert campaign.service_ref is not None
    assert connection.level("campaign").provider_ref == campaign_ref


def test_a_step_answers_the_position_of_its_own_write_when_another_lands_after_it(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = unique_account()
    connection_id, other = connected(app, account), connected(app, account)
    submit(app, account, connection_id)
    save = app.save
    written: list[int] = []

    def another_write_after(*aggregates: Any, **kwargs: Any) -> Any:
        recordings = save(*aggregates, **kwargs)
        if not written:
            written.append(max(r.notification.id for r in recordings))
            app.update_compliance(account, other, edited(optInKeywords="GO"), by="u1")  # another
        return recordings

    monkeypatch.setattr(app, "save", another_write_after)
    step = app.advance_registration(connection_id)
    assert step.step == "brand"
    assert step.position == written[0] < app.current_position()
