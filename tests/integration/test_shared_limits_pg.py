"""Rate limits and export slots shared by API replicas through PostgreSQL: two (or three)
``ReadModels`` on one database stand for two (or three) API processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.exports import ExportLeases, ExportSlots
from api.problems import ProblemError
from api.query_pool import ReadModels
from api.rate_limits import SharedTokenBucket
from tests.support.common import unique_account


def replica(database_url: str) -> ReadModels:
    return ReadModels(
        database_url, events_table="smschannels_events", pool_size=2, wait_seconds=1.0
    )


@pytest.fixture
def replicas(pg_app: object, database_url: str) -> Iterator[list[ReadModels]]:
    models = [replica(database_url) for _ in range(3)]
    yield models
    for read_models in models:
        read_models.close()


def granted(bucket: SharedTokenBucket, key: str, times: int) -> int:
    """How many of ``times`` takes were granted (every other one refused with 429)."""
    count, statuses = 0, set()
    for _ in range(times):
        try:
            bucket.take(key)
            count += 1
        except ProblemError as refusal:
            statuses.add(refusal.status)
    assert statuses <= {429}
    return count


def test_three_replicas_hammering_one_account_get_the_limit_not_three_times_it(
    replicas: list[ReadModels],
) -> None:
    account = unique_account()
    buckets = [SharedTokenBucket("connect", 12, r, bucket="connect") for r in replicas]
    counts = [0] * 6
    start = threading.Barrier(6)

    def hammer(slot: int) -> None:
        start.wait()
        counts[slot] = granted(buckets[slot % 3], account, 10)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 60 attempts in well under a second: the burst (12) and at most the refill of that
    # second (0.2 tokens) is granted, whichever replica asked.
    assert sum(counts) == 12


def test_a_refused_take_names_when_to_retry_and_spends_nothing(
    replicas: list[ReadModels],
) -> None:
    account, t0 = unique_account(), datetime.now(UTC)
    now = [t0]
    first, second = (
        SharedTokenBucket("search", 6, r, bucket="search", clock=lambda: now[0])
        for r in replicas[:2]
    )
    assert granted(first, account, 6) == 6
    with pytest.raises(ProblemError) as refused:
        second.take(account)
    assert refused.value.headers["Retry-After"] == "10"  # one token per 10 s
    now[0] = t0 + timedelta(seconds=10)
    assert granted(second, account, 3) == 1  # the refusals did not spend the refill
    now[0] = t0 + timedelta(seconds=600)
    assert granted(first, account, 10) == 6  # refilled to the burst, never beyond


def test_accounts_and_buckets_are_apart(replicas: list[ReadModels]) -> None:
    a, b = unique_account(), unique_account()
    search = SharedTokenBucket("search", 2, replicas[0], bucket="search")
    connect = SharedTokenBucket("connect", 2, replicas[1], bucket="connect")
    assert granted(search, a, 5) == 2
    assert granted(search, b, 5) == 2
    assert granted(connect, a, 5) == 2


def test_zero_turns_the_shared_limit_off(replicas: list[ReadModels]) -> None:
    bucket = SharedTokenBucket("search", 0, replicas[0], bucket="search")
    assert granted(bucket, unique_account(), 50) == 50


def test_an_accounts_export_slots_hold_across_replicas_and_come_back(
    replicas: list[ReadModels],
) -> None:
    account = unique_account()
    slots = [ExportSlots(2, 8, ExportLeases(r)) for r in replicas]
    held = [slots[0].take(account), slots[1].take(account)]
    with pytest.raises(ProblemError) as refused:
        slots[2].take(account)
    assert (refused.value.status, refused.value.code) == (429, "too_many_exports")
    assert slots[2].take(unique_account()) is not None  # another account is not affected
    slots[1].release(account, held[1])
    assert slots[2].take(account) is not None


def test_a_killed_replicas_export_lease_expires(replicas: list[ReadModels]) -> None:
    account = unique_account()
    short = ExportSlots(1, 8, ExportLeases(replicas[0], lease_seconds=0.3))
    assert short.take(account) is not None  # never released: its replica "died"
    other = ExportSlots(1, 8, ExportLeases(replicas[1]))
    with pytest.raises(ProblemError):
        other.take(account)
    threading.Event().wait(0.4)  # the lease's length: the behaviour under test is time
    assert other.take(account) is not None


def test_a_running_exports_renewed_lease_outlives_its_first_term(
    replicas: list[ReadModels],
) -> None:
    account = unique_account()
    running = ExportSlots(1, 8, ExportLeases(replicas[0], lease_seconds=0.5))
    holder = running.take(account)
    other = ExportSlots(1, 8, ExportLeases(replicas[1]))
    threading.Event().wait(0.3)
    running.renew(holder)  # as ExportResponse does every third of the lease while streaming
    threading.Event().wait(0.3)  # past the first term (0.6 s > 0.5 s): held by the renewal
    with pytest.raises(ProblemError):
        other.take(account)
    running.release(account, holder)
    assert other.take(account) is not None


def test_a_flood_from_one_key_is_refused_in_memory_after_the_rate(
    replicas: list[ReadModels],
) -> None:
    """Past its rate, one key's requests never reach the database (the control pool stays
    free for readiness and idempotency); other keys still get their tokens there."""
    read_models = replicas[0]
    bucket = SharedTokenBucket("webhooks", 5, read_models, bucket="webhooks", subject="address")
    statements = 0
    cursor = read_models.control_cursor

    def counting() -> Any:
        nonlocal statements
        statements += 1
        return cursor()

    read_models.control_cursor = counting  # type: ignore[method-assign]
    flooder, other = unique_account(), unique_account()
    assert granted(bucket, flooder, 200) == 5
    assert statements == 5
    assert granted(bucket, other, 1) == 1
    assert statements == 6


def test_a_token_the_shared_bucket_refuses_is_given_back_to_the_local_one(
    replicas: list[ReadModels],
) -> None:
    """Another replica emptied the key's shared bucket: this replica's refused takes do not
    drain its local bucket, so it asks the shared one again once that refills."""
    now = datetime(2030, 1, 1, tzinfo=UTC)

    def clock() -> datetime:
        return now

    first, second = (
        SharedTokenBucket("connect", 3, r, bucket="connect", clock=clock) for r in replicas[:2]
    )
    account = unique_account()
    assert granted(first, account, 3) == 3
    assert granted(second, account, 3) == 0  # refused by the shared bucket
    now += timedelta(seconds=20)  # one token refilled (3 a minute)
    assert granted(second, account, 1) == 1
