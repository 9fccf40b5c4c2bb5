"""The supported countries over HTTP: the endpoint serves the packaged data file as is, and
a country missing from it is refused (422 ``unsupported_country``) by the number search and
by connect."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
import pytest

import domain
from tests.support.common import auth, unique_account

COUNTRIES = "/channels/sms/countries"
DATA_FILE = Path(domain.__file__).parent / "regions.toml"


def test_the_countries_endpoint_serves_the_data_file(http: httpx.Client) -> None:
    response = http.get(COUNTRIES, headers=auth(unique_account()))
    assert response.status_code == 200, response.text
    expected = [
        {
            "isoCode": c["iso_code"],
            "name": c["name"],
            "dialCode": c["dial_code"],
            "areaCodeSearch": c["area_code_search"],
            "registration": c["registration"],
            "notes": c["notes"],
            "source": c["source"],
        }
        for c in tomllib.loads(DATA_FILE.read_text("utf-8"))["countries"]
    ]
    assert response.json() == {"countries": expected}
    assert [c["isoCode"] for c in expected][:3] == ["US", "CA", "GB"]


def test_the_countries_endpoint_needs_channels_connect(http: httpx.Client) -> None:
    reader = auth(unique_account(), ("channels.read",))
    assert http.get(COUNTRIES, headers=reader).status_code == 403
    assert http.get(COUNTRIES).status_code == 401


def assert_unsupported(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "unsupported_country"
    assert body["errors"] == [
        {"field": "countryCode", "code": "unsupported_country", "message": body["detail"]}
    ]


def test_an_unsupported_country_is_422_on_number_search(http: httpx.Client) -> None:
    response = http.get(
        "/channels/sms/numbers", params={"countryCode": "NZ"}, headers=auth(unique_account())
    )
    assert_unsupported(response)


@pytest.mark.parametrize("mode", ["new", "byon"])
def test_an_unsupported_country_is_422_on_connect(http: httpx.Client, mode: str) -> None:
    body = {
        "mode": mode,
        "countryCode": "NZ",
        "phoneNumber": "+6495550100",
        "workspaceId": "ws_1",
        "agentId": "agent_1",
    }
    assert_unsupported(
        http.post("/channels/sms/connect", json=body, headers=auth(unique_account()))
    )


def test_an_area_code_where_the_search_takes_none_is_422_naming_it(http: httpx.Client) -> None:
    response = http.get(
        "/channels/sms/numbers",
        params={"countryCode": "FR", "areaCode": "75"},
        headers=auth(unique_account()),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "areaCode"
