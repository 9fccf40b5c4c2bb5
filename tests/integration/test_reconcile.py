"""The reconcile worker on PostgreSQL with the sandbox's PostgreSQL ledger: crashes between
buy and record, hosting orders and reclaims the webhooks never reported, orphans left by a
failed release; idempotent with the webhooks.

Each test has a database of its own (the worker reads the whole event log). A "crash" is a
SimulatedCrash raised inside the provider call: the crashed application is then closed and
never used again, and the worker runs as another process would, with its own application
and its own provider on the same database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg
import pytest

from domain.application import SmsChannels
from domain.ids import connection_id_for, number_claim_id
from domain.number_claims import NumberClaim
from domain.providers import HostingCompleted, NumberLost, ProviderEvent
from domain.service.commands import ConnectNumber
from providers.sandbox import PostgresLedger, SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account, unique_us_number
from tests.support.fakes import CrashingProvider, SimulatedCrash
from workers.reconcile import Reconciler

BOUND = timedelta(minutes=5)


class World:
    """One isolated database: applications and providers made on it, closed at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.settings = Settings(database_url=url)
        self._closing: list[SmsChannels | SandboxProvider] = []

    def application(self, provider: SandboxProvider | None = None) -> SmsChannels:
        app = build_application(self.settings, provider or self.sandbox())
        self._closing.append(app)
        return app

    def sandbox(self) -> SandboxProvider:
        """A sandbox on the database's ledger (another process's view of the account)."""
        sandbox = SandboxProvider(PostgresLedger(self.url, max_size=2))
        self._closing.append(sandbox)
        return sandbox

    def crashing(self, crash: str) -> CrashingProvider:
        ledger = PostgresLedger(self.url, max_size=2)
        provider = CrashingProvider(crash, ledger=ledger)  # type: ignore[arg-type]
        self._closing.append(provider)
        return provider

    def worker(self, minutes_later: float = 10) -> tuple[Reconciler, SandboxProvider]:
        provider = self.sandbox()
        now = datetime.now(UTC) + timedelta(minutes=minutes_later)
        return Reconciler(
            self.application(provider), pending_after=BOUND, clock=lambda: now
        ), provider

    def connections_of(self, number: str) -> list[UUID]:
        with psycopg.connect(self.url) as connection:
            rows = connection.execute(
                "SELECT originator_id FROM smschannels_events WHERE topic = %s",
                ("domain.sms_connections:SmsConnection.NumberRequested",),
            ).fetchall()
        app = self.application()
        return [r[0] for r in rows if app.repository.get(r[0]).phone_number == number]

    def close(self) -> None:
        for app in self._closing:
            app.close()


@pytest.fixture
def world(isolated_database_url: str) -> Iterator[World]:
    built = World(isolated_database_url)
    yield built
    built.close()


def connect(
    app: SmsChannels, account: str, number: str, mode: str = "new", key: str = "wizard-1"
) -> ConnectNumber:
    command = ConnectNumber(
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
    app.connect(command)
    return command


def crash_while_connecting(world: World, crash: str) -> tuple[str, UUID, str]:
    account, number = unique_account(), unique_us_number()
    crashed = world.application(world.crashing(crash))
    with pytest.raises(SimulatedCrash):
        connect(crashed, account, number)
    crashed.close()  # the process is gone
    return account, connection_id_for(account, "ws", "wizard-1"), number


def claim_holder(app: SmsChannels, number: str) -> UUID | None:
    claim: NumberClaim = app.repository.get(number_claim_id(number))
    return claim.holder


def test_a_crash_after_the_purchase_ends_in_one_connection_that_holds_the_number(
    world: World,
) -> None:
    account, connection_id, number = crash_while_connecting(world, "after")
    worker, provider = world.worker()
    report = worker.run_once()
    connection = worker.application.get_connection(account, connection_id)
    held = provider.holding(number)
    assert (report.connected, connection.status) == (1, "connected")
    assert held is not None
    assert connection.provider_ref == held.ref
    assert world.connections_of(number) == [connection_id]
    assert claim_holder(worker.application, number) == connection_id


def test_a_crash_before_the_purchase_ends_in_one_failure_and_nothing_held(world: World) -> None:
    account, connection_id, number = crash_while_connecting(world, "before")
    worker, provider = world.worker()
    report = worker.run_once()
    connection = worker.application.get_connection(account, connection_id)
    assert (report.failed, connection.status, connection.failure_code) == (
        1,
        "failed",
        "provisioning_interrupted",
    )
    assert provider.holding(number) is None
    assert world.connections_of(number) == [connection_id]
    assert claim_holder(worker.application, number) is None


def test_a_request_still_inside_its_bound_is_left_alone(world: World) -> None:
    account, connection_id, _ = crash_while_connecting(world, "after")
    worker, _ = world.worker(minutes_later=1)
    worker.run_once()
    assert worker.application.get_connection(account, connection_id).status == "requested"


def test_a_second_pass_changes_nothing(world: World) -> None:
    crash_while_connecting(world, "after")
    crash_while_connecting(world, "before")
    worker, _ = world.worker()
    worker.run_once()
    position = worker.application.current_position()
    report = worker.run_once()
    assert (report.connected, report.failed, report.released, report.reclaimed) == (0, 0, 0, 0)
    assert worker.application.current_position() == position


def test_a_restarted_worker_finds_the_same_state_from_the_log(world: World) -> None:
    account, connection_id, _ = crash_while_connecting(world, "after")
    first, _ = world.worker()
    first.run_once()
    restarted, _ = world.worker()
    position = restarted.application.current_position()
    restarted.run_once()
    assert restarted.application.current_position() == position
    assert restarted.application.get_connection(account, connection_id).status == "connected"


def test_a_hosting_order_finished_without_a_webhook_is_connected_and_the_late_webhook_ignored(
    world: World,
) -> None:
    account, number = unique_account(), unique_us_number()
    api = world.application()
    connect(api, account, number, mode="byon")
    webhook = world.sandbox().verify_hosting(number)  # the provider finishes; no delivery
    worker, _ = world.worker(minutes_later=0)
    assert worker.run_once().connected == 1
    connection_id = connection_id_for(account, "ws", "wizard-1")
    version = api.get_connection(account, connection_id).version
    data = webhook.data
    fact = HostingCompleted(number, str(data["orderRef"]), str(data["numberRef"]))
    late = api.record_provider_event(ProviderEvent("sandbox", webhook.id, fact))
    assert (late.outcome, api.get_connection(account, connection_id).version) == (
        "ignored",
        version,
    )


def test_a_number_taken_back_without_a_webhook_is_reclaimed_and_freed(world: World) -> None:
    account, number = unique_account(), unique_us_number()
    api = world.application()
    connect(api, account, number)
    world.sandbox().take_back(number, "reclaimed")
    worker, _ = world.worker(minutes_later=0)
    assert worker.run_once().reclaimed == 1
    connection = api.get_connection(account, connection_id_for(account, "ws", "wizard-1"))
    assert (connection.status, connection.active) == ("reclaimed", False)
    assert claim_holder(api, number) is None


def test_a_reclaim_webhook_then_the_poll_change_the_connection_once(world: World) -> None:
    account, number = unique_account(), unique_us_number()
    api = world.application()
    connect(api, account, number)
    connection_id = connection_id_for(account, "ws", "wizard-1")
    webhook = world.sandbox().take_back(number, "released")
    ref = str(webhook.data["numberRef"])
    api.record_provider_event(
        ProviderEvent("sandbox", webhook.id, NumberLost(number, ref, "released"))
    )
    version = api.get_connection(account, connection_id).version
    worker, _ = world.worker(minutes_later=0)
    assert worker.run_once().reclaimed == 0
    assert api.get_connection(account, connection_id).version == version


def test_a_number_left_held_by_a_failed_release_is_released(world: World) -> None:
    account, number = unique_account(), unique_us_number()
    provider = world.sandbox()
    api = world.application(provider)
    connect(api, account, number)
    provider.failures.outage_retry_after = 5  # the release after the delete fails
    api.delete(account, connection_id_for(account, "ws", "wizard-1"), by="u")
    worker, sandbox = world.worker(minutes_later=0)
    assert sandbox.holding(number) is not None
    assert worker.run_once().released == 1
    assert sandbox.holding(number) is None


def test_numbers_not_bought_by_this_service_are_left_alone(world: World) -> None:
    number = unique_us_number()
    world.sandbox().purchase("US", number, reference="bought-by-someone-else")
    worker, sandbox = world.worker(minutes_later=0)
    assert worker.run_once().released == 0
    assert sandbox.holding(number) is not None


def test_a_provider_outage_ends_the_pass_and_changes_nothing(world: World) -> None:
    crash_while_connecting(world, "after")
    worker, provider = world.worker()
    provider.failures.outage_retry_after = 30
    position = worker.application.current_position()
    report = worker.run_once()
    assert report.provider_unavailable is True
    assert worker.application.current_position() == position
