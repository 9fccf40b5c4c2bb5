"""The sandbox's PostgreSQL ledger: one account shared by every process and kept across
restarts; concurrent buyers in different processes still make one winner. And concurrent
deliveries of one webhook event apply it once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from domain.errors import DomainError
from domain.providers import (
    NumberLost,
    NumberUnavailableError,
    ProviderEvent,
    ProviderUnavailableError,
)
from domain.service.commands import ConnectNumber, ProviderEventResult
from providers.sandbox import PostgresLedger, SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account, unique_us_number

REF = "5b0c1a8e-2f57-4f0f-9d55-8a1f2f1e0c11"


@pytest.fixture
def sandboxes(database_url: str) -> Iterator[Callable[[], SandboxProvider]]:
    """Makes sandboxes on the session database, each with its own pool (like processes)."""
    made: list[SandboxProvider] = []

    def make() -> SandboxProvider:
        made.append(SandboxProvider(PostgresLedger(database_url, max_size=2)))
        return made[-1]

    yield make
    for sandbox in made:
        sandbox.close()


def race(count: int, action: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run(index: int) -> None:
        barrier.wait()
        outcomes.append(action(index))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == count  # every racer finished with an outcome: none died
    return outcomes


def test_buyers_in_ten_processes_make_exactly_one_winner(
    sandboxes: Callable[[], SandboxProvider],
) -> None:
    number = unique_us_number()
    buyers = [sandboxes() for _ in range(10)]

    def buy(index: int) -> str:
        try:
            buyers[index].purchase("US", number, reference=f"buyer-{index}")
        except NumberUnavailableError:
            return "unavailable"
        return "bought"

    assert sorted(race(10, buy)) == ["bought"] + ["unavailable"] * 9


def test_the_account_survives_a_restart(sandboxes: Callable[[], SandboxProvider]) -> None:
    number = unique_us_number()
    bought = sandboxes().purchase("US", number, reference=REF)
    restarted = sandboxes()
    held = restarted.holding(number)
    assert held is not None
    assert (held.ref, held.reference) == (bought.ref, REF)
    with pytest.raises(NumberUnavailableError):
        restarted.purchase("US", number, reference=REF)


def test_a_number_bought_in_one_process_is_not_offered_in_another(
    sandboxes: Callable[[], SandboxProvider],
) -> None:
    offered = sandboxes().search("US", "917", None, 100)
    first = next(n.phone_number for n in offered if sandboxes().holding(n.phone_number) is None)
    sandboxes().purchase("US", first, reference=REF)
    assert first not in [n.phone_number for n in sandboxes().search("US", "917", None, 100)]


def test_concurrent_hosting_orders_for_one_number_are_one_order(
    sandboxes: Callable[[], SandboxProvider],
) -> None:
    number = unique_us_number()
    hosts = [sandboxes() for _ in range(5)]
    refs = race(5, lambda i: hosts[i].start_hosting("US", number, reference=REF).ref)
    assert len(set(refs)) == 1


def test_a_hosting_order_verified_in_one_process_is_completed_in_another(
    sandboxes: Callable[[], SandboxProvider],
) -> None:
    number = unique_us_number()
    order = sandboxes().start_hosting("US", number, reference=REF)
    sandboxes().verify_hosting(number)
    status = sandboxes().hosting_status(order.ref)
    assert status.state == "completed"
    assert sandboxes().holding(number) is not None


def test_concurrent_deliveries_of_one_event_apply_it_once(database_url: str) -> None:
    account, number = unique_account(), unique_us_number()
    provider = SandboxProvider()
    apps = [build_application(Settings(database_url=database_url), provider) for _ in range(6)]
    connected = (
        apps[0]
        .connect(ConnectNumber(account, "ws", "agent", "new", "US", None, number, "u"))
        .connection
    )
    event = ProviderEvent("sandbox", f"evt_{number}", NumberLost(number, None, "reclaimed"))
    results: list[ProviderEventResult] = []

    def deliver(index: int) -> str:
        try:
            results.append(apps[index].record_provider_event(event))
        except DomainError as error:
            return error.code
        return "ok"

    outcomes = race(6, deliver)
    for app in apps:
        app.close()
    assert outcomes == ["ok"] * 6
    assert sorted(r.outcome for r in results) == ["applied"] + ["duplicate"] * 5
    reader = build_application(Settings(database_url=database_url), provider)
    assert reader.get_connection(account, connected.id).version == connected.version + 1
    reader.close()


INBOUND = "https://ingest.example.test/sms/inbound"


def test_numbers_bought_or_hosted_are_pointed_at_the_inbound_url_and_the_cli_shows_it(
    database_url: str,
) -> None:
    sandbox = SandboxProvider(PostgresLedger(database_url, max_size=1), inbound_url=INBOUND)
    bought, hosted, elsewhere = unique_us_number(), unique_us_number(), unique_us_number()
    try:
        sandbox.purchase("US", bought, reference=REF)
        sandbox.start_hosting("US", hosted, reference=REF)
        sandbox.verify_hosting(hosted)
        SandboxProvider(PostgresLedger(database_url, max_size=1)).purchase(
            "US", elsewhere, reference=REF
        )
        listed = subprocess.run(
            [sys.executable, "-m", "sms_channels.cli", "sandbox", "numbers"],
            env={**os.environ, "DATABASE_URL": database_url},
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()  # fmt: skip
    finally:
        sandbox.close()
    by_number = {line.split()[0]: line.split()[2] for line in listed}
    assert by_number[bought] == by_number[hosted] == INBOUND
    assert by_number[elsewhere] == "-"


def test_a_fault_armed_by_one_process_fails_the_purchase_of_another_once(
    sandboxes: Callable[[], SandboxProvider],
) -> None:
    # `sms-channels sandbox fail-next purchase` arms it; the API's sandbox meets it.
    cli, api = sandboxes(), sandboxes()
    first, second = unique_us_number(), unique_us_number()
    cli.fail_next("purchase", 1)
    with pytest.raises(ProviderUnavailableError):
        api.purchase("US", first, reference=REF)
    held = api.holding(first)
    assert held is not None
    assert held.reference == REF  # bought: the answer was what got lost
    assert api.purchase("US", second, reference="another").ref.startswith("PN")
    cli.fail_next("purchase", 0)
