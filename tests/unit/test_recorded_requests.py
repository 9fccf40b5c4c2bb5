"""Once a connect recorded anything, every failure names the connection (issue 28, item 5),
and the in-memory idempotency store's in-flight markers: in memory."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import OperationalError, RecordConflictError
from structlog.testing import capture_logs

from api.idempotency import IN_FLIGHT_LEASE_SECONDS, MemoryResponseStore
from domain.application import SmsChannels
from domain.errors import NumberAlreadyConnectedError, RecordedRequestUnavailableError
from domain.providers import (
    ProviderUnavailableError,
    ProvisionedNumber,
    ProvisioningInterruptedError,
)
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider
from tests.unit.test_connect_flow import NUMBER, application, command


class StoreGoneAfterTheRequest(SmsChannels):
    """An application whose event store goes away once the request (connection + claim) is
    saved: the provider's outcome cannot be recorded."""

    def save(self, *objects: Any, **kwargs: Any) -> Any:
        requested = any(isinstance(o, SmsConnection) and o.version == 1 for o in objects)
        if not requested:
            raise OperationalError("the database went away")
        return super().save(*objects, **kwargs)


def test_a_store_failure_after_the_purchase_names_the_recorded_connection() -> None:
    provider = SandboxProvider()
    app = StoreGoneAfterTheRequest(provider, env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with pytest.raises(RecordedRequestUnavailableError) as caught:
        app.connect(command())
    recorded = app.get_connection("acc", caught.value.connection_id)
    assert recorded.status == "requested"  # recorded, its outcome not yet
    held = provider.holding(NUMBER)
    assert held is not None  # bought
    assert held.reference == str(caught.value.connection_id)


class DownDuringThePurchase(SandboxProvider):
    """Buys the number, then is down (the purchase's answer is lost)."""

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        super().purchase(country, phone_number, reference=reference)
        self.failures.outage_retry_after = 9
        raise ProviderUnavailableError(9)


def test_a_replay_while_the_provider_is_still_down_names_the_pending_connection() -> None:
    app = application(DownDuringThePurchase())
    with pytest.raises(ProvisioningInterruptedError) as first:
        app.connect(command())
    with pytest.raises(ProvisioningInterruptedError) as replay:
        app.connect(command())  # same key: the recorded request, not a bare 503
    assert replay.value.connection_id == first.value.connection_id
    assert replay.value.retry_after_seconds == 9


def test_a_marker_is_held_until_finished_or_expired() -> None:
    now = [100.0]
    store = MemoryResponseStore(clock=lambda: now[0])
    first = store.begin("acc", "k", "f").holder
    assert first is not None
    assert store.begin("acc", "k", "f").holder is None
    assert store.begin("other", "k", "f").holder is not None  # per account
    store.finish("acc", "k", first, None)
    second = store.begin("acc", "k", "f").holder
    assert second is not None
    now[0] += IN_FLIGHT_LEASE_SECONDS + 1  # the holder crashed: its lease ran out
    third = store.begin("acc", "k", "f").holder
    assert third is not None
    store.finish("acc", "k", second, None)  # the late finish of the expired holder drops nothing
    assert store.begin("acc", "k", "f").holder is None


class StoreGoneForTheReplay(SmsChannels):
    """An application whose event store goes away when a replay reads where the log stands
    (after the first connect was recorded in full)."""

    gone = False

    def current_position(self) -> int:
        if self.gone:
            raise OperationalError("the database went away")
        return super().current_position()


def test_a_store_failure_while_answering_a_replay_names_the_recorded_connection() -> None:
    app = StoreGoneForTheReplay(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    first = app.connect(command())
    app.gone = True
    with pytest.raises(RecordedRequestUnavailableError) as caught:
        app.connect(command())  # same key: the recorded connection, not a bare 503
    assert caught.value.connection_id == first.connection.id


class OutcomeUnrecorded(SmsChannels):
    """An application whose event store goes away as the provider's outcome is recorded
    (after the purchase)."""

    def _record_outcome(self, *args: Any, **kwargs: Any) -> Any:
        raise OperationalError("the database went away")


def test_an_outcome_that_cannot_be_recorded_is_logged_with_the_connection_it_names() -> None:
    app = OutcomeUnrecorded(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with capture_logs() as logs, pytest.raises(RecordedRequestUnavailableError) as caught:
        app.connect(command())
    connection_id = str(caught.value.connection_id)
    assert {
        "event": "provisioning_unrecorded", "connection_id": connection_id,
        "log_level": "warning",
    } in logs  # fmt: skip


class ClaimAlwaysTaken(SmsChannels):
    """An application whose every save of a connect loses to a concurrent writer."""

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        raise RecordConflictError("another writer saved first")


def test_a_connect_that_keeps_losing_its_save_says_the_number_is_taken() -> None:
    app = ClaimAlwaysTaken(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with pytest.raises(NumberAlreadyConnectedError):
        app.connect(command())
