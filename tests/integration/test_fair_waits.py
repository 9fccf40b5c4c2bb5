"""Read-your-writes waits (``?waitFor=``) are fair and never miss their wake-up: a waiter
whose target the projection passed while it was being registered returns at once, and a
flood of one account's far-future waits does not delay another account's wait. Real
PostgreSQL, real projector."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Iterator

import pytest

from api.query_pool import ReadModels
from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from projections.channels_table import ChannelsTableProjection
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_us_number, wait_for
from workers.projector import ProjectorWorker

PROJECTION = "channels_table"


@pytest.fixture
def url(isolated_database_url: str) -> str:
    return isolated_database_url


@pytest.fixture
def app(url: str) -> Iterator[SmsChannels]:
    application = build_application(Settings(database_url=url), SandboxProvider())
    yield application
    application.close()


def connect(app: SmsChannels, account: str) -> int:
    """A connect of ``account``: the position its answer carries."""
    command = ConnectNumber(account, "ws", "agent_1", "new", "US", None, unique_us_number(), "u")
    return app.connect(command).position


def test_a_waiter_whose_target_passed_while_it_registered_returns_at_once(
    app: SmsChannels, url: str
) -> None:
    position = connect(app, "acc_race")
    read_models = ReadModels(url, events_table="smschannels_events", pool_size=2, wait_seconds=5.0)
    worker = ProjectorWorker(app, ChannelsTableProjection(), url)
    calls = []

    def projection_passes_the_target() -> None:
        # Between the wait's first look (not there yet) and its registration, the
        # projection applies the position and the listener learns it: the NOTIFY that
        # would have woken the waiter is gone before the waiter exists.
        calls.append(1)
        worker.catch_up()
        wait_for(lambda: read_models._position(PROJECTION) >= position, timeout=10)

    read_models.before_waiter_registered = projection_passes_the_target
    try:
        wait_for(read_models._listener.is_alive)

        async def timed() -> tuple[int, float]:
            started = time.perf_counter()
            lag = await read_models.wait_for(PROJECTION, position, "acc_race")
            return lag, time.perf_counter() - started

        assert read_models._position(PROJECTION) < position  # the wait does go to sleep
        lag, seconds = asyncio.run(timed())
    finally:
        worker.close()
        read_models.close()
    assert calls == [1]
    assert lag == 0
    assert seconds < 1.0  # not the 5 s bound


@pytest.fixture
def projection_running(app: SmsChannels, url: str) -> Iterator[None]:
    stop = threading.Event()
    worker = ProjectorWorker(app, ChannelsTableProjection(), url)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)
    worker.close()


FLOOD = 150  # concurrent far-future waits of account A: over seven times its cap
ROUNDS = 20


async def flood_and_measure(read_models: ReadModels, app: SmsChannels) -> tuple[list[float], int]:
    """Account A keeps FLOOD far-future waits in flight (each one asked again 10 ms after it
    is answered: a flood, not a busy loop of the test's own event loop); meanwhile account
    B writes and waits for its write to be read, ROUNDS times. B's wait latencies, and how
    many waits A made."""
    stop = asyncio.Event()
    made = 0

    async def far_future() -> None:
        nonlocal made
        while not stop.is_set():
            await read_models.wait_for(PROJECTION, 999_999_999_999, "acc_flood")
            made += 1
            await asyncio.sleep(0.01)  # a request every 10 ms per task: 15 000 a second

    tasks = [asyncio.create_task(far_future()) for _ in range(FLOOD)]
    await asyncio.sleep(1.0)  # the flood is in full swing
    latencies = []
    for _ in range(ROUNDS):
        position = await asyncio.to_thread(connect, app, "acc_reader")
        started = time.perf_counter()
        lag = await read_models.wait_for(PROJECTION, position, "acc_reader")
        latencies.append(time.perf_counter() - started)
        assert lag == 0
    stop.set()
    await asyncio.gather(*tasks)
    return latencies, made


@pytest.mark.usefixtures("projection_running")
def test_one_accounts_far_future_flood_does_not_delay_another_accounts_wait(
    app: SmsChannels, url: str
) -> None:
    read_models = ReadModels(url, events_table="smschannels_events", pool_size=5, wait_seconds=2.0)
    try:
        wait_for(read_models._listener.is_alive)
        latencies, flood_waits = asyncio.run(flood_and_measure(read_models, app))
    finally:
        read_models.close()
    median, worst = statistics.median(latencies), max(latencies)
    print(  # the figures the report quotes
        f"B's waitFor under A's flood ({flood_waits} far-future waits):"
        f" p50 {median * 1000:.0f} ms, max {worst * 1000:.0f} ms"
    )
    assert flood_waits > FLOOD  # the flood ran the whole time
    assert median < 0.3
    assert worst < 1.0  # half the 2 s bound that a missed wake-up would take
