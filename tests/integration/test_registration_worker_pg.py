"""The registration worker on PostgreSQL: killed (SIGKILL) at any point between or inside its
steps, it resumes and creates each provider object exactly once (the sandbox's own count
says so); a provider that fails a step three times is retried with backoff and the
submission shows pending meanwhile, never an error."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
from typing import Any
from uuid import UUID

from domain.application import SmsChannels
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.support.common import unique_account, unique_us_number, wait_for
from tests.support.compliance_payloads import GOOD
from tests.support.fakes import FlakyRegistrationProvider
from workers.leadership import SessionLock
from workers.registration import RegistrationWorker

WORKER = [sys.executable, "-m", "sms_channels.cli", "worker", "registration"]
LEVELS = ("brand", "campaign", "number")


def payload(variant: int) -> dict[str, Any]:
    changed = copy.deepcopy(GOOD)
    changed["campaign"]["optInKeywords"] = f"START,JOIN{variant}"
    return changed


def submitted_connection(app: SmsChannels, account: str, compliance: dict[str, Any]) -> UUID:
    result = app.connect(
        ConnectNumber(account, "ws_1", "agent_1", "new", "US", "415", unique_us_number(), "u1")
    )
    connection_id = result.connection.id
    app.update_compliance(account, connection_id, compliance, by="u1")
    version = app.get_connection(account, connection_id).version
    app.submit_registration(account, connection_id, by="u1", expected_version=version)
    return connection_id


def start_worker(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "REGISTRATION_INTERVAL_SECONDS": "0.05"}
    return subprocess.Popen(WORKER, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(worker: subprocess.Popen[bytes], condition: Any) -> None:
    try:
        wait_for(condition, timeout=60, interval=0.005)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)


def test_a_killed_worker_resumes_and_creates_each_provider_object_once(
    isolated_database_url: str,
) -> None:
    url = isolated_database_url
    app = build_application(Settings(database_url=url))
    sandbox = app.provider
    assert isinstance(sandbox, SandboxProvider)
    account = unique_account()
    # Six numbers of one brand, with three campaign contents (two numbers each).
    ids = [submitted_connection(app, account, payload(i % 3)) for i in range(6)]
    count = sandbox.registrations.count
    try:
        # Killed as soon as the brand exists at the provider (recorded or not yet), then
        # as soon as a second campaign exists, then let run to the end.
        kill_when(start_worker(url), lambda: count("brand") >= 1)
        kill_when(start_worker(url), lambda: count("campaign") >= 2)
        worker = start_worker(url)
        wait_for(
            lambda: all(app.get_connection(account, i).level("number").provider_ref for i in ids),
            timeout=60,
        )
        worker.terminate()
        worker.wait(timeout=10)
        assert (count("brand"), count("campaign"), count("number")) == (1, 3, 6)
        connections = [app.get_connection(account, i) for i in ids]
        brands = {c.level("brand").provider_ref for c in connections}
        campaigns = {c.level("campaign").provider_ref for c in connections}
        assert (len(brands), len(campaigns)) == (1, 3)
        assert all(c.registration_status == "pending" for c in connections)
    finally:
        app.close()


def test_a_step_failing_three_times_is_retried_with_backoff_then_recorded_once(
    pg_settings: Settings,
) -> None:
    provider = FlakyRegistrationProvider(failures=3)
    app = build_application(pg_settings, provider)
    now = [0.0]
    worker = RegistrationWorker(app, clock=lambda: now[0])
    account = unique_account()
    try:
        connection_id = submitted_connection(app, account, GOOD)
        waits = []
        for _ in range(3):
            worker.run_once()
            assert app.get_connection(account, connection_id).registration_status == "submitted"
            waits.append(worker.tracked[connection_id].retry_at - now[0])
            worker.run_once()  # not due yet: the provider is not asked again
            now[0] = worker.tracked[connection_id].retry_at
        assert waits == [2.0, 4.0, 8.0]
        assert provider.calls == ["brand", "brand", "brand"]
        worker.run_once()
        connection = app.get_connection(account, connection_id)
        assert [connection.level(lv).provider_ref is not None for lv in LEVELS] == [True] * 3
        assert connection.registration_status == "pending"
        assert provider.calls == ["brand"] * 4 + ["campaign"]
        assert provider.registrations.count("brand") == 1
    finally:
        app.close()


def test_an_unexpected_error_on_one_connection_does_not_hold_up_the_others(
    pg_settings: Settings,
) -> None:
    # The first brand the provider is asked for blows up with an error no one planned for.
    provider = FlakyRegistrationProvider(failures=1, error=RuntimeError("bug"))  # type: ignore[arg-type]
    app = build_application(pg_settings, provider)
    now = [0.0]
    worker = RegistrationWorker(app, clock=lambda: now[0])
    first_account, second_account = unique_account(), unique_account()
    try:
        first = submitted_connection(app, first_account, GOOD)
        second = submitted_connection(app, second_account, GOOD)
        worker.run_once()
        assert app.get_connection(first_account, first).level("brand").provider_ref is None
        assert worker.tracked[first].retry_at > now[0]  # backed off, not forgotten
        assert app.get_connection(second_account, second).level("brand").provider_ref is not None
    finally:
        app.close()


def test_one_registration_worker_is_active_and_a_standby_takes_over_when_it_goes(
    isolated_database_url: str,
) -> None:
    """Steps look an object up before creating it: two active workers could both create.
    The session lock lets one act; the other takes no step until the first is gone."""
    url = isolated_database_url  # the log holds this test's submission alone
    first, second = SessionLock(url, "registration"), SessionLock(url, "registration")
    provider = FlakyRegistrationProvider(failures=0)
    app = build_application(Settings(database_url=url), provider)
    try:
        assert first.held()
        standby = RegistrationWorker(app, leadership=second.held)
        connection_id = submitted_connection(app, unique_account(), GOOD)
        report = standby.run_once()
        assert (report.steps, provider.calls) == (0, [])
        assert connection_id in standby.tracked  # it follows the log all the same
        first.close()  # the active worker's session ends (exit, crash, lost network)
        # The server frees the lock once that backend has gone, a moment after the close:
        # the standby's leadership check finds it free then (the worker asks every pass).
        wait_for(second.held)
        assert standby.run_once().steps == 3
        assert provider.calls == ["brand", "campaign"]  # (number steps are not counted)
    finally:
        first.close()
        second.close()
        app.close()
