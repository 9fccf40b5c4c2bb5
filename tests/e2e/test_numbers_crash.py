"""A crash between buy and record, over HTTP: the API dies (here: its request fails) after
the provider sold the number and before the connection recorded it. After the reconcile
worker's pass there is exactly one connection for the number, connected, and the provider
holds the number under that connection; a crash before the purchase ends in one failure
and nothing held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from domain.ids import connection_id_for
from providers.sandbox import PostgresLedger, SandboxProvider
from sms_channels.bootstrap import build_application
from tests.e2e.provider_support import running_service, sandbox_settings
from tests.support.common import auth, unique_account, unique_us_number
from tests.support.fakes import CrashingProvider
from workers.reconcile import Reconciler


def reconcile_later(database_url: str) -> None:
    """One pass of the worker (another process: own application and provider), with its
    clock past the pending bound."""
    provider = SandboxProvider(PostgresLedger(database_url, max_size=1))
    application = build_application(sandbox_settings(database_url), provider)
    later = datetime.now(UTC) + timedelta(minutes=10)
    try:
        Reconciler(application, pending_after=timedelta(minutes=5), clock=lambda: later).run_once()
    finally:
        application.close()  # closes its provider too


def connect(http: httpx.Client, account: str, number: str, key: str = "wizard-1") -> httpx.Response:
    # A connection of its own: the server drops the connection of a request that crashed.
    return httpx.post(
        f"{http.base_url}/channels/sms/connect",
        json={
            "mode": "new",
            "countryCode": "US",
            "phoneNumber": number,
            "workspaceId": "ws",
            "agentId": "a",
        },
        headers={**auth(account), "Idempotency-Key": key},
        timeout=10,
    )


def test_after_a_crash_past_the_purchase_the_worker_leaves_one_connection_holding_the_number(
    isolated_database_url: str,
) -> None:
    account, number = unique_account(), unique_us_number()
    crashing = CrashingProvider("after", ledger=PostgresLedger(isolated_database_url, max_size=2))
    with running_service(isolated_database_url, crashing) as service:
        assert connect(service.http, account, number).status_code == 500
        location = f"/channels/sms/connections/{connection_id_for(account, 'ws', 'wizard-1')}"
        assert service.http.get(location, headers=auth(account)).json()["status"] == "requested"

        reconcile_later(isolated_database_url)
        provider = crashing  # the provider's account, as the service's own adapter sees it

        connection = service.http.get(location, headers=auth(account)).json()
        held = provider.holding(number)
        assert connection["status"] == "connected"
        assert held is not None
        assert held.reference == connection["id"]
        # The client's retry of the crashed request answers that same connection.
        crashing.crash = None
        retry = connect(service.http, account, number)
        assert (retry.status_code, retry.json()["id"]) == (201, connection["id"])
        assert [n.phone_number for n in provider.held_numbers()].count(number) == 1


def test_after_a_crash_before_the_purchase_the_worker_leaves_one_failure_and_nothing_held(
    isolated_database_url: str,
) -> None:
    account, number = unique_account(), unique_us_number()
    crashing = CrashingProvider("before", ledger=PostgresLedger(isolated_database_url, max_size=2))
    with running_service(isolated_database_url, crashing) as service:
        assert connect(service.http, account, number).status_code == 500

        reconcile_later(isolated_database_url)
        provider = crashing  # the provider's account, as the service's own adapter sees it

        location = f"/channels/sms/connections/{connection_id_for(account, 'ws', 'wizard-1')}"
        connection = service.http.get(location, headers=auth(account)).json()
        assert (connection["status"], connection["failure"]["code"]) == (
            "failed",
            "provisioning_interrupted",
        )
        assert provider.holding(number) is None
        # The claim is free again: a new attempt (new key) buys the number.
        crashing.crash = None
        retry = connect(service.http, account, number, key="wizard-2")
        assert (retry.status_code, retry.json()["status"]) == (201, "connected")
