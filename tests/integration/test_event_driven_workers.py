"""The workers wake on the event store's NOTIFY (issue 35, part 3): with the safety poll (a
relay) or the pass interval (the registration worker) set to 30 s, a committed fact still
reaches the routing feed, and a submitted registration still gets its first provider step,
within a few seconds. Each test first lets its worker reach the idle wait (a first fact
handled), so that the second fact can only be found through the NOTIFY."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from domain.application import SmsChannels
from sms_channels.cli.kafka_broker import EmbeddedBroker
from sms_channels.settings import Settings
from sms_channels.worker_set import build_workers
from tests.integration import test_channel_feeds as feeds
from tests.integration.test_channel_feeds import last_is, live_channel
from tests.integration.test_registration_worker_pg import submitted_connection
from tests.support.common import unique_account, wait_for
from tests.support.compliance_payloads import GOOD
from tests.support.kafka_reader import Reader
from workers.feeds.relay import ChannelFeedsRelay
from workers.feeds.topics import TopicNames

# The feed fixtures of the channel-feeds tests (their topics and routing reader).
topics, routing = feeds.topics, feeds.routing

SAFETY_POLL_SECONDS = 30.0
WOKEN_WITHIN_SECONDS = 5.0  # well under the 30 s a poll would take


@pytest.fixture
def slow_polling_relay(
    isolated_app: SmsChannels,
    isolated_database_url: str,
    kafka_broker: EmbeddedBroker,
    topics: TopicNames,
) -> Iterator[ChannelFeedsRelay]:
    relay = ChannelFeedsRelay(
        isolated_app,
        isolated_database_url,
        kafka_broker.bootstrap_servers,
        events_topic=topics.channel_events,
        routing_topic=topics.routing,
        safety_poll_seconds=SAFETY_POLL_SECONDS,
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    yield relay
    stop.set()
    thread.join()
    relay.close()


def served_value(phone_number: str) -> Any:
    return last_is(phone_number, lambda v: v and v["ingestionEnabled"])


def test_a_committed_fact_reaches_the_routing_feed_well_before_the_safety_poll(
    isolated_app: SmsChannels, slow_polling_relay: ChannelFeedsRelay, routing: Reader
) -> None:
    first = live_channel(isolated_app, unique_account())
    routing.wait_for(served_value(first.phone_number), timeout=2 * SAFETY_POLL_SECONDS)
    # The relay has published everything and waits (up to 30 s) for a NOTIFY.
    second = live_channel(isolated_app, unique_account())
    routing.wait_for(served_value(second.phone_number), timeout=WOKEN_WITHIN_SECONDS)


def campaign_step_taken(app: SmsChannels, account: str, connection_id: UUID) -> bool:
    return app.get_connection(account, connection_id).level("campaign").provider_ref is not None


def test_a_submitted_registration_gets_its_first_step_well_before_the_pass_interval(
    isolated_app: SmsChannels, isolated_database_url: str
) -> None:
    # The worker as `sms-channels worker registration` builds it (its wakeup included).
    workers = build_workers(Settings(database_url=isolated_database_url), application=isolated_app)
    worker = workers.registration()
    assert worker.wakeup is not None
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, SAFETY_POLL_SECONDS))
    thread.start()
    account = unique_account()
    try:
        first = submitted_connection(isolated_app, account, GOOD)
        wait_for(lambda: campaign_step_taken(isolated_app, account, first),
                 timeout=2 * SAFETY_POLL_SECONDS)  # fmt: skip
        # The worker is idle until its next pass, 30 s away, unless a commit wakes it.
        other_campaign = copy.deepcopy(GOOD)
        other_campaign["campaign"]["optInKeywords"] = "START,JOIN2"
        second = submitted_connection(isolated_app, account, other_campaign)
        wait_for(lambda: campaign_step_taken(isolated_app, account, second),
                 timeout=WOKEN_WITHIN_SECONDS)  # fmt: skip
    finally:
        stop.set()
        thread.join()
        workers.close()
