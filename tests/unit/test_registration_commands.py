"""The registration half of the write model (``domain/service/registration.py``) against a
scripted provider (a ``SandboxProvider`` whose registration answers the test chooses):
what each worker step records of the provider's answer, the payload it sends, what a poll
asks and records, when a submission is settled, who a report reaches, and the retry on a
concurrent write. In memory."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from domain.application import SmsChannels
from domain.compliance.preflight import preflight
from domain.errors import (
    ConnectionDeletedError,
    InvalidTransitionError,
    PreflightFailedError,
    RegistrationNotRequiredError,
    VersionConflictError,
)
from domain.providers import ProviderEvent, RegistrationAnswer, RegistrationReported
from domain.registrations import LevelRegistration
from domain.service.commands import ConnectNumber
from domain.service.registration import StepResult
from domain.service.store import SAVE_ATTEMPTS
from providers.sandbox import SandboxProvider
from tests.support.common import unique_account, unique_us_number
from tests.support.compliance_payloads import GOOD
from tests.unit.test_registration import POPO, connected, edited, run_steps, submit


class Scripted(SandboxProvider):
    """A sandbox whose registration answers are scripted per level (``answers``: a function
    of the call's reference), and which records every registration call it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Any, ...]] = []
        self.answers: dict[str, Callable[[str], RegistrationAnswer]] = {
            "brand": lambda ref: RegistrationAnswer(f"BN{_tail(ref)}", "pending", "PENDING"),
            "campaign": lambda ref: RegistrationAnswer(
                f"CM{_tail(ref)}", "pending", "PENDING", service_ref=f"MG{_tail(ref)}"
            ),
            "number": lambda ref: RegistrationAnswer(f"QE{_tail(ref)}", "pending", "PENDING"),
        }
        self.status: dict[str, RegistrationAnswer] = {}
        self.during: Callable[[], None] | None = None

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        self.calls.append(("brand", dict(brand), reference))
        return self.answers["brand"](reference)

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        self.calls.append(("campaign", dict(campaign), brand_ref, reference))
        return self.answers["campaign"](reference)

    def register_number(
        self,
        phone_number: str,
        number_ref: str,
        *,
        campaign_ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        self.calls.append(("number", phone_number, campaign_ref, service_ref, reference))
        if self.during is not None:
            during, self.during = self.during, None
            during()
        return self.answers["number"](reference)

    def registration_status(self, level: Any, ref: str) -> RegistrationAnswer:
        self.calls.append(("status", level, ref))
        return self.status.get(ref, RegistrationAnswer(ref, "pending", "PENDING"))


def _tail(reference: str) -> str:
    return reference.replace("-", "").replace(".", "x")[-12:]


@pytest.fixture
def provider() -> Scripted:
    return Scripted()


@pytest.fixture
def app(provider: Scripted) -> SmsChannels:
    return SmsChannels(provider, env=POPO)


def registered(app: SmsChannels, account: str, compliance: Any = GOOD) -> UUID:
    connection_id = connected(app, account, compliance)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    return connection_id


def report(app: SmsChannels, fact: RegistrationReported) -> str:
    return app.record_provider_event(ProviderEvent("sandbox", uuid.uuid4().hex, fact)).outcome


def brand_of(app: SmsChannels, account: str, connection_id: UUID) -> LevelRegistration:
    submission = app.get_connection(account, connection_id).submission
    assert submission is not None
    registration: LevelRegistration = app.repository.get(submission.brand_registration_id)
    return registration


# --- what a step records and sends ---------------------------------------------------------


def test_a_created_brand_records_the_providers_name_raw_status_and_identity(
    app: SmsChannels, provider: Scripted
) -> None:
    provider.answers["brand"] = lambda ref: RegistrationAnswer(
        "BN1", "pending", "IN_REVIEW", identity_status="VERIFIED"
    )
    account = unique_account()
    connection_id = registered(app, account)
    brand = brand_of(app, account, connection_id)
    assert brand.provider == provider.name
    assert (brand.state.status, brand.state.raw_status, brand.state.identity_status) == (
        "pending", "IN_REVIEW", "VERIFIED",
    )  # fmt: skip
    level = app.get_connection(account, connection_id).level("brand")
    assert (level.provider_ref, level.raw_status, level.identity_status) == (
        "BN1", "IN_REVIEW", "VERIFIED",
    )  # fmt: skip


def test_an_unknown_status_in_a_steps_answer_is_pending_and_logged_with_its_raw_status(
    app: SmsChannels, provider: Scripted
) -> None:
    brand_raw, number_raw = f"BRAND_{uuid.uuid4().hex}", f"NUMBER_{uuid.uuid4().hex}"
    provider.answers["brand"] = lambda ref: RegistrationAnswer("BN2", "odd", brand_raw)
    provider.answers["number"] = lambda ref: RegistrationAnswer("QE2", None, number_raw)
    account = unique_account()
    with capture_logs() as logs:
        connection_id = registered(app, account)
    assert [e["raw_status"] for e in logs if e["event"] == "registration_status_unknown"] == [
        brand_raw,
        number_raw,
    ]
    connection = app.get_connection(account, connection_id)
    assert (connection.level("brand").status, connection.level("brand").raw_status) == (
        "pending", brand_raw,
    )  # fmt: skip
    assert (connection.level("number").status, connection.level("number").raw_status) == (
        "pending", number_raw,
    )  # fmt: skip


def test_a_registered_numbers_answer_keeps_its_raw_status_and_reasons_cleaned_and_cut(
    app: SmsChannels, provider: Scripted
) -> None:
    reasons = ({"code": "30892", "description": "Opt-in\x00missing", "fields": ["a.b"]},)
    provider.answers["number"] = lambda ref: RegistrationAnswer(
        "QE3", "action_required", "WAIT\x07" + "w" * 300, reasons
    )
    account = unique_account()
    number = app.get_connection(account, registered(app, account)).level("number")
    assert number.status == "action_required"
    assert number.raw_status == "WAIT\ufffd" + "w" * 251
    assert [(r.code, r.description, r.fields) for r in number.reasons] == [
        ("30892", "Opt-in\ufffdmissing", ("a.b",)),
    ]


def test_the_worker_sends_the_payload_as_submitted_not_as_edited_since(
    app: SmsChannels, provider: Scripted
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    app.advance_registration(connection_id)  # the brand, before any edit
    later = edited(optInKeywords="START,GO")
    later["brand"]["city"] = "Oakland"
    app.update_compliance(account, connection_id, later, by="u1")
    run_steps(app, connection_id)
    (brand_call, campaign_call) = [c for c in provider.calls if c[0] in ("brand", "campaign")]
    assert brand_call[1] == GOOD["brand"]
    assert campaign_call[1] == GOOD["campaign"]


def test_the_worker_sends_the_current_payload_when_it_is_the_submitted_one(
    app: SmsChannels, provider: Scripted
) -> None:
    account = unique_account()
    registered(app, account)
    sent = {c[0]: c[1] for c in provider.calls if c[0] in ("brand", "campaign")}
    assert sent == {"brand": GOOD["brand"], "campaign": GOOD["campaign"]}


def test_a_number_registered_meanwhile_by_another_worker_is_not_recorded_again(
    app: SmsChannels, provider: Scripted
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    app.advance_registration(connection_id)
    app.advance_registration(connection_id)
    answers = iter(["QEfirst", "QEsecond"])
    provider.answers["number"] = lambda ref: RegistrationAnswer(next(answers), "pending", None)
    # While this worker waits for the provider, another takes the same step and records it.
    provider.during = lambda: app.advance_registration(connection_id) and None
    step = app.advance_registration(connection_id)
    assert (step.step, step.position) == ("number", 0)  # 0: this step recorded nothing
    assert app.get_connection(account, connection_id).level("number").provider_ref == "QEfirst"


def test_a_resubmission_the_provider_answers_with_the_same_references_is_recorded(
    app: SmsChannels, provider: Scripted
) -> None:
    # Some providers update the refused object in place: the new attempt's answer carries
    # the reference already indexed, and the index keeps its one entry.
    provider.answers["campaign"] = lambda ref: RegistrationAnswer("CMsame", "pending", None)
    provider.answers["number"] = lambda ref: RegistrationAnswer("QEsame", "pending", None)
    account = unique_account()
    connection_id = registered(app, account)
    assert report(app, RegistrationReported("campaign", "CMsame", "rejected", None)) == "applied"
    app.update_compliance(account, connection_id, edited(optInKeywords="START,GO"), by="u1")
    submit(app, account, connection_id)
    assert run_steps(app, connection_id) == ["campaign", "number"]
    connection = app.get_connection(account, connection_id)
    assert connection.level("campaign").provider_ref == "CMsame"
    assert connection.level("number").provider_ref == "QEsame"
    assert report(app, RegistrationReported("number", "QEsame", "approved", None)) == "applied"
    assert app.get_connection(account, connection_id).level("number").status == "approved"


# --- polls ---------------------------------------------------------------------------------


def test_a_poll_asks_only_about_levels_in_flight_that_have_a_reference(
    app: SmsChannels, provider: Scripted
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    assert app.poll_registration(connection_id) == 0  # nothing has a reference yet
    run_steps(app, connection_id)
    connection = app.get_connection(account, connection_id)
    brand, campaign, number = (
        connection.level(level).provider_ref for level in ("brand", "campaign", "number")
    )
    assert report(app, RegistrationReported("brand", str(brand), "approved", None)) == "applied"
    provider.calls.clear()
    assert app.poll_registration(connection_id) == 0  # pending, as before
    assert provider.calls == [("status", "campaign", campaign), ("status", "number", number)]


def test_a_poll_records_the_answers_raw_status_reasons_and_identity(
    app: SmsChannels, provider: Scripted
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    brand_ref = app.get_connection(account, connection_id).level("brand").provider_ref
    assert brand_ref is not None
    reasons = ({"code": "30794", "description": "Mismatch", "fields": ["brand.ein"]},)
    provider.status[brand_ref] = RegistrationAnswer(
        brand_ref, "rejected", "FAILED", reasons, identity_status="UNVERIFIED"
    )
    assert app.poll_registration(connection_id) == 1
    brand = app.get_connection(account, connection_id).level("brand")
    assert (brand.status, brand.raw_status, brand.identity_status) == (
        "rejected", "FAILED", "UNVERIFIED",
    )  # fmt: skip
    assert [(r.code, r.fields) for r in brand.reasons] == [("30794", ("brand.ein",))]


def test_a_poll_of_a_deleted_or_unknown_connection_asks_nothing(
    app: SmsChannels, provider: Scripted
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    app.delete(account, connection_id, by="u1")
    provider.calls.clear()
    assert app.poll_registration(connection_id) == 0
    assert app.poll_registration(uuid.uuid4()) == 0
    assert provider.calls == []


# --- settled -------------------------------------------------------------------------------


def test_a_submission_is_settled_only_when_every_step_is_done_and_nothing_is_in_flight(
    app: SmsChannels,
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    assert app.registration_settled(connection_id)  # nothing submitted
    submit(app, account, connection_id)
    assert not app.registration_settled(connection_id)
    run_steps(app, connection_id)
    assert not app.registration_settled(connection_id)  # pending at the provider
    connection = app.get_connection(account, connection_id)
    for level in ("brand", "campaign", "number"):
        ref = str(connection.level(level).provider_ref)  # type: ignore[arg-type]
        report(app, RegistrationReported(level, ref, "approved", None))  # type: ignore[arg-type]
    assert app.registration_settled(connection_id)


def test_unknown_and_deleted_connections_are_settled(app: SmsChannels) -> None:
    assert app.registration_settled(uuid.uuid4())
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    app.delete(account, connection_id, by="u1")
    assert app.registration_settled(connection_id)


# --- reports -------------------------------------------------------------------------------


def test_a_brand_report_records_its_raw_status_and_identity_on_every_level_holder(
    app: SmsChannels,
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    brand_ref = str(app.get_connection(account, connection_id).level("brand").provider_ref)
    fact = RegistrationReported("brand", brand_ref, "approved", "APPROVED", (), "VERIFIED")
    assert report(app, fact) == "applied"
    brand = brand_of(app, account, connection_id)
    assert (brand.state.raw_status, brand.state.identity_status) == ("APPROVED", "VERIFIED")
    level = app.get_connection(account, connection_id).level("brand")
    assert (level.raw_status, level.identity_status) == ("APPROVED", "VERIFIED")


def test_a_number_report_keeps_its_identity_status_and_cleans_its_texts(
    app: SmsChannels,
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    ref = str(app.get_connection(account, connection_id).level("number").provider_ref)
    fact = RegistrationReported("number", ref, "pending", "R\x00" + "r" * 300, (), "ID\u202e")
    assert report(app, fact) == "applied"
    number = app.get_connection(account, connection_id).level("number")
    assert number.raw_status == "R\ufffd" + "r" * 254
    assert number.identity_status == "ID\ufffd"


def test_an_unknown_reported_status_is_logged_with_its_raw_status(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    ref = str(app.get_connection(account, connection_id).level("campaign").provider_ref)
    raw = f"ODD_{uuid.uuid4().hex}"
    with capture_logs() as logs:
        report(app, RegistrationReported("campaign", ref, "weird", raw))
    assert [e["raw_status"] for e in logs if e["event"] == "registration_status_unknown"] == [raw]


@pytest.mark.parametrize("level", ["brand", "number"])
def test_a_report_that_changes_nothing_is_ignored(app: SmsChannels, level: Any) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    ref = str(app.get_connection(account, connection_id).level(level).provider_ref)
    before = app.get_connection(account, connection_id).version
    assert report(app, RegistrationReported(level, ref, "pending", "PENDING")) == "ignored"
    assert app.get_connection(account, connection_id).version == before


def test_a_report_about_a_deleted_connections_number_is_ignored(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    ref = str(app.get_connection(account, connection_id).level("number").provider_ref)
    app.delete(account, connection_id, by="u1")
    try:
        outcome = report(app, RegistrationReported("number", ref, "approved", None))
    except ConnectionDeletedError:  # pragma: no cover - the mutant's answer
        outcome = "refused"
    assert outcome == "ignored"


def test_a_brand_report_reaches_a_live_holder_linked_after_a_deleted_one(
    app: SmsChannels,
) -> None:
    account = unique_account()
    first, second = registered(app, account), registered(app, account)
    app.delete(account, first, by="u1")
    brand_ref = str(app.get_connection(account, second).level("brand").provider_ref)
    assert report(app, RegistrationReported("brand", brand_ref, "approved", None)) == "applied"
    assert app.get_connection(account, second).level("brand").status == "approved"


def test_a_campaign_report_reaches_a_holder_linked_after_one_that_moved_to_another_campaign(
    app: SmsChannels,
) -> None:
    account = unique_account()
    first, second = registered(app, account), registered(app, account)
    old_ref = str(app.get_connection(account, first).level("campaign").provider_ref)
    assert report(app, RegistrationReported("campaign", old_ref, "rejected", None)) == "applied"
    app.update_compliance(account, first, edited(optInKeywords="START,GO"), by="u1")
    submit(app, account, first)  # the first now uses another campaign
    assert report(app, RegistrationReported("campaign", old_ref, "expired", None)) == "applied"
    assert app.get_connection(account, second).level("campaign").status == "expired"
    assert app.get_connection(account, first).level("campaign").status == "submitted"


# --- a concurrent write --------------------------------------------------------------------


def test_a_poll_that_loses_a_race_decides_again_on_the_fresh_state(
    app: SmsChannels, provider: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    campaign_ref = str(app.get_connection(account, connection_id).level("campaign").provider_ref)
    number_ref = str(app.get_connection(account, connection_id).level("number").provider_ref)
    provider.status[campaign_ref] = RegistrationAnswer(campaign_ref, "approved", "APPROVED")
    provider.status[number_ref] = RegistrationAnswer(number_ref, "approved", None)
    decide = app.report_decision
    raced: list[str] = []

    def racing(fact: RegistrationReported, reported_at: datetime | None = None) -> Any:
        decided = decide(fact, reported_at)
        if fact.level == "campaign" and not raced:  # a webhook saved between decide and save
            raced.append(fact.level)
            report(app, RegistrationReported("number", number_ref, "approved", None))
        return decided

    monkeypatch.setattr(app, "report_decision", racing)
    assert app.poll_registration(connection_id) == 1
    connection = app.get_connection(account, connection_id)
    assert raced == ["campaign"]
    assert (connection.level("campaign").status, connection.level("number").status) == (
        "approved", "approved",
    )  # fmt: skip


def test_a_poll_that_keeps_losing_the_race_is_a_version_conflict(
    app: SmsChannels, provider: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    connection = app.get_connection(account, connection_id)
    campaign_ref = str(connection.level("campaign").provider_ref)
    number_ref = str(connection.level("number").provider_ref)
    provider.status[campaign_ref] = RegistrationAnswer(campaign_ref, "approved", "APPROVED")
    decide = app.report_decision
    statuses = iter(["pending", "action_required"] * 3)
    races: list[int] = []

    def racing(fact: RegistrationReported, reported_at: datetime | None = None) -> Any:
        decided = decide(fact, reported_at)
        if fact.level == "campaign":
            races.append(1)
            report(app, RegistrationReported("number", number_ref, next(statuses), "X"))
        return decided

    monkeypatch.setattr(app, "report_decision", racing)
    with pytest.raises(VersionConflictError) as lost:
        app.poll_registration(connection_id)
    assert (lost.value.expected, lost.value.actual) == (None, None)
    assert len(races) == 3


def test_a_reports_delivery_names_the_connection_it_changed(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    ref = str(app.get_connection(account, connection_id).level("number").provider_ref)
    fact = RegistrationReported("number", ref, "approved", None)
    result = app.record_provider_event(ProviderEvent("sandbox", uuid.uuid4().hex, fact))
    assert (result.outcome, result.connection_id) == ("applied", connection_id)
    assert result.position == app.recorder.max_notification_id()


# --- the submit command ----------------------------------------------------------------------


def test_a_submit_with_a_stale_expected_version_is_refused_and_submits_nothing(
    app: SmsChannels,
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    stale = app.get_connection(account, connection_id).version - 1
    with pytest.raises(VersionConflictError):
        app.submit_registration(account, connection_id, by="u1", expected_version=stale)
    assert app.get_connection(account, connection_id).submission is None


def test_a_submit_reads_the_accounts_other_payloads_for_the_rules_across_connections(
    app: SmsChannels,
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    other = copy.deepcopy(GOOD)
    other["brand"]["companyName"] = "Another Name Inc"  # the same tax id
    version = app.get_connection(account, connection_id).version
    with pytest.raises(PreflightFailedError) as refused:
        app.submit_registration(
            account, connection_id, by="u1", expected_version=version, others=[other]
        )
    assert [p.code for p in refused.value.problems] == ["account.ein_company_mismatch"]


@pytest.mark.parametrize(
    # One retry rule (issue 30): with or without an expected version, SAVE_ATTEMPTS
    # decisions (the nested loop without one made SAVE_ATTEMPTS squared).
    ("expected", "decisions"),
    [("current", SAVE_ATTEMPTS), (None, SAVE_ATTEMPTS)],
)
def test_a_submit_whose_shared_brand_keeps_being_written_gives_up_after_its_attempts(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch, expected: Any, decisions: int
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    others = iter([connected(app, account) for _ in range(decisions + 2)])
    decide = app.submit_decision
    made: list[int] = []

    def racing(connection: Any, **kwargs: Any) -> Any:
        decided = decide(connection, **kwargs)
        if connection.id == connection_id:
            made.append(1)
            submit(app, account, next(others))  # another connection links the same brand
        return decided

    monkeypatch.setattr(app, "submit_decision", racing)
    version = app.get_connection(account, connection_id).version
    with pytest.raises(VersionConflictError):
        app.submit_registration(
            account,
            connection_id,
            by="u1",
            expected_version=version if expected == "current" else None,
        )
    assert len(made) == decisions
    assert app.get_connection(account, connection_id).submission is None


def test_each_step_names_what_the_step_before_recorded(
    app: SmsChannels, provider: Scripted
) -> None:
    account = unique_account()
    connection_id = registered(app, account)
    connection = app.get_connection(account, connection_id)
    brand = brand_of(app, account, connection_id)
    ((_, _, brand_reference), (_, _, brand_ref, _), number_call) = [
        c for c in provider.calls if c[0] in ("brand", "campaign", "number")
    ]
    assert brand_reference == f"{brand.id}.1"
    assert brand_ref == connection.level("brand").provider_ref
    assert number_call == (
        "number",
        connection.phone_number,
        connection.level("campaign").provider_ref,
        f"MG{_tail(str(connection.submission.campaign_registration_id) + '.1')}",  # type: ignore[union-attr]
        f"{connection_id}.1",
    )


def test_a_step_with_nothing_to_do_answers_the_log_head(app: SmsChannels) -> None:
    assert app.advance_registration(uuid.uuid4()).position == 0  # an empty log
    account = unique_account()
    connection_id = registered(app, account)
    head = app.recorder.max_notification_id()
    assert head
    assert app.advance_registration(connection_id) == StepResult(None, head)
    assert app.advance_registration(uuid.uuid4()) == StepResult(None, head)


def test_a_submission_is_dated_now_in_utc(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    before = datetime.now(UTC)
    submit(app, account, connection_id)
    submission = app.get_connection(account, connection_id).submission
    assert submission is not None
    assert submission.submitted_at.tzinfo is not None
    assert before <= submission.submitted_at <= datetime.now(UTC)


def test_refusals_of_a_submit_name_the_state_and_the_country(app: SmsChannels) -> None:
    account = unique_account()
    requested = app.connect(
        ConnectNumber(account, "ws_1", "agent_1", "byon", "US", "415", unique_us_number(), "u1")
    ).connection
    with pytest.raises(InvalidTransitionError) as not_connected:
        submit(app, account, requested.id)
    assert not_connected.value.message == (
        "Cannot submit the registration of a connection that is requested."
    )
    british = connected(app, account, country="GB", phone_number="+442079460150")
    with pytest.raises(RegistrationNotRequiredError) as not_required:
        submit(app, account, british)
    assert not_required.value.message.startswith("Numbers of GB need no 10DLC registration")


def test_a_preflight_refusal_carries_each_findings_rule_and_words(app: SmsChannels) -> None:
    account = unique_account()
    connection_id = connected(app, account, edited(messageSamples=["hi", None, "", "", ""]))
    with pytest.raises(PreflightFailedError) as refused:
        submit(app, account, connection_id)
    report = preflight(app.get_connection(account, connection_id).compliance)
    assert [(p.field, p.code, p.message) for p in refused.value.problems] == [
        ("smsCompliance." + f.field, f.rule, f.message)
        for f in report.findings
        if f.severity == "error"
    ]


def rejected_then_edited(
    app: SmsChannels, level: str, edit: Callable[[dict[str, Any]], None]
) -> Any:
    account = unique_account()
    connection_id = registered(app, account)
    ref = str(app.get_connection(account, connection_id).level(level).provider_ref)  # type: ignore[arg-type]
    assert report(app, RegistrationReported(level, ref, "rejected", None)) == "applied"  # type: ignore[arg-type]
    payload = copy.deepcopy(GOOD)
    edit(payload)
    app.update_compliance(account, connection_id, payload, by="u1")
    submit(app, account, connection_id)
    return app.get_connection(account, connection_id)


def test_a_rejected_brand_is_sent_again_when_its_part_changed(app: SmsChannels) -> None:
    connection = rejected_then_edited(app, "brand", lambda p: p["brand"].update(city="Oakland"))
    brand: LevelRegistration = app.repository.get(connection.submission.brand_registration_id)
    assert (brand.attempt, brand.state.status) == (2, "submitted")
    assert connection.level("brand").status == "submitted"


def test_a_rejected_brand_is_not_sent_again_when_only_the_campaign_changed(
    app: SmsChannels,
) -> None:
    connection = rejected_then_edited(
        app, "brand", lambda p: p["campaign"].update(optInKeywords="START,GO")
    )
    brand: LevelRegistration = app.repository.get(connection.submission.brand_registration_id)
    assert (brand.attempt, brand.state.status) == (1, "rejected")
    assert connection.registration_status == "rejected"


def test_a_rejected_campaign_is_sent_again_when_the_brand_part_changed(
    app: SmsChannels,
) -> None:
    # The campaign's digest covers the whole payload: it is registered under that brand.
    connection = rejected_then_edited(app, "campaign", lambda p: p["brand"].update(city="Oakland"))
    campaign: LevelRegistration = app.repository.get(connection.submission.campaign_registration_id)
    assert (campaign.attempt, campaign.state.status) == (2, "submitted")


def test_a_created_objects_status_is_recorded_as_the_provider_answered_it(
    app: SmsChannels, provider: Scripted
) -> None:
    provider.answers["brand"] = lambda ref: RegistrationAnswer("BN9", "action_required", "HOLD")
    account = unique_account()
    connection_id = registered(app, account)
    assert brand_of(app, account, connection_id).state.status == "action_required"
    assert app.get_connection(account, connection_id).registration_status == "action_required"
