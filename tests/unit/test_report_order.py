"""Provider time decides between registration reports (issue 28): Twilio and Telnyx both
deliver webhooks out of order, so a report the provider dated earlier than the latest one
applied about the same reference is recorded (its delivery mark says ``stale``, with the
provider's time, for the audit) and not applied. Events written by the code before this
change (``tests/data/events_before_keyed_brand_ids.json``: an approved brand, its index
entry without a clock, a delivery mark without a time) still load, and then follow the
rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.provider_deliveries import ProviderDelivery, provider_delivery_id
from domain.providers import ProviderEvent, RegistrationReported
from domain.registrations import LevelRegistration
from providers.sandbox import SandboxProvider
from tests.support.common import unique_account
from tests.support.events import application_with_stored_events
from tests.unit.test_registration import POPO, connected, run_steps, submit

STORED = Path(__file__).parent.parent / "data" / "events_before_keyed_brand_ids.json"
OLD_ACCOUNT = "acc_before_keyed_ids"
OLD_CONNECTION = UUID("17027a64-e5fa-4f44-976b-584bc9548f77")
OLD_BRAND = UUID("d1966528-9537-51e0-8be0-b318b3457dda")
OLD_BRAND_REF = "BN07a31d0f7bee4c8a9c82cc955f35b808"
NOW = datetime.now(UTC)
IN_2020 = datetime(2020, 3, 1, 12, 0, tzinfo=UTC)


def report(app: SmsChannels, ref: str, status: str, event_id: str, at: datetime | None) -> str:
    fact = RegistrationReported("brand", ref, status, None)
    return app.record_provider_event(ProviderEvent("sandbox", event_id, fact, at)).outcome


def delivery(app: SmsChannels, event_id: str) -> ProviderDelivery:
    found: ProviderDelivery = app.repository.get(provider_delivery_id("sandbox", event_id))
    return found


@pytest.fixture
def app() -> SmsChannels:
    return SmsChannels(SandboxProvider(), env=POPO)


def brand_of(app: SmsChannels) -> tuple[str, str, UUID]:
    account = unique_account()
    connection_id = connected(app, account)
    submit(app, account, connection_id)
    run_steps(app, connection_id)
    ref = app.get_connection(account, connection_id).level("brand").provider_ref
    assert ref is not None
    return account, ref, connection_id


def test_a_report_dated_earlier_than_the_applied_one_is_recorded_not_applied(
    app: SmsChannels,
) -> None:
    account, ref, connection_id = brand_of(app)
    assert report(app, ref, "approved", "evt_now", NOW) == "applied"
    assert report(app, ref, "pending", "evt_2020", IN_2020) == "stale"
    connection = app.get_connection(account, connection_id)
    assert connection.level("brand").status == "approved"
    stale = delivery(app, "evt_2020")
    assert (stale.outcome, stale.occurred_at) == ("stale", IN_2020)
    # A later report still applies, and the stale one's redelivery is a duplicate.
    assert report(app, ref, "suspended", "evt_later", NOW + timedelta(minutes=1)) == "applied"
    assert report(app, ref, "pending", "evt_2020", IN_2020) == "duplicate"


def test_a_report_repeating_the_status_still_moves_the_clock(app: SmsChannels) -> None:
    _, ref, _ = brand_of(app)
    assert report(app, ref, "approved", "evt_1", NOW) == "applied"
    assert report(app, ref, "approved", "evt_3", NOW + timedelta(minutes=2)) == "applied"
    # Dated between them: older than the latest report, though newer than the change.
    assert report(app, ref, "pending", "evt_2", NOW + timedelta(minutes=1)) == "stale"


def test_reports_without_a_provider_time_apply_in_arrival_order(app: SmsChannels) -> None:
    account, ref, connection_id = brand_of(app)
    assert report(app, ref, "approved", "evt_a", NOW) == "applied"
    assert report(app, ref, "rejected", "evt_b", None) == "applied"
    assert app.get_connection(account, connection_id).level("brand").status == "rejected"


def test_a_time_without_a_zone_is_read_as_utc(app: SmsChannels) -> None:
    _, ref, _ = brand_of(app)
    assert report(app, ref, "approved", "evt_z", NOW) == "applied"
    naive = IN_2020.replace(tzinfo=None)
    assert report(app, ref, "pending", "evt_naive", naive) == "stale"


def test_events_of_the_previous_code_load_and_then_follow_provider_time() -> None:
    app = application_with_stored_events(SandboxProvider(), STORED)
    old = delivery(app, "evt_brand_approved")  # written without a provider time
    assert (old.outcome, old.occurred_at) == ("applied", None)
    brand: LevelRegistration = app.repository.get(OLD_BRAND)
    assert brand.state.status == "approved"
    # The index entry has no clock yet: the first dated report sets it.
    assert report(app, OLD_BRAND_REF, "approved", "evt_new", NOW) == "applied"
    assert report(app, OLD_BRAND_REF, "pending", "evt_old", IN_2020) == "stale"
    connection = app.get_connection(OLD_ACCOUNT, OLD_CONNECTION)
    assert connection.level("brand").status == "approved"
