"""The connect flow around the provider, in memory: outages, crashes and replays, search
checks, provider events (webhooks) and the reconcile commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.errors import (
    InvalidAreaCodeError,
    InvalidCountryError,
    InvalidNumberSearchError,
    InvalidTransitionError,
    NumberAlreadyConnectedError,
    ProvisioningFailedError,
)
from domain.ids import connection_id_for, number_claim_id
from domain.number_claims import NumberClaim
from domain.providers import (
    HeldNumber,
    HostingCompleted,
    HostingFailed,
    NumberLost,
    NumberUnavailableError,
    ProviderEvent,
    ProviderFact,
    ProviderUnavailableError,
    ProvisionedNumber,
    RegistrationChanged,
    Unrecognised,
)
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from tests.support.fakes import CrashingProvider, FailingProvider, SimulatedCrash

NUMBER = "+14155550123"
LATER = datetime.now(UTC) + timedelta(hours=1)  # "requested before" bound past every request


def command(
    mode: str = "new", key: str | None = "k-1", number: str = NUMBER, account: str = "acc"
) -> ConnectNumber:
    return ConnectNumber(
        account_id=account,
        workspace_id="ws",
        agent_id="agent",
        mode=mode,  # type: ignore[arg-type]
        country="US",
        area_code=None,
        phone_number=number,
        requested_by="u",
        idempotency_key=key,
    )


def application(provider: SandboxProvider) -> SmsChannels:
    return SmsChannels(provider, env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def claim_holder(app: SmsChannels, number: str = NUMBER) -> UUID | None:
    claim: NumberClaim = app.repository.get(number_claim_id(number))
    return claim.holder


def event(fact: ProviderFact, event_id: str = "evt_1") -> ProviderEvent:
    return ProviderEvent("sandbox", event_id, fact)


@pytest.fixture
def provider() -> FailingProvider:
    return FailingProvider()


@pytest.fixture
def app(provider: FailingProvider) -> SmsChannels:
    return application(provider)


# --- outages and crashes ------------------------------------------------------------------


def test_a_connect_during_a_known_outage_records_nothing(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.failures.outage_retry_after = 30
    with pytest.raises(ProviderUnavailableError) as raised:
        app.connect(command())
    assert raised.value.retry_after_seconds == 30
    assert app.current_position() == 0


def test_an_outage_during_the_purchase_leaves_the_request_pending_with_its_claim(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError(7)
    with pytest.raises(ProviderUnavailableError):
        app.connect(command())
    pending = app.get_connection("acc", connection_id_for("acc", "ws", "k-1"))
    assert (pending.status, pending.failure_code) == ("requested", None)
    assert claim_holder(app) == pending.id


def test_the_replay_of_a_connect_cut_short_by_an_outage_resumes_it(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError()
    with pytest.raises(ProviderUnavailableError):
        app.connect(command())
    provider.error = None
    resumed = app.connect(command())
    assert (resumed.connection.id, resumed.connection.status) == (
        connection_id_for("acc", "ws", "k-1"),
        "connected",
    )


def test_the_replay_after_a_crash_past_the_purchase_records_it_without_buying_again() -> None:
    provider = CrashingProvider("after")
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    bought = provider.holding(NUMBER)
    provider.crash = None
    resumed = app.connect(command())
    assert bought is not None
    assert (resumed.connection.status, resumed.connection.provider_ref) == ("connected", bought.ref)
    assert len(list(provider.held_numbers())) == 1


def test_the_replay_after_a_crash_before_the_purchase_buys_the_number() -> None:
    provider = CrashingProvider("before")
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    provider.crash = None
    assert app.connect(command()).connection.status == "connected"
    assert provider.holds(NUMBER)


def test_a_replay_of_a_request_given_up_by_the_reconcile_worker_is_refused(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError()
    with pytest.raises(ProviderUnavailableError):
        app.connect(command())
    provider.error = None
    app.settle_interrupted_request(connection_id_for("acc", "ws", "k-1"), requested_before=LATER)
    with pytest.raises(ProvisioningFailedError):
        app.connect(command())


def test_a_purchase_finishing_after_the_request_was_given_up_is_given_back() -> None:
    # The provider answers slowly; meanwhile the reconcile worker fails the request.
    class SlowProvider(FailingProvider):
        app: SmsChannels

        def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
            self.app.record_provisioning_failed(UUID(reference), "provisioning_interrupted", "x")
            return super().purchase(country, phone_number, reference=reference)

    provider = SlowProvider()
    app = provider.app = application(provider)
    with pytest.raises(InvalidTransitionError):
        app.connect(command())
    assert not provider.holds(NUMBER)
    assert claim_holder(app) is None


def test_a_delete_while_the_provider_is_down_succeeds_and_leaves_the_release_to_the_sweep(
    app: SmsChannels, provider: FailingProvider
) -> None:
    connected = app.connect(command()).connection
    provider.failures.outage_retry_after = 5
    app.delete("acc", connected.id, by="u")
    provider.failures.outage_retry_after = None
    held = provider.holding(NUMBER)
    assert held is not None
    assert app.release_orphan(held) is True
    assert not provider.holds(NUMBER)


def test_deleting_a_pending_byon_connection_cancels_its_hosting_order(
    app: SmsChannels, provider: FailingProvider
) -> None:
    requested = app.connect(command(mode="byon")).connection
    app.delete("acc", requested.id, by="u")
    assert provider.released == [requested.hosting_order_ref]
    assert provider.hosting_status(requested.hosting_order_ref or "").state == "failed"


# --- search -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error", "field"),
    [
        (("XX", None, None, 20), InvalidCountryError, "countryCode"),
        (("US", "41a", None, 20), InvalidAreaCodeError, "areaCode"),
        (("US", None, "55-01", 20), InvalidNumberSearchError, "contains"),
        (("US", None, "5", 20), InvalidNumberSearchError, "contains"),
        (("US", None, None, 0), InvalidNumberSearchError, "limit"),
        (("US", None, None, 101), InvalidNumberSearchError, "limit"),
    ],
)
def test_a_malformed_search_is_refused_naming_the_parameter(
    app: SmsChannels, args: tuple[str, str | None, str | None, int], error: type, field: str
) -> None:
    with pytest.raises(error) as raised:
        app.search_numbers(*args)
    assert raised.value.field == field


def test_search_passes_a_valid_query_to_the_provider(app: SmsChannels) -> None:
    assert [n.phone_number for n in app.search_numbers("US", "212", "5550101", 5)] == [
        "+12125550101"
    ]


# --- provider events (webhooks) -----------------------------------------------------------


def test_a_verified_hosting_order_connects_the_byon_connection(
    app: SmsChannels, provider: FailingProvider
) -> None:
    requested = app.connect(command(mode="byon")).connection
    webhook = provider.verify_hosting(NUMBER)
    fact = HostingCompleted(NUMBER, str(webhook.data["orderRef"]), str(webhook.data["numberRef"]))
    result = app.record_provider_event(event(fact))
    connected = app.get_connection("acc", requested.id)
    assert (result.outcome, connected.status, connected.provider_ref) == (
        "applied",
        "connected",
        webhook.data["numberRef"],
    )


def test_a_redelivered_event_is_a_duplicate_and_changes_nothing(
    app: SmsChannels, provider: FailingProvider
) -> None:
    requested = app.connect(command(mode="byon")).connection
    fact = HostingCompleted(NUMBER, requested.hosting_order_ref or "", "PN1")
    app.record_provider_event(event(fact))
    version = app.get_connection("acc", requested.id).version
    again = app.record_provider_event(event(fact))
    assert (again.outcome, app.get_connection("acc", requested.id).version) == (
        "duplicate",
        version,
    )


def test_a_failed_hosting_order_fails_the_connection_and_frees_the_number(
    app: SmsChannels,
) -> None:
    requested = app.connect(command(mode="byon")).connection
    app.record_provider_event(event(HostingFailed(NUMBER, requested.hosting_order_ref or "", "no")))
    failed = app.get_connection("acc", requested.id)
    assert (failed.status, failed.failure_code, failed.failure_reason) == (
        "failed",
        "hosting_failed",
        "no",
    )
    assert claim_holder(app) is None


def test_an_event_for_another_hosting_order_is_ignored(app: SmsChannels) -> None:
    requested = app.connect(command(mode="byon")).connection
    result = app.record_provider_event(event(HostingCompleted(NUMBER, "HR-other", "PN1")))
    assert (result.outcome, app.get_connection("acc", requested.id).status) == (
        "ignored",
        "requested",
    )


def test_a_reclaim_makes_the_connection_reclaimed_inactive_and_frees_the_number(
    app: SmsChannels,
) -> None:
    connected = app.connect(command()).connection
    app.update_settings("acc", connected.id, by="u", active=True)
    result = app.record_provider_event(event(NumberLost(NUMBER, connected.provider_ref, "expired")))
    reclaimed = app.get_connection("acc", connected.id)
    assert (result.outcome, reclaimed.status, reclaimed.reclaim_reason, reclaimed.active) == (
        "applied",
        "reclaimed",
        "expired",
        False,
    )
    assert claim_holder(app) is None


def test_a_reclaim_of_an_earlier_holding_of_the_number_is_ignored(app: SmsChannels) -> None:
    connected = app.connect(command()).connection
    result = app.record_provider_event(
        event(NumberLost(NUMBER, "PN-of-an-earlier-holder", "reclaimed"))
    )
    assert (result.outcome, app.get_connection("acc", connected.id).status) == (
        "ignored",
        "connected",
    )


def test_a_registration_status_change_is_recorded(app: SmsChannels) -> None:
    connected = app.connect(command()).connection
    fact = RegistrationChanged(NUMBER, "approved", "VERIFIED", None, "CM1")
    app.record_provider_event(event(fact))
    after = app.get_connection("acc", connected.id)
    assert (after.registration_status, after.registration_raw_status, after.registration_ref) == (
        "approved",
        "VERIFIED",
        "CM1",
    )


@pytest.mark.parametrize(
    "fact",
    [NumberLost("+14155550999", None, "reclaimed"), Unrecognised("account.updated")],
    ids=["unknown-number", "unrecognised"],
)
def test_an_event_that_fits_no_connection_is_ignored_but_remembered(
    app: SmsChannels, fact: ProviderFact
) -> None:
    first = app.record_provider_event(event(fact))
    again = app.record_provider_event(event(fact))
    assert (first.outcome, again.outcome) == ("ignored", "duplicate")


# --- the reconcile commands ---------------------------------------------------------------


def test_an_interrupted_purchase_the_provider_made_is_finished() -> None:
    provider = CrashingProvider("after")
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    result = app.settle_interrupted_request(
        connection_id_for("acc", "ws", "k-1"), requested_before=LATER
    )
    assert result is not None
    assert result.connection.status == "connected"


def test_an_interrupted_purchase_the_provider_never_made_is_failed_and_freed() -> None:
    provider = CrashingProvider("before")
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    result = app.settle_interrupted_request(
        connection_id_for("acc", "ws", "k-1"), requested_before=LATER
    )
    assert result is not None
    assert (result.connection.status, result.connection.failure_code) == (
        "failed",
        "provisioning_interrupted",
    )
    assert claim_holder(app) is None


def test_a_recent_request_is_left_to_its_own_request() -> None:
    provider = CrashingProvider("after")
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    assert (
        app.settle_interrupted_request(
            connection_id_for("acc", "ws", "k-1"), requested_before=earlier
        )
        is None
    )


def test_a_number_held_for_someone_else_does_not_finish_an_interrupted_purchase() -> None:
    provider = CrashingProvider("before")
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    provider.crash = None
    provider.purchase("US", NUMBER, reference="not-this-connection")
    result = app.settle_interrupted_request(
        connection_id_for("acc", "ws", "k-1"), requested_before=LATER
    )
    assert result is not None
    assert result.connection.status == "failed"


def test_poll_hosting_connects_a_completed_order(
    app: SmsChannels, provider: FailingProvider
) -> None:
    requested = app.connect(command(mode="byon")).connection
    assert app.poll_hosting(requested.id) is None  # still pending
    provider.verify_hosting(NUMBER)
    result = app.poll_hosting(requested.id)
    assert result is not None
    assert result.connection.status == "connected"


def test_confirm_holding_reclaims_a_number_the_provider_no_longer_holds(
    app: SmsChannels, provider: FailingProvider
) -> None:
    connected = app.connect(command()).connection
    assert app.confirm_holding(connected.id) is None
    provider.take_back(NUMBER, "reclaimed")
    result = app.confirm_holding(connected.id)
    assert result is not None
    assert result.connection.status == "reclaimed"
    assert claim_holder(app) is None


def test_the_poll_and_the_webhook_reporting_one_reclaim_change_the_connection_once(
    app: SmsChannels, provider: FailingProvider
) -> None:
    connected = app.connect(command()).connection
    webhook = provider.take_back(NUMBER, "reclaimed")
    app.confirm_holding(connected.id)
    version = app.get_connection("acc", connected.id).version
    late = app.record_provider_event(
        event(NumberLost(NUMBER, str(webhook.data["numberRef"]), "reclaimed"))
    )
    assert (late.outcome, app.get_connection("acc", connected.id).version) == ("ignored", version)


@pytest.mark.parametrize(
    "reference",
    [None, "not-a-uuid", "5b0c1a8e-2f57-4f0f-9d55-8a1f2f1e0c11"],
    ids=["none", "not-a-uuid", "unknown-connection"],
)
def test_numbers_not_bought_by_this_service_are_never_released(
    app: SmsChannels, provider: FailingProvider, reference: str | None
) -> None:
    assert app.release_orphan(HeldNumber(NUMBER, "PN1", reference)) is False
    assert provider.released == []


def test_a_number_its_connection_still_holds_is_not_released(
    app: SmsChannels, provider: FailingProvider
) -> None:
    app.connect(command())
    held = provider.holding(NUMBER)
    assert held is not None
    assert app.release_orphan(held) is False


def test_a_number_claimed_again_cannot_be_connected_twice(app: SmsChannels) -> None:
    app.connect(command(key="k-1"))
    with pytest.raises(NumberAlreadyConnectedError):
        app.connect(command(key="k-2"))


def test_a_second_purchase_recorded_after_another_connect_of_the_request_is_given_back() -> None:
    # While this request buys its number, an earlier attempt of it is confirmed under
    # another provider reference: the second purchase must go back to the provider.
    class RacingProvider(FailingProvider):
        app: SmsChannels

        def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
            self.app.record_number_connected(UUID(reference), "sandbox", "PN-earlier")
            return super().purchase(country, phone_number, reference=reference)

    provider = RacingProvider()
    app = provider.app = application(provider)
    with pytest.raises(InvalidTransitionError):
        app.connect(command())
    (bought,) = provider.released
    assert bought != "PN-earlier"
    connection = app.get_connection("acc", connection_id_for("acc", "ws", "k-1"))
    assert (connection.status, connection.provider_ref) == ("connected", "PN-earlier")


def test_deleting_a_failed_connection_leaves_the_claim_of_the_one_that_took_the_number(
    app: SmsChannels, provider: FailingProvider
) -> None:
    # A fails; B takes the number; deleting A must not free B's claim.
    provider.error = NumberUnavailableError()
    with pytest.raises(NumberUnavailableError):
        app.connect(command(key="k-a"))
    provider.error = None
    second = app.connect(command(key="k-b"))
    app.delete("acc", connection_id_for("acc", "ws", "k-a"), by="u")
    assert claim_holder(app) == second.connection.id
    with pytest.raises(NumberAlreadyConnectedError):
        app.connect(command(key="k-c"))
