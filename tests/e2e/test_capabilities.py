"""Effective capabilities over HTTP on PostgreSQL, with the projections running and the
sandbox provider's signed webhooks: a US connection may reply only once the provider
reports its campaign approved, and stops when the campaign is suspended or the number is
reclaimed; the list filters by capability."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from projections.registry import PROJECTIONS
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.e2e.provider_support import Service, running_service
from tests.support.common import auth, unique_account, unique_us_number
from workers.projector import ProjectionThreads

AGENT = {
    "workspaceId": "ws_1",
    "workspaceName": "Support",
    "name": "Ava",
    "knowledgeBaseId": "kb_1",
    "knowledgeBaseName": "Help center",
}


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    stop = threading.Event()
    application = build_application(Settings(database_url=database_url))
    threads = ProjectionThreads(application, database_url, list(PROJECTIONS), stop).start()
    with running_service(database_url) as running:
        yield running
    stop.set()
    threads.join()
    application.close()
    assert threads.errors == []


def capabilities(ingestion: str | None, outbound: str | None) -> dict[str, Any]:
    """The wire form: a reason means "not allowed, because"."""
    return {
        "ingestion": {"enabled": ingestion is None, "reason": ingestion},
        "outboundReplies": {
            "permitted": outbound is None,
            "reason": outbound,
            "notPermittedOn": [],  # no carrier refused (issue 31: the sandbox reports none here)
        },
    }


def active_connection(service: Service, account: str, number: str) -> str:
    """A connected, active US number whose agent resolves a knowledge base."""
    agent = service.http.put("/directory/agents/agent_1", json=AGENT, headers=auth(account))
    assert agent.status_code == 200, agent.text
    created = service.connect(account, number)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    activated = service.http.patch(location, json={"active": True}, headers=auth(account))
    assert activated.status_code == 200, activated.text
    return location


def on_connection(service: Service, account: str, location: str) -> dict[str, Any]:
    response = service.http.get(location, headers=auth(account))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["capabilities"]
    return result


def on_row(service: Service, account: str, position: int, **params: Any) -> list[dict[str, Any]]:
    response = service.http.get(
        "/channels/sms/connections",
        params={"waitFor": position, **params},
        headers=auth(account),
    )
    assert response.status_code == 200, response.text
    assert "X-Projection-Lag" not in response.headers
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def report(service: Service, number: str, status: str) -> int:
    """The provider reports the campaign's registration status; the log position."""
    delivered = service.deliver(service.provider.registration_changed(number, status))
    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "applied")
    position: int = delivered.json()["position"]
    return position


def test_replies_are_permitted_only_after_the_provider_approves_the_campaign(
    service: Service,
) -> None:
    account, number = unique_account(), unique_us_number()
    location = active_connection(service, account, number)
    not_yet = capabilities(None, "registration_required")
    assert on_connection(service, account, location) == not_yet

    # Submitted and under review: messages come in, replies still wait.
    position = report(service, number, "pending")
    (row,) = on_row(service, account, position)
    assert row["capabilities"] == on_connection(service, account, location)
    assert row["capabilities"] == capabilities(None, "campaign_pending")

    # The provider approves the campaign: now the agent may reply.
    position = report(service, number, "approved")
    (row,) = on_row(service, account, position)
    assert row["capabilities"] == on_connection(service, account, location)
    assert row["capabilities"] == capabilities(None, None)

    # The campaign is suspended: replies stop, messages still come in.
    position = report(service, number, "suspended")
    (row,) = on_row(service, account, position)
    assert row["capabilities"] == on_connection(service, account, location)
    assert row["capabilities"] == capabilities(None, "campaign_suspended")


def test_a_reclaimed_number_loses_its_permission_to_reply(service: Service) -> None:
    account, number = unique_account(), unique_us_number()
    location = active_connection(service, account, number)
    (row,) = on_row(service, account, report(service, number, "approved"))
    assert row["capabilities"] == capabilities(None, None)

    # The provider takes the number back.
    delivered = service.deliver(service.provider.take_back(number, "reclaimed"))
    assert delivered.json()["outcome"] == "applied"
    (row,) = on_row(service, account, delivered.json()["position"])
    reclaimed = capabilities("number_reclaimed", "number_reclaimed")
    assert row["capabilities"] == on_connection(service, account, location) == reclaimed


def test_deactivating_stops_both_and_the_connection_names_the_resolved_knowledge_base(
    service: Service,
) -> None:
    account, number = unique_account(), unique_us_number()
    location = active_connection(service, account, number)
    body = service.http.get(location, headers=auth(account)).json()
    assert body["knowledgeBase"] == {"id": "kb_1", "name": "Help center"}

    off = service.http.patch(location, json={"active": False}, headers=auth(account))
    assert off.json()["capabilities"] == capabilities("inactive", "inactive")
    (row,) = on_row(service, account, off.json()["position"])
    assert row["capabilities"] == capabilities("inactive", "inactive")


def test_the_list_filters_by_ingestion_and_outbound(service: Service) -> None:
    account = unique_account()
    approved_number, waiting_number = unique_us_number(), unique_us_number()
    approved = active_connection(service, account, approved_number)
    waiting = active_connection(service, account, waiting_number)
    inactive = service.connect(account, unique_us_number())
    position = report(service, approved_number, "approved")

    def ids(**params: Any) -> set[str]:
        return {row["id"] for row in on_row(service, account, position, **params)}

    def id_of(location: str) -> str:
        return location.rsplit("/", 1)[1]

    assert ids(outbound="true") == {id_of(approved)}
    assert ids(ingestion="true", outbound="false") == {id_of(waiting)}
    assert ids(ingestion="false") == {inactive.json()["id"]}
    assert ids(ingestion="false", outbound="true") == set()
