"""What the reconcile worker's application calls decide, in memory: finishing an interrupted
request, polling a hosting order, giving back orphaned numbers, registration facts."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from domain.application import SmsChannels
from domain.errors import DomainError
from domain.ids import connection_id_for
from domain.providers import (
    HeldNumber,
    HostingOrder,
    HostingStatus,
    NumberUnavailableError,
    ProviderUnavailableError,
)
from tests.support.fakes import CrashingProvider, FailingProvider, SimulatedCrash
from tests.unit.test_connect_flow import LATER, NUMBER, application, claim_holder, command

CONNECTION = connection_id_for("acc", "ws", "k-1")


class HostingProvider(FailingProvider):
    """The sandbox, with a hosting step that can crash the service (``crash``) or answer
    a scripted status (``status``)."""

    crash = False
    status: HostingStatus | None = None

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        if self.crash:
            raise SimulatedCrash
        return super().start_hosting(country, phone_number, reference=reference)

    def hosting_status(self, order_ref: str) -> HostingStatus:
        return self.status or super().hosting_status(order_ref)


def interrupted_byon() -> tuple[SmsChannels, HostingProvider]:
    provider = HostingProvider()
    app = application(provider)
    provider.crash = True
    with pytest.raises(SimulatedCrash):
        app.connect(command(mode="byon"))
    provider.crash = False
    return app, provider


def byon(provider: FailingProvider | None = None) -> tuple[SmsChannels, FailingProvider]:
    provider = provider or FailingProvider()
    app = application(provider)
    app.connect(command(mode="byon"))
    return app, provider


# --- settle_interrupted_request -----------------------------------------------------------


def test_an_interrupted_hosting_request_opens_its_order_again() -> None:
    app, provider = interrupted_byon()
    result = app.settle_interrupted_request(CONNECTION, requested_before=LATER)
    assert result is not None
    connection = result.connection
    assert (connection.status, connection.provider) == ("requested", "sandbox")
    assert connection.hosting_order_ref is not None
    order = provider.ledger.order(connection.hosting_order_ref)
    assert order is not None
    assert (order.phone_number, order.reference) == (NUMBER, str(CONNECTION))


def test_an_interrupted_hosting_request_the_provider_refuses_is_failed_with_its_reason() -> None:
    app, provider = interrupted_byon()
    provider.error = NumberUnavailableError()
    result = app.settle_interrupted_request(CONNECTION, requested_before=LATER)
    assert result is not None
    refused = NumberUnavailableError()
    assert (result.connection.status, result.connection.failure_code) == ("failed", refused.code)
    assert result.connection.failure_reason == refused.message
    assert claim_holder(app) is None


def test_an_interrupted_hosting_request_waits_while_the_provider_is_down() -> None:
    app, provider = interrupted_byon()
    provider.error = ProviderUnavailableError()
    with pytest.raises(ProviderUnavailableError):
        app.settle_interrupted_request(CONNECTION, requested_before=LATER)
    assert app.get_connection("acc", CONNECTION).status == "requested"


def test_an_interrupted_purchase_finished_records_the_provider_and_its_ref() -> None:
    provider = CrashingProvider("after")  # bought, then the service died before recording
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    held = provider.holding(NUMBER)
    assert held is not None
    result = app.settle_interrupted_request(CONNECTION, requested_before=LATER)
    assert result is not None
    assert (result.connection.provider, result.connection.provider_ref) == ("sandbox", held.ref)


def test_an_interrupted_purchase_never_made_says_why_it_failed() -> None:
    app = application(CrashingProvider("before"))
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    result = app.settle_interrupted_request(CONNECTION, requested_before=LATER)
    assert result is not None
    assert result.connection.failure_reason == (
        "The request was interrupted before the number was bought."
    )


# --- poll_hosting -------------------------------------------------------------------------


def test_a_completed_order_connects_with_the_hosted_numbers_ref() -> None:
    app, provider = byon()
    verified = provider.verify_hosting(NUMBER)
    result = app.poll_hosting(CONNECTION)
    assert result is not None
    connection = result.connection
    assert (connection.status, connection.provider, connection.provider_ref) == (
        "connected",
        "sandbox",
        verified.data["numberRef"],
    )


def test_a_failed_order_fails_the_connection_with_the_providers_reason() -> None:
    app, provider = byon()
    provider.fail_hosting(NUMBER, "The carrier refused the port.")
    result = app.poll_hosting(CONNECTION)
    assert result is not None
    connection = result.connection
    assert (connection.status, connection.failure_code, connection.failure_reason) == (
        "failed",
        "hosting_failed",
        "The carrier refused the port.",
    )
    assert claim_holder(app) is None


def test_a_failed_order_without_a_reason_gets_a_default_one() -> None:
    provider = HostingProvider()
    app, _ = byon(provider)
    provider.status = HostingStatus("failed")
    result = app.poll_hosting(CONNECTION)
    assert result is not None
    assert result.connection.failure_reason == "The provider refused to host the number."


@pytest.mark.parametrize(
    "status",
    [HostingStatus("pending"), HostingStatus("completed", number_ref=None)],
    ids=["pending", "completed-without-a-number"],
)
def test_an_order_not_finished_changes_nothing(status: HostingStatus) -> None:
    provider = HostingProvider()
    app, _ = byon(provider)
    provider.status = status
    assert app.poll_hosting(CONNECTION) is None
    assert app.get_connection("acc", CONNECTION).version == 2


def test_only_a_requested_hosting_connection_is_polled() -> None:
    provider = HostingProvider()
    provider.status = HostingStatus("failed", reason="x")
    app = application(provider)
    app.connect(command(mode="new"))  # connected right away
    assert app.poll_hosting(CONNECTION) is None
    assert app.get_connection("acc", CONNECTION).status == "connected"
    assert app.poll_hosting(connection_id_for("acc", "ws", "unknown")) is None


# --- release_orphan -----------------------------------------------------------------------


def test_a_number_held_for_a_reclaimed_connection_is_released_and_logged() -> None:
    # The record says reclaimed, yet the provider still holds the number for it.
    provider = FailingProvider()
    app = application(provider)
    app.connect(command())
    app.record_reclaimed(CONNECTION, "reclaimed")
    held = provider.holding(NUMBER)
    assert held is not None
    with capture_logs() as logs:
        assert app.release_orphan(held) is True
    assert provider.released == [held.ref]
    assert {
        "event": "orphan_released",
        "connection_id": str(CONNECTION),
        "ref": held.ref,
    }.items() <= logs[-1].items()


def test_a_number_held_for_a_request_still_being_provisioned_is_kept() -> None:
    app, provider = byon()
    held = HeldNumber(NUMBER, "PN-early", str(CONNECTION))
    assert app.release_orphan(held) is False
    assert provider.released == []


# --- registration facts -------------------------------------------------------------------


def test_a_registration_fact_is_recorded_with_every_detail() -> None:
    app, _ = byon()
    result = app.record_registration_status(
        CONNECTION, "rejected", raw_status="FAILED", reason="30882", provider_ref="BN1"
    )
    connection = result.connection
    assert (
        connection.registration_status,
        connection.registration_raw_status,
        connection.registration_reason,
        connection.registration_ref,
    ) == ("rejected", "FAILED", "30882", "BN1")
    assert app.get_connection("acc", CONNECTION).registration_status == "rejected"


def test_an_unknown_registration_status_is_refused() -> None:
    app, _ = byon()
    with pytest.raises(DomainError):
        app.record_registration_status(CONNECTION, "bogus")
