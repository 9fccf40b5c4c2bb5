"""A pending hosting order's progress (issue 13: every status of a Twilio hosted-number order,
not only completed and failed): the poll records what the order waits for as a
``HostingProgressed`` fact when it changes, and only then."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.errors import InvalidTransitionError
from domain.providers import HostingStatus
from domain.service.commands import ConnectNumber
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider

NUMBER = "+14155550123"


class ReportingProvider(SandboxProvider):
    """The sandbox, but its pending hosting orders say what they wait for."""

    waiting_for: str | None = None

    def hosting_status(self, order_ref: str) -> HostingStatus:
        status = super().hosting_status(order_ref)
        if status.state == "pending":
            return HostingStatus("pending", reason=self.waiting_for)
        return status


@pytest.fixture
def provider() -> ReportingProvider:
    return ReportingProvider()


@pytest.fixture
def app(provider: ReportingProvider) -> SmsChannels:
    return SmsChannels(provider, env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def byon(app: SmsChannels) -> UUID:
    command = ConnectNumber(
        account_id="acc",
        workspace_id="ws",
        agent_id="agent",
        mode="byon",
        country="US",
        area_code=None,
        phone_number=NUMBER,
        requested_by="u",
    )
    return app.connect(command).connection.id


def progress(app: SmsChannels, connection_id: UUID) -> list[str]:
    return [
        event.reason
        for event in app.events.get(connection_id)
        if isinstance(event, SmsConnection.HostingProgressed)
    ]


def test_each_new_reason_is_recorded_once(app: SmsChannels, provider: ReportingProvider) -> None:
    connection_id = byon(app)
    assert app.poll_hosting(connection_id) is None  # nothing said yet: nothing recorded
    provider.waiting_for = "Waiting for the letter of authorization to be signed."
    first = app.poll_hosting(connection_id)
    assert first is not None
    assert first.connection.status == "requested"
    assert app.poll_hosting(connection_id) is None  # the same reason again
    provider.waiting_for = "The carrier is moving the number's messaging to Twilio."
    assert app.poll_hosting(connection_id) is not None
    assert progress(app, connection_id) == [
        "Waiting for the letter of authorization to be signed.",
        "The carrier is moving the number's messaging to Twilio.",
    ]
    connection = app.get_connection("acc", connection_id)
    assert connection.hosting_reason == progress(app, connection_id)[-1]


def test_a_completed_order_still_connects_after_progress(
    app: SmsChannels, provider: ReportingProvider
) -> None:
    connection_id = byon(app)
    provider.waiting_for = "Twilio is testing the hosted number."
    app.poll_hosting(connection_id)
    assert progress(app, connection_id) == ["Twilio is testing the hosted number."]
    provider.verify_hosting(NUMBER)
    result = app.poll_hosting(connection_id)
    assert result is not None
    assert result.connection.status == "connected"


def test_progress_is_refused_once_the_connection_left_requested(app: SmsChannels) -> None:
    connection_id = byon(app)
    connection = app.get_connection("acc", connection_id)
    connection.mark_connected("sandbox", "PN1")
    with pytest.raises(InvalidTransitionError):
        connection.record_hosting_progress("Waiting.")


def test_a_refused_progress_names_the_action_and_the_status_it_met(app: SmsChannels) -> None:
    connection_id = byon(app)
    connection = app.get_connection("acc", connection_id)
    connection.mark_connected("sandbox", "PN1")
    with pytest.raises(InvalidTransitionError) as refused:
        connection.record_hosting_progress("Waiting.")
    assert (
        str(refused.value) == "Cannot record hosting progress for a connection that is connected."
    )
