"""Polling a brand's pending vettings (``poll_vettings``), in memory with a sandbox whose
vettings stay pending until it says otherwise: nothing changes while the provider says
pending; once it answers, each pending vetting's status is recorded and the brand is read
again (its score, hence the throughput); a connection that was never submitted, is gone or
is unknown has nothing to poll."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest

from domain.application import SmsChannels
from domain.carriers import CarrierState
from domain.providers import VettingAnswer
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider
from tests.support.common import unique_account
from tests.unit.test_registration import connected, run_steps
from tests.unit.test_registration_carriers import (
    POPO,
    TOKEN,
    deliver,
    document,
    number_of,
    political,
    registered,
)


class SlowVettings(SandboxProvider):
    """The sandbox, except that a vetting answers pending while ``pending`` is set (the
    vettings asked are kept: provider, id, reference; and the brands read)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = True
        self.asked: list[tuple[str, str | None, str]] = []
        self.brand_reads: list[str] = []

    def registration_status(self, level: Any, ref: str) -> Any:
        if level == "brand":
            self.brand_reads.append(ref)
        return super().registration_status(level, ref)

    def vet_brand(
        self, brand_ref: str, *, vetting_provider: str, vetting_id: str | None, reference: str
    ) -> VettingAnswer:
        self.asked.append((vetting_provider, vetting_id, reference))
        answer = super().vet_brand(
            brand_ref, vetting_provider=vetting_provider, vetting_id=vetting_id,
            reference=reference,
        )  # fmt: skip
        if self.pending:
            return VettingAnswer(answer.ref, "pending", "PENDING", answer.vetting_class)
        return answer


@pytest.fixture
def provider() -> SlowVettings:
    return SlowVettings()


@pytest.fixture
def app(provider: SlowVettings) -> SmsChannels:
    return SmsChannels(provider, env=POPO)


def vettings(app: SmsChannels, account: str, connection_id: Any) -> list[tuple[str, str]]:
    answer = document(app, account, connection_id)
    return [(v["kind"], v["status"]) for v in answer["brand"]["vettings"]]


def secondary_requested(app: SmsChannels, provider: SlowVettings) -> tuple[str, Any]:
    """A registered connection whose brand is approved with score 20, its secondary vetting
    asked for (not yet sent)."""
    account = unique_account()
    connection_id = registered(app, account)
    number = number_of(app, account, connection_id)
    deliver(app, provider.decide_registration(number, "approved", level="brand"))
    deliver(app, provider.set_throughput(number, brandScore=20))
    app.request_secondary_vetting(account, connection_id, by="u1", expected_version=None)
    return account, connection_id


def secondary_pending(app: SmsChannels, provider: SlowVettings) -> tuple[str, Any]:
    account, connection_id = secondary_requested(app, provider)
    run_steps(app, connection_id)
    assert vettings(app, account, connection_id) == [("secondary", "pending")]
    return account, connection_id


def test_a_pending_vetting_is_asked_again_and_nothing_changes_while_it_stays_pending(
    app: SmsChannels, provider: SlowVettings
) -> None:
    account, connection_id = secondary_pending(app, provider)
    asked = len(provider.asked)
    assert app.poll_vettings(connection_id) == 0
    assert provider.asked[asked:] == [provider.asked[asked - 1]]  # the same vetting again
    assert provider.asked[-1][:2] == ("aegis", None)
    assert vettings(app, account, connection_id) == [("secondary", "pending")]


def test_an_answered_vetting_is_recorded_and_the_brand_read_again(
    app: SmsChannels, provider: SlowVettings
) -> None:
    account, connection_id = secondary_pending(app, provider)
    provider.pending = False
    read = len(provider.brand_reads)
    assert app.poll_vettings(connection_id) == 1
    assert vettings(app, account, connection_id) == [("secondary", "approved")]
    assert provider.brand_reads[read:] == [provider.brand_reads[-1]]  # read again, once
    assert document(app, account, connection_id)["throughput"]["brandScore"] == 75
    asked = len(provider.asked)
    assert app.poll_vettings(connection_id) == 0  # nothing pending any more
    assert len(provider.asked) == asked


def test_a_vetting_answered_at_once_and_the_score_it_brought_are_saved_together(
    app: SmsChannels, provider: SlowVettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One save: a reader never sees the vetting approved beside the score from before it
    (the console stops polling once no vetting is pending, so it kept showing 20)."""
    provider.pending = False
    account, connection_id = secondary_requested(app, provider)
    saves: list[set[str]] = []
    save = app.save

    def counting(*objs: Any, **kwargs: Any) -> Any:
        recordings = save(*objs, **kwargs)
        saves.append({type(r.domain_event).__qualname__ for r in recordings})
        return recordings

    monkeypatch.setattr(app, "save", counting)
    run_steps(app, connection_id)
    (vetted,) = [names for names in saves if "LevelRegistration.Vetted" in names]
    assert "LevelRegistration.StatusChanged" in vetted  # the score, in the same save
    assert vettings(app, account, connection_id) == [("secondary", "approved")]
    assert document(app, account, connection_id)["throughput"]["brandScore"] == 75


def test_a_campaign_verify_vetting_is_asked_again_with_its_token(
    app: SmsChannels, provider: SlowVettings
) -> None:
    account, connection_id = political_vetted(app, provider)
    assert vettings(app, account, connection_id) == [("campaign_verify", "pending")]
    provider.pending = False
    assert app.poll_vettings(connection_id) == 1
    assert provider.asked[-1][:2] == ("campaign-verify", TOKEN)
    assert provider.asked[-1][2].endswith(".campaign_verify")
    assert vettings(app, account, connection_id) == [("campaign_verify", "approved")]


def test_a_connection_never_submitted_gone_or_unknown_has_nothing_to_poll(
    app: SmsChannels, provider: SlowVettings
) -> None:
    account = unique_account()
    never = connected(app, account)
    assert app.poll_vettings(never) == 0
    assert app.poll_vettings(uuid4()) == 0
    account, pending = secondary_pending(app, provider)
    app.delete(account, pending, by="u1")
    assert app.poll_vettings(pending) == 0
    assert provider.asked.count(provider.asked[-1]) == 1  # never asked again


def test_the_vetting_request_is_a_registration_fact_of_the_brand_by_its_user(
    app: SmsChannels, provider: SlowVettings
) -> None:
    account, connection_id = secondary_pending(app, provider)
    facts = app.compliance_history(connection_id, account_id=account).registration
    (asked,) = [f for f in facts if f.type == "registration.vetting_requested"]
    before = facts[facts.index(asked) - 1]
    connection = app.get_connection(account, connection_id)
    submission = connection.submission
    assert submission is not None
    assert (asked.actor, asked.actor_type, asked.level, asked.status) == (
        "u1", "user", "brand", "requested")  # fmt: skip
    assert (asked.raw_status, asked.reasons) == (None, ())
    assert asked.submitted_version == submission.compliance_version
    assert asked.registration_status == before.registration_status
    (requested,) = [e for e in app.events.get(connection_id)
                    if isinstance(e, SmsConnection.SecondaryVettingRequested)]  # fmt: skip
    assert (asked.version, asked.at) == (requested.originator_version, requested.timestamp)


@pytest.mark.parametrize(
    ("answer", "recorded"),
    [("rejected", "rejected"), ("approved", "approved"), ("pending", "pending"),
     (None, "pending"), ("IN_REVIEW", "pending")],
)  # fmt: skip
def test_a_vettings_answer_is_recorded_in_the_services_words(
    app: SmsChannels, provider: SlowVettings, answer: str | None, recorded: str
) -> None:
    account, connection_id = secondary_pending(app, provider)
    provider.pending = False
    original = provider.vet_brand

    def answering(brand_ref: str, **asked: Any) -> VettingAnswer:
        made = original(brand_ref, **asked)
        return VettingAnswer(made.ref, answer, "RAW", made.vetting_class)

    provider.vet_brand = answering  # type: ignore[method-assign]
    app.poll_vettings(connection_id)
    assert vettings(app, account, connection_id) == [("secondary", recorded)]


def test_secondary_vetting_is_refused_before_the_brand_is_approved_in_words(
    app: SmsChannels,
) -> None:
    from domain.errors import InvalidTransitionError  # noqa: PLC0415

    account = unique_account()
    connection_id = registered(app, account)
    with pytest.raises(InvalidTransitionError) as refused:
        app.request_secondary_vetting(account, connection_id, by="u1", expected_version=None)
    status = app.get_connection(account, connection_id).registration_status
    assert refused.value.message == (
        f"Cannot ask for secondary vetting of a connection that is {status}."
    )


def test_secondary_vetting_checks_its_caller_and_version(
    app: SmsChannels, provider: SlowVettings
) -> None:
    from domain.errors import InvalidTextError, VersionConflictError  # noqa: PLC0415

    account = unique_account()
    connection_id = registered(app, account)
    number = number_of(app, account, connection_id)
    deliver(app, provider.decide_registration(number, "approved", level="brand"))
    with pytest.raises(InvalidTextError) as refused:
        app.request_secondary_vetting(account, connection_id, by="u\u00001", expected_version=None)
    assert refused.value.field == "sub"
    with pytest.raises(VersionConflictError):
        app.request_secondary_vetting(account, connection_id, by="u1", expected_version=1)


def test_a_submission_whose_brand_the_provider_has_not_made_has_nothing_to_poll(
    app: SmsChannels, provider: SlowVettings
) -> None:
    account = unique_account()
    connection_id = connected(app, account)
    from tests.unit.test_registration import submit  # noqa: PLC0415

    submit(app, account, connection_id)  # no worker step yet: no brand at the provider
    assert app.poll_vettings(connection_id) == 0
    assert provider.asked == []


def political_vetted(app: SmsChannels, provider: SlowVettings) -> tuple[str, Any]:
    """A political brand approved, its Campaign Verify vetting sent by the worker."""
    from tests.unit.test_registration import submit  # noqa: PLC0415

    account = unique_account()
    connection_id = connected(app, account, political(TOKEN))
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    brand_ref = app.get_connection(account, connection_id).level("brand").provider_ref
    assert brand_ref is not None
    provider.registrations.set_status(brand_ref, "approved", None, None)
    app.poll_registration(connection_id)
    run_steps(app, connection_id)
    return account, connection_id


def test_the_vetting_step_sends_the_political_brands_token(
    app: SmsChannels, provider: SlowVettings
) -> None:
    political_vetted(app, provider)
    assert [asked[:2] for asked in provider.asked] == [("campaign-verify", TOKEN)]


def test_a_vetting_step_answers_the_position_of_its_write_and_waits_for_the_brand(
    app: SmsChannels, provider: SlowVettings
) -> None:
    from tests.unit.test_registration import submit  # noqa: PLC0415

    account = unique_account()
    connection_id = connected(app, account, political(TOKEN))
    submit(app, account, connection_id)
    assert app.advance_registration(connection_id).step == "brand"
    waiting = app.advance_registration(connection_id)  # the brand is not approved yet
    assert (waiting.step, waiting.position) == (None, app.current_position())
    assert provider.asked == []
    brand_ref = app.get_connection(account, connection_id).level("brand").provider_ref
    assert brand_ref is not None
    provider.registrations.set_status(brand_ref, "approved", None, None)
    app.poll_registration(connection_id)
    before = app.current_position()
    vetted = app.advance_registration(connection_id)
    assert vetted.step == "brand"
    assert vetted.position == app.current_position() > before


def test_two_pending_vettings_answered_in_one_poll_count_two(
    app: SmsChannels, provider: SlowVettings
) -> None:
    account, connection_id = political_vetted(app, provider)
    app.request_secondary_vetting(account, connection_id, by="u1", expected_version=None)
    run_steps(app, connection_id)
    assert vettings(app, account, connection_id) == [
        ("campaign_verify", "pending"), ("secondary", "pending")]  # fmt: skip
    provider.pending = False
    assert app.poll_vettings(connection_id) == 2
    assert vettings(app, account, connection_id) == [
        ("campaign_verify", "approved"), ("secondary", "approved")]  # fmt: skip


def test_a_pending_vetting_after_an_answered_one_is_still_polled(
    app: SmsChannels, provider: SlowVettings
) -> None:
    provider.pending = False  # the Campaign Verify token is accepted at once
    account, connection_id = political_vetted(app, provider)
    provider.pending = True
    app.request_secondary_vetting(account, connection_id, by="u1", expected_version=None)
    run_steps(app, connection_id)
    assert vettings(app, account, connection_id) == [
        ("campaign_verify", "approved"), ("secondary", "pending")]  # fmt: skip
    provider.pending = False
    assert app.poll_vettings(connection_id) == 1
    assert provider.asked[-1][0] == "aegis"
    assert vettings(app, account, connection_id) == [
        ("campaign_verify", "approved"), ("secondary", "approved")]  # fmt: skip


def test_a_vetting_that_stays_pending_does_not_read_the_brand_again(
    app: SmsChannels, provider: SlowVettings
) -> None:
    _, connection_id = secondary_pending(app, provider)
    reads = len(provider.brand_reads)
    assert app.poll_vettings(connection_id) == 0
    assert len(provider.brand_reads) == reads


def test_the_brand_as_the_provider_reads_it_after_a_vetting_is_recorded_whole(
    app: SmsChannels, provider: SlowVettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, connection_id = secondary_pending(app, provider)
    provider.pending = False
    carriers = (CarrierState("tmobile", "approved"),)
    read = provider.registration_status

    def vetted_brand(level: Any, ref: str) -> Any:
        answer = read(level, ref)
        if level != "brand":
            return answer
        return replace(answer, status="approved", raw_status="VETTED", carriers=carriers,
                       identity_status="VETTED_VERIFIED")  # fmt: skip

    monkeypatch.setattr(provider, "registration_status", vetted_brand)
    assert app.poll_vettings(connection_id) == 1
    brand = app.brand_registration_of(app.get_connection(account, connection_id))
    assert brand is not None
    state = brand.state
    assert (state.status, state.raw_status, state.identity_status, state.carriers) == (
        "approved", "VETTED", "VETTED_VERIFIED", carriers)  # fmt: skip
    assert state.throughput is not None
    assert state.throughput.brand_score == 75
    level = app.get_connection(account, connection_id).level("brand")
    assert (level.status, level.raw_status) == ("approved", "VETTED")
