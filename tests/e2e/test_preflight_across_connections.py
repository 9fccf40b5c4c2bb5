"""The preflight's rules across connections over HTTP on PostgreSQL, with the projector
running (on a database of this module alone): the route reads the account's other live
connections from the channels table and their payloads from the event store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.main import create_app
from projections.registry import PROJECTIONS
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.security.conftest import bearer
from tests.support.common import (
    JWT_SECRET,
    auth,
    fresh_database,
    live_server,
    unique_account,
    unique_us_number,
)
from tests.support.compliance_payloads import GOOD, good_with
from workers.projector import ProjectionThreads


@pytest.fixture(scope="module")
def own_database_url(admin_url: str) -> Iterator[str]:
    """A database of this module alone: its projector reads the whole event log, which on
    the session's shared database may hold other tests' events (some encrypted)."""
    with fresh_database(admin_url) as url:
        yield url


@pytest.fixture(scope="module")
def base_url(own_database_url: str) -> Iterator[str]:
    settings = Settings(database_url=own_database_url, jwt_secret=JWT_SECRET)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module", autouse=True)
def projections(own_database_url: str) -> Iterator[ProjectionThreads]:
    stop = threading.Event()
    application = build_application(Settings(database_url=own_database_url))
    threads = ProjectionThreads(application, own_database_url, list(PROJECTIONS), stop).start()
    yield threads
    stop.set()
    threads.join()
    application.close()
    assert threads.errors == []


def connect(
    http: httpx.Client, account: str, compliance: dict[str, Any], workspace: str = "ws"
) -> dict[str, Any]:
    """Connect a number with ``compliance``; waits until the channels table lists it."""
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": workspace,
        "agentId": "agent",
        "smsCompliance": compliance,
    }
    created = http.post("/channels/sms/connect", json=body, headers=auth(account))
    assert created.status_code == 201, created.text
    listed = http.get(
        "/channels/sms/connections",
        params={"waitFor": created.json()["position"]},
        headers=auth(account),
    )
    assert listed.status_code == 200
    assert "X-Projection-Lag" not in listed.headers
    return {"url": created.headers["Location"], **created.json()}


def preflight(
    http: httpx.Client, account: str, url: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = http.get(url + "/compliance/preflight", headers=headers or auth(account))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_same_tax_id_under_another_company_name_is_named_with_its_codes(
    http: httpx.Client,
) -> None:
    account = unique_account()
    connect(http, account, good_with(brand_companyName="Acme Dental Group Inc"))
    second = connect(http, account, GOOD)
    body = preflight(http, account, second["url"])
    assert [(f["field"], f["rule"], f["providerCodes"]) for f in body["findings"]] == [
        ("brand.companyName", "account.ein_company_mismatch", ["30898", "30703"])
    ]
    assert body["ready"] is False


def test_another_accounts_connections_are_never_compared(http: httpx.Client) -> None:
    connect(http, unique_account(), good_with(brand_companyName="Acme Dental Group Inc"))
    account = unique_account()
    mine = connect(http, account, GOOD)
    assert preflight(http, account, mine["url"]) == {
        "ready": True,
        "ruleset": "us_10dlc",
        "findings": [],
    }


def test_a_second_sole_proprietor_campaign_is_named(http: httpx.Client) -> None:
    account = unique_account()
    sole = {
        "brand_entity": "SOLE_PROPRIETOR",
        "brand_brandType": "SOLE_PROPRIETOR",
        "brand_registrationNumber": "",
        "brand_companyName": "Jane Doe",
        "campaign_useCaseType": "SOLE_PROPRIETOR",
    }
    connect(http, account, good_with(**sole))
    second = connect(http, account, good_with(**sole, campaign_helpKeywords="HELP,INFO"))
    rules = [f["rule"] for f in preflight(http, account, second["url"])["findings"]]
    assert rules == ["account.second_sole_proprietor"]


def test_a_workspace_restricted_manager_is_compared_with_its_workspaces_only(
    http: httpx.Client,
) -> None:
    """Another workspace's form never shows through a finding (issue 28): with a token of
    ws_a, the same tax id under another name in ws_b is not named, neither in the
    preflight nor at submit; an account-wide token still sees it."""
    account = unique_account()
    connect(http, account, good_with(brand_companyName="Acme Dental Group Inc"), "ws_b")
    mine = connect(http, account, GOOD, "ws_a")
    restricted = bearer(account, workspaces=["ws_a"])
    assert preflight(http, account, mine["url"], restricted)["findings"] == []
    rules = [f["rule"] for f in preflight(http, account, mine["url"])["findings"]]
    assert rules == ["account.ein_company_mismatch"]
    submitted = http.post(
        mine["url"] + "/registration",
        headers={**restricted, "If-Match": f'"{mine["version"]}"'},
    )
    assert submitted.status_code == 202, submitted.text
    # Within its workspaces the rule still holds.
    again = connect(http, account, good_with(brand_companyName="Acme Dental Group Inc"), "ws_a")
    rules = [f["rule"] for f in preflight(http, account, again["url"], restricted)["findings"]]
    assert rules == ["account.ein_company_mismatch"]
