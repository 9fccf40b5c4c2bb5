"""Per-account rate limits on number search and connect (they cost money at the provider):
a token bucket per account, 429 problem+json with Retry-After once it is empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.problems import ProblemError
from api.rate_limits import TokenBucket
from tests.e2e.provider_support import Service, running_service
from tests.support.common import auth, unique_account, unique_us_number


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused_after(bucket: TokenBucket, key: str) -> int:
    """How many takes succeed before the first refusal."""
    taken = 0
    while True:
        try:
            bucket.take(key)
        except ProblemError as refusal:
            status = refusal.status
            break
        taken += 1
    assert status == 429
    return taken


def test_a_bucket_allows_its_burst_then_refuses_with_retry_after() -> None:
    bucket = TokenBucket("search", per_minute=6, clock=Clock())
    assert refused_after(bucket, "acc") == 6
    with pytest.raises(ProblemError) as caught:
        bucket.take("acc")
    assert caught.value.headers["Retry-After"] == "10"  # one token per 10 s


def test_a_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket("search", per_minute=6, clock=clock)
    refused_after(bucket, "acc")
    clock.now += 20
    assert refused_after(bucket, "acc") == 2


def test_accounts_have_separate_buckets() -> None:
    bucket = TokenBucket("search", per_minute=2, clock=Clock())
    refused_after(bucket, "a")
    assert refused_after(bucket, "b") == 2


def test_zero_turns_the_limit_off() -> None:
    bucket = TokenBucket("search", per_minute=0, clock=Clock())
    for _ in range(1000):
        bucket.take("acc")


def test_idle_full_buckets_are_evicted_so_memory_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("api.rate_limits.MAX_BUCKETS", 10)
    clock = Clock()
    bucket = TokenBucket("search", per_minute=60, clock=clock)
    for n in range(10):
        bucket.take(f"acc{n}")
    clock.now += 61
    bucket.take("new")
    assert len(bucket._buckets) == 1


@pytest.fixture(scope="module")
def limited(database_url: str) -> Iterator[Service]:
    with running_service(
        database_url,
        rate_limit_search_per_minute=3,
        rate_limit_connect_per_minute=2,
        rate_limit_settings_per_minute=3,
        rate_limit_compliance_per_minute=2,
    ) as running:
        yield running


def test_the_fourth_search_in_a_minute_is_429_with_retry_after(limited: Service) -> None:
    account = unique_account()
    params = {"countryCode": "US", "areaCode": "415"}
    statuses = [
        limited.http.get("/channels/sms/numbers", params=params, headers=auth(account)).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    refused = limited.http.get("/channels/sms/numbers", params=params, headers=auth(account))
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    # Another account is not affected.
    other = limited.http.get("/channels/sms/numbers", params=params, headers=auth(unique_account()))
    assert other.status_code == 200


def test_the_third_connect_in_a_minute_is_429_and_records_nothing(limited: Service) -> None:
    account = unique_account()
    assert limited.connect(account, unique_us_number()).status_code == 201
    assert limited.connect(account, unique_us_number()).status_code == 201
    number = unique_us_number()
    refused = limited.connect(account, number)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # The number was not claimed: another account connects it.
    assert limited.connect(unique_account(), number).status_code == 201


def test_without_a_token_the_limit_is_not_spent(limited: Service) -> None:
    # Anonymous requests are refused (401) before the bucket, so nobody can drain
    # another account's budget without its token.
    for _ in range(5):
        response = limited.http.get("/channels/sms/numbers", params={"countryCode": "US"})
        assert response.status_code == 401


def test_the_fourth_settings_change_in_a_minute_is_429_and_changes_nothing(
    limited: Service,
) -> None:
    account = unique_account()
    created = limited.connect(account, unique_us_number())
    location = created.headers["Location"]
    statuses = []
    for active in (False, True, False, True):
        changed = limited.http.patch(location, json={"active": active}, headers=auth(account))
        statuses.append(changed.status_code)
    assert statuses == [200, 200, 200, 429]
    assert changed.headers["content-type"] == "application/problem+json"
    assert changed.json()["code"] == "rate_limited"
    assert int(changed.headers["Retry-After"]) >= 1
    assert limited.http.get(location, headers=auth(account)).json()["active"] is False
    # Another account's settings are not affected.
    other = unique_account()
    theirs = limited.connect(other, unique_us_number()).headers["Location"]
    changed = limited.http.patch(theirs, json={"active": False}, headers=auth(other))
    assert changed.status_code == 200


def test_the_third_compliance_save_in_a_minute_is_429(limited: Service) -> None:
    account = unique_account()
    location = limited.connect(account, unique_us_number()).headers["Location"]
    statuses = []
    for name in ("Acme", "Acme Dental", "Acme Dental Care"):
        version = limited.http.get(location, headers=auth(account)).headers["ETag"]
        saved = limited.http.put(
            location + "/compliance",
            json={"brand": {"displayName": name}},
            headers={**auth(account), "If-Match": version},
        )
        statuses.append(saved.status_code)
    assert statuses == [200, 200, 429]
    assert saved.json()["code"] == "rate_limited"
    assert "Retry-After" in saved.headers
