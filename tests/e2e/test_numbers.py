"""The wizard's number step over HTTP on PostgreSQL with the sandbox provider: search,
connect (new and bring-your-own), bad input, provider faults, delete releases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from domain.ids import connection_id_for
from tests.e2e.provider_support import Service, running_service
from tests.support.common import auth, unique_account, unique_us_number

NUMBERS = "/channels/sms/numbers"


@pytest.fixture(scope="module")
def module_service(database_url: str) -> Iterator[Service]:
    with running_service(database_url) as service:
        yield service


@pytest.fixture
def service(module_service: Service) -> Iterator[Service]:
    yield module_service
    module_service.provider.failures.outage_retry_after = None  # every test starts healthy


def search(service: Service, **params: Any) -> httpx.Response:
    return service.http.get(NUMBERS, params=params, headers=auth(unique_account()))


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


# --- search ---------------------------------------------------------------------------------


def test_search_lists_numbers_in_the_documented_shape(service: Service) -> None:
    response = search(service, countryCode="US", areaCode="415", limit=3)
    assert response.status_code == 200, response.text
    numbers = response.json()["numbers"]
    assert len(numbers) == 3
    assert numbers[0].keys() == {
        "phoneNumber",
        "countryCode",
        "areaCode",
        "locality",
        "region",
        "capabilities",
    }
    assert (numbers[0]["countryCode"], numbers[0]["areaCode"], numbers[0]["region"]) == (
        "US",
        "415",
        "CA",
    )
    assert numbers[0]["capabilities"] == {"sms": True, "mms": True, "voice": True}


def test_empty_area_code_and_contains_mean_any(service: Service) -> None:
    response = service.http.get(
        NUMBERS + "?countryCode=US&areaCode=&contains=&limit=5", headers=auth(unique_account())
    )
    assert (response.status_code, len(response.json()["numbers"])) == (200, 5)


def test_contains_narrows_the_search(service: Service) -> None:
    numbers = search(service, countryCode="US", areaCode="303", contains="5550142").json()[
        "numbers"
    ]
    assert [n["phoneNumber"] for n in numbers] == ["+13035550142"]


def test_a_country_without_inventory_is_an_empty_list(service: Service) -> None:
    response = search(service, countryCode="FR")
    assert (response.status_code, response.json()) == (200, {"numbers": []})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "countryCode"),
        ({"countryCode": "XX"}, "countryCode"),
        ({"countryCode": "us"}, "countryCode"),
        ({"countryCode": "USA"}, "countryCode"),
        ({"countryCode": "US", "areaCode": "41a"}, "areaCode"),
        ({"countryCode": "US", "areaCode": "415415"}, "areaCode"),
        ({"countryCode": "US", "areaCode": "123"}, "areaCode"),
        ({"countryCode": "US", "contains": "555-01"}, "contains"),
        ({"countryCode": "US", "contains": "<script>"}, "contains"),
        ({"countryCode": "US", "contains": "5" * 17}, "contains"),
        ({"countryCode": "US", "limit": 0}, "limit"),
        ({"countryCode": "US", "limit": 101}, "limit"),
        ({"countryCode": "US", "limit": "ten"}, "limit"),
    ],
)
def test_a_malformed_search_is_422_naming_the_parameter(
    service: Service, params: dict[str, Any], field: str
) -> None:
    response = search(service, **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_search_needs_the_channels_connect_permission(service: Service) -> None:
    headers = auth(unique_account(), ("channels.read", "sms.manage"))
    assert_problem(
        service.http.get(NUMBERS, params={"countryCode": "US"}, headers=headers), 403, "forbidden"
    )
    assert_problem(service.http.get(NUMBERS, params={"countryCode": "US"}), 401, "unauthorized")


def test_search_while_the_provider_is_down_is_503_with_retry_after(service: Service) -> None:
    service.provider.failures.outage_retry_after = 30
    response = search(service, countryCode="US")
    assert_problem(response, 503, "provider_unavailable")
    assert response.headers["Retry-After"] == "30"


# --- connect ----------------------------------------------------------------------------------


def test_search_then_connect_a_new_number_connects_it_and_takes_it_off_the_list(
    service: Service,
) -> None:
    offered = search(service, countryCode="US", areaCode="718", limit=100).json()["numbers"]
    number = offered[0]["phoneNumber"]
    created = service.connect(unique_account(), number, areaCode="718")
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["phoneNumber"]) == ("connected", number)
    assert service.provider.holds(number)
    again = search(service, countryCode="US", areaCode="718", limit=100).json()["numbers"]
    assert number not in [n["phoneNumber"] for n in again]


def test_bring_your_own_number_is_202_with_a_request_and_a_hosting_order(
    service: Service,
) -> None:
    number = unique_us_number()
    response = service.connect(unique_account(), number, mode="byon")
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["status"], body["requestId"] is not None) == ("requested", True)
    assert response.headers["Location"] == f"/channels/sms/connections/{body['id']}"
    assert service.provider.ledger.pending_order(number) is not None


@pytest.mark.parametrize(
    ("number", "country", "code"),
    [
        ("4155550123", "US", "invalid_phone_number"),
        ("+1 415 555 0123", "US", "invalid_phone_number"),
        ("+442079460123", "US", "phone_number_country_mismatch"),
        ("+14155550123", "ZZ", "invalid_country"),
    ],
)
def test_a_number_not_e164_or_not_of_the_country_is_422_and_records_nothing(
    service: Service, number: str, country: str, code: str
) -> None:
    account = unique_account()
    response = service.http.post(
        "/channels/sms/connect",
        json={
            "mode": "new",
            "countryCode": country,
            "phoneNumber": number,
            "workspaceId": "ws",
            "agentId": "agent",
        },
        headers={**auth(account), "Idempotency-Key": "k-1"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    gone = service.http.get(
        f"/channels/sms/connections/{connection_id_for(account, 'ws', 'k-1')}",
        headers=auth(account),
    )
    assert gone.status_code == 404


def test_connect_while_the_provider_is_down_is_503_with_retry_after_and_records_nothing(
    service: Service,
) -> None:
    account, number = unique_account(), unique_us_number()
    service.provider.failures.outage_retry_after = 30
    response = service.http.post(
        "/channels/sms/connect",
        json={
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": number,
            "workspaceId": "ws",
            "agentId": "a",
        },
        headers={**auth(account), "Idempotency-Key": "k-1"},
    )
    assert_problem(response, 503, "provider_unavailable")
    assert response.headers["Retry-After"] == "30"
    missing = service.http.get(
        f"/channels/sms/connections/{connection_id_for(account, 'ws', 'k-1')}",
        headers=auth(account),
    )
    assert missing.status_code == 404
    service.provider.failures.outage_retry_after = None
    assert service.connect(unique_account(), number).status_code == 201  # not claimed


def test_a_number_sold_meanwhile_is_409_and_its_claim_is_freed(service: Service) -> None:
    number = unique_us_number()
    sold = service.provider.purchase("US", number, reference="another-customer")
    body = assert_problem(service.connect(unique_account(), number), 409, "number_unavailable")
    assert body["errors"][0]["field"] == "phoneNumber"
    service.provider.release(sold.ref)
    assert service.connect(unique_account(), number).status_code == 201


def test_a_restricted_country_is_422_compliance_restricted_with_the_reason(
    service: Service,
) -> None:
    response = service.connect(unique_account(), "+493023125000", countryCode="DE")
    body = assert_problem(response, 422, "compliance_restricted")
    assert "regulatory bundle" in body["detail"]


def test_a_number_already_connected_is_409(service: Service) -> None:
    number = unique_us_number()
    assert service.connect(unique_account(), number).status_code == 201
    assert_problem(service.connect(unique_account(), number), 409, "number_already_connected")


def test_deleting_releases_the_number_at_the_provider(service: Service) -> None:
    account, number = unique_account(), unique_us_number()
    created = service.connect(account, number)
    assert service.provider.holds(number)
    deleted = service.http.delete(created.headers["Location"], headers=auth(account))
    assert deleted.status_code == 204
    assert not service.provider.holds(number)
