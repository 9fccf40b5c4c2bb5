"""The registration worker's woken pass (issue 35, part 3): a commit wakes the worker, which
works at once on the connections the new facts name (a submission, a level of a tracked
registration changing) and leaves the others to the pass every interval, the safety net."""

from __future__ import annotations

from uuid import UUID

from domain.application import SmsChannels
from domain.providers import ProviderEvent
from domain.service.commands import ConnectNumber
from providers.sandbox.webhooks import _fact
from tests.support.common import unique_account, unique_us_number
from tests.support.compliance_payloads import GOOD
from tests.support.fakes import FlakyRegistrationProvider
from workers.registration import RegistrationWorker

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def submitted(app: SmsChannels, account: str) -> UUID:
    result = app.connect(
        ConnectNumber(account, "ws_1", "agent_1", "new", "US", "415", unique_us_number(), "u1")
    )
    connection_id = result.connection.id
    app.update_compliance(account, connection_id, GOOD, by="u1")
    version = app.get_connection(account, connection_id).version
    app.submit_registration(account, connection_id, by="u1", expected_version=version)
    return connection_id


def test_a_woken_pass_works_on_the_new_submission_and_leaves_a_due_retry_to_the_interval() -> None:
    provider = FlakyRegistrationProvider(failures=1)
    app = SmsChannels(provider, env=POPO)
    now = [0.0]
    worker = RegistrationWorker(app, clock=lambda: now[0])
    first_account, second_account = unique_account(), unique_account()
    first = submitted(app, first_account)
    worker.run_woken()  # the first brand call fails: retried after a backoff
    now[0] = 60.0  # the retry is due
    second = submitted(app, second_account)
    assert worker.run_woken().steps == 3  # the second's brand, campaign and number
    assert provider.calls == ["brand", "brand", "campaign"]
    assert app.get_connection(first_account, first).level("brand").provider_ref is None
    worker.run_once()  # the interval's pass takes the due retry
    assert app.get_connection(first_account, first).level("brand").provider_ref is not None
    assert app.get_connection(second_account, second).level("brand").provider_ref is not None


def test_a_providers_report_on_a_tracked_registration_wakes_its_connection() -> None:
    provider = FlakyRegistrationProvider()
    app = SmsChannels(provider, env=POPO)
    worker = RegistrationWorker(app, poll_interval_seconds=3600.0)
    account = unique_account()
    connection_id = submitted(app, account)
    worker.run_woken()
    assert connection_id in worker.tracked  # its levels are in flight at the provider
    phone = app.get_connection(account, connection_id).phone_number
    for level in ("brand", "campaign", "number"):
        for event in provider.decide_registration(phone, "approved", level=level):
            app.record_provider_event(
                ProviderEvent("sandbox", event.id, _fact(event.type, event.data))
            )
    assert worker.run_woken().settled == [connection_id]
    assert connection_id not in worker.tracked
