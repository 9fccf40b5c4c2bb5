"""The Twilio adapter against a fake Twilio on 127.0.0.1 speaking the documented shapes:
request mapping, error codes, retries and backoff, the outage memory, hosting orders."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from domain.providers import (
    BadAreaCodeError,
    ComplianceRestrictedError,
    NumberUnavailableError,
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from providers.twilio import TwilioConfig, TwilioProvider
from tests.support.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilio,
    Scripted,
    available,
    fake_twilio,
    twilio_error,
)

NUMBER = "+18089251571"
REFERENCE = "5b0c1a8e-2f57-4f0f-9d55-8a1f2f1e0c11"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with fake_twilio() as server:
        server.inventory["US"] = [
            available(NUMBER),
            available("+18089251572"),
            available("+14155550123", "San Francisco", "CA"),
        ]
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_provider(
    fake: FakeTwilio,
    sleeps: list[float],
    clock: Clock,
    *,
    timeout: float = 2.0,
    hosting: bool = True,
) -> TwilioProvider:
    config = TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        base_url=fake.url,
        numbers_base_url=fake.url,
        timeout_seconds=timeout,
        max_attempts=3,
        backoff_seconds=0.25,
        max_backoff_seconds=4.0,
        hosting_address_sid="AD" + "1" * 32 if hosting else None,
        hosting_email="owner@example.com" if hosting else None,
        hosting_contact_phone="+12344444444" if hosting else None,
    )
    return TwilioProvider(config, sleep=sleeps.append, clock=clock, jitter=lambda: 1.0)


@pytest.fixture
def twilio(fake: FakeTwilio, sleeps: list[float], clock: Clock) -> Iterator[TwilioProvider]:
    provider = make_provider(fake, sleeps, clock)
    yield provider
    provider.close()


# --- search ------------------------------------------------------------------------------


def test_search_sends_the_documented_parameters_with_basic_auth(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    twilio.search("US", "808", "925", 2)
    [request] = fake.requests_to("GET", "/AvailablePhoneNumbers/US/Local.json")
    assert request.query == {
        "AreaCode": ["808"],
        "Contains": ["925"],
        "SmsEnabled": ["true"],
        "PageSize": ["2"],
    }
    assert request.authorization is not None
    assert request.authorization.startswith("Basic ")


def test_search_reads_the_documented_response_shape(twilio: TwilioProvider) -> None:
    [first, *_] = twilio.search("US", "808", None, 5)
    assert (first.phone_number, first.country, first.area_code) == (NUMBER, "US", "808")
    assert (first.locality, first.region) == ("Hilo", "HI")
    assert first.capabilities == {"sms": True, "mms": True, "voice": True}


def test_search_with_no_stock_is_an_empty_list(twilio: TwilioProvider) -> None:
    assert twilio.search("US", "212", None, 5) == []


def test_search_in_a_country_twilio_does_not_serve_is_an_empty_list(
    twilio: TwilioProvider,
) -> None:
    assert twilio.search("AQ", None, None, 5) == []


def test_search_does_not_return_more_than_the_limit(twilio: TwilioProvider) -> None:
    assert len(twilio.search("US", None, None, 2)) == 2


# --- purchase and the mapped error codes ----------------------------------------------


def test_purchase_posts_the_number_and_keeps_the_reference_in_the_friendly_name(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    bought = twilio.purchase("US", NUMBER, reference=REFERENCE)
    [request] = fake.requests_to("POST", "/IncomingPhoneNumbers.json")
    assert request.form == {"PhoneNumber": [NUMBER], "FriendlyName": [f"sms-channels:{REFERENCE}"]}
    assert bought.provider == "twilio"
    assert bought.ref.startswith("PN")
    assert bought.ref in fake.numbers


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (21422, NumberUnavailableError),
        (21451, BadAreaCodeError),
        (21457, BadAreaCodeError),
        (21631, ComplianceRestrictedError),
        (21649, ComplianceRestrictedError),
    ],
)
def test_each_mapped_twilio_error_code_becomes_its_domain_error(
    twilio: TwilioProvider, fake: FakeTwilio, code: int, error: type[ProviderError]
) -> None:
    fake.answer_next(Scripted(400, twilio_error(code)))
    with pytest.raises(error):
        twilio.purchase("US", NUMBER, reference=REFERENCE)


@pytest.mark.parametrize(("code", "needs"), [(21631, "address"), (21649, "bundle")])
def test_a_compliance_restriction_says_what_is_missing(
    twilio: TwilioProvider, fake: FakeTwilio, code: int, needs: str
) -> None:
    fake.answer_next(Scripted(400, twilio_error(code)))
    with pytest.raises(ComplianceRestrictedError) as raised:
        twilio.purchase("US", NUMBER, reference=REFERENCE)
    assert needs in raised.value.reason
    assert str(code) in raised.value.reason


def test_buying_a_number_already_sold_is_unavailable(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    fake.hold(NUMBER)
    with pytest.raises(NumberUnavailableError):
        twilio.purchase("US", NUMBER, reference=REFERENCE)


def test_an_unmapped_refusal_is_provider_rejected_with_the_twilio_code(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    fake.answer_next(Scripted(401, twilio_error(20003, 401)))
    with pytest.raises(ProviderRejectedError) as raised:
        twilio.search("US", None, None, 5)
    assert raised.value.provider_code == "20003"


def test_wrong_credentials_are_refused_not_retried(
    fake: FakeTwilio, sleeps: list[float], clock: Clock
) -> None:
    config = TwilioConfig(account_sid=ACCOUNT_SID, auth_token="wrong", base_url=fake.url)
    provider = TwilioProvider(config, sleep=sleeps.append, clock=clock)
    with pytest.raises(ProviderRejectedError):
        provider.search("US", None, None, 5)
    assert (len(fake.requests), sleeps) == (1, [])
    provider.close()


# --- retries, backoff, outage -------------------------------------------------------------


def test_a_5xx_is_retried_with_exponential_backoff_then_succeeds(
    twilio: TwilioProvider, fake: FakeTwilio, sleeps: list[float]
) -> None:
    fake.answer_next(Scripted(500, twilio_error(20500, 500)), times=2)
    assert len(twilio.search("US", None, None, 5)) == 3
    assert sleeps == [0.25, 0.5]
    assert len(fake.requests) == 3


def test_a_429_waits_its_retry_after_then_succeeds(
    twilio: TwilioProvider, fake: FakeTwilio, sleeps: list[float]
) -> None:
    fake.answer_next(Scripted(429, twilio_error(20429, 429), {"Retry-After": "2"}))
    twilio.purchase("US", NUMBER, reference=REFERENCE)
    assert sleeps == [2]


def test_a_retry_after_too_long_to_wait_is_passed_to_the_caller(
    twilio: TwilioProvider, fake: FakeTwilio, sleeps: list[float]
) -> None:
    fake.answer_next(Scripted(503, None, {"Retry-After": "120"}))
    with pytest.raises(ProviderUnavailableError) as raised:
        twilio.search("US", None, None, 5)
    assert (raised.value.retry_after_seconds, sleeps) == (120, [])


def test_persistent_5xx_becomes_provider_unavailable_after_the_attempts(
    twilio: TwilioProvider, fake: FakeTwilio, sleeps: list[float]
) -> None:
    fake.answer_next(Scripted(503, twilio_error(20503, 503)), times=3)
    with pytest.raises(ProviderUnavailableError):
        twilio.search("US", None, None, 5)
    assert (len(fake.requests), len(sleeps)) == (3, 2)


def test_a_timeout_is_retried_then_provider_unavailable(
    fake: FakeTwilio, sleeps: list[float], clock: Clock
) -> None:
    provider = make_provider(fake, sleeps, clock, timeout=0.2)
    fake.answer_next(Scripted(200, hang=True), times=3)
    with pytest.raises(ProviderUnavailableError):
        provider.search("US", None, None, 5)
    assert len(fake.requests) == 3
    provider.close()


def test_a_purchase_is_retried_after_an_ambiguous_failure(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    # Safe: a number can be bought once, and the reference identifies our own purchase.
    fake.answer_next(Scripted(502, None, method="POST"))
    assert twilio.purchase("US", NUMBER, reference=REFERENCE).ref in fake.numbers
    assert len(fake.requests_to("POST", "/IncomingPhoneNumbers.json")) == 2


def test_creating_a_hosting_order_is_not_retried_after_an_ambiguous_failure(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    fake.answer_next(Scripted(500, None, method="POST", path_contains="/HostedNumber/Orders"))
    with pytest.raises(ProviderUnavailableError):
        twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    assert len(fake.requests_to("POST", "/HostedNumber/Orders")) == 1


def test_a_refused_connection_is_retried_then_provider_unavailable(
    sleeps: list[float], clock: Clock
) -> None:
    with fake_twilio() as gone:
        url = gone.url
    config = TwilioConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=url)
    provider = TwilioProvider(config, sleep=sleeps.append, clock=clock, jitter=lambda: 1.0)
    with pytest.raises(ProviderUnavailableError):
        provider.purchase("US", NUMBER, reference=REFERENCE)
    assert len(sleeps) == 2  # never sent: even a purchase is safe to retry
    provider.close()


def test_after_an_outage_the_adapter_reports_unavailable_until_retry_after(
    twilio: TwilioProvider, fake: FakeTwilio, clock: Clock
) -> None:
    fake.answer_next(Scripted(503, None, {"Retry-After": "30"}))
    with pytest.raises(ProviderUnavailableError):
        twilio.search("US", None, None, 5)
    requests_before = len(fake.requests)
    clock.now += 10
    with pytest.raises(ProviderUnavailableError) as raised:
        twilio.check_available()
    assert raised.value.retry_after_seconds == 20
    assert len(fake.requests) == requests_before  # no network call
    clock.now += 21
    twilio.check_available()


def test_a_success_clears_the_outage(
    twilio: TwilioProvider, fake: FakeTwilio, clock: Clock
) -> None:
    fake.answer_next(Scripted(503, None), times=3)
    with pytest.raises(ProviderUnavailableError):
        twilio.search("US", None, None, 5)
    clock.now += 60
    twilio.search("US", None, None, 5)
    twilio.check_available()


# --- release, status lookup, sweep --------------------------------------------------------


def test_release_deletes_the_number_and_is_idempotent(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    bought = twilio.purchase("US", NUMBER, reference=REFERENCE)
    twilio.release(bought.ref)
    twilio.release(bought.ref)  # 404 the second time: still a success
    assert bought.ref not in fake.numbers
    assert len(fake.requests_to("DELETE", f"/IncomingPhoneNumbers/{bought.ref}.json")) == 2


def test_holding_finds_the_number_and_its_reference(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    bought = twilio.purchase("US", NUMBER, reference=REFERENCE)
    held = twilio.holding(NUMBER)
    assert held is not None
    assert (held.ref, held.reference) == (bought.ref, REFERENCE)
    assert twilio.holding("+18089251572") is None


def test_a_number_bought_elsewhere_has_no_reference(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    fake.hold(NUMBER)
    held = twilio.holding(NUMBER)
    assert held is not None
    assert held.reference is None


def test_held_numbers_follows_every_page(twilio: TwilioProvider, fake: FakeTwilio) -> None:
    fake.page_size_cap = 2
    sids = {fake.hold(f"+1808925157{i}") for i in range(5)}
    assert {n.ref for n in twilio.held_numbers()} == sids
    assert len(fake.requests_to("GET", "/IncomingPhoneNumbers.json")) == 3


# --- bring your own number ----------------------------------------------------------------


def test_start_hosting_creates_an_order_with_the_documented_fields(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    order = twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    [request] = fake.requests_to("POST", "/v2/HostedNumber/Orders")
    assert {k: v[0] for k, v in request.form.items()} == {
        "PhoneNumber": NUMBER,
        "SmsCapability": "true",
        "FriendlyName": f"sms-channels:{REFERENCE}",
        "AddressSid": "AD" + "1" * 32,
        "Email": "owner@example.com",
        "ContactPhoneNumber": "+12344444444",
    }
    assert order.ref.startswith("HR")


def test_start_hosting_returns_the_open_order_instead_of_a_second_one(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    first = twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    again = twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    assert again.ref == first.ref
    assert len(fake.orders) == 1


def test_hosting_without_an_owner_on_file_is_a_compliance_restriction(
    fake: FakeTwilio, sleeps: list[float], clock: Clock
) -> None:
    provider = make_provider(fake, sleeps, clock, hosting=False)
    with pytest.raises(ComplianceRestrictedError):
        provider.start_hosting("US", NUMBER, reference=REFERENCE)
    provider.close()


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("received", "pending"),
        ("pending-verification", "pending"),
        ("carrier-processing", "pending"),
    ],
)
def test_an_unfinished_hosting_order_is_pending(
    twilio: TwilioProvider, fake: FakeTwilio, status: str, state: str
) -> None:
    order = twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    fake.orders[order.ref]["status"] = status
    assert twilio.hosting_status(order.ref).state == state


def test_a_completed_hosting_order_names_the_hosted_number(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    order = twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    fake.orders[order.ref].update(status="completed", incoming_phone_number_sid="PN" + "2" * 32)
    status = twilio.hosting_status(order.ref)
    assert (status.state, status.number_ref) == ("completed", "PN" + "2" * 32)


def test_a_failed_hosting_order_carries_twilios_reason(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    order = twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    fake.orders[order.ref].update(status="failed", failure_reason="LOA was rejected")
    status = twilio.hosting_status(order.ref)
    assert (status.state, status.reason) == ("failed", "LOA was rejected")


def test_releasing_a_hosting_order_deletes_the_order(
    twilio: TwilioProvider, fake: FakeTwilio
) -> None:
    order = twilio.start_hosting("US", NUMBER, reference=REFERENCE)
    twilio.release(order.ref)
    assert order.ref not in fake.orders


def test_the_adapter_never_leaves_the_loopback(twilio: TwilioProvider, fake: FakeTwilio) -> None:
    twilio.search("US", None, None, 1)
    assert fake.url.startswith("http://127.0.0.1:")
    assert httpx.URL(fake.url).host == "127.0.0.1"
