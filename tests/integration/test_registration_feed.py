"""Registration per carrier and throughput on the routing feed (issue 31), on PostgreSQL and
a real Kafka-protocol broker: a campaign approved by AT&T and Verizon and refused by
T-Mobile publishes a value with ``registrationStatus`` rejected and T-Mobile named in
``outboundNotPermittedOn``; a throughput change reaches the value and is a lifecycle event
(``channel.updated`` with ``changes: ["throughput"]``)."""

from __future__ import annotations

from typing import Any

import orjson

from domain.application import SmsChannels
from domain.providers import ProviderEvent
from domain.service.directory import upsert_agent
from providers.sandbox import SandboxProvider, SandboxWebhook
from providers.sandbox.webhooks import _fact
from tests.integration import test_channel_feeds as feeds
from tests.integration.test_channel_feeds import WITH_KB, check_schemas, connect, last_is, values_of
from tests.support.common import unique_account
from tests.support.compliance_payloads import GOOD
from tests.support.kafka_reader import Reader
from workers.feeds.relay import ChannelFeedsRelay

# The feed fixtures of the channel-feeds tests (their topics, relay and readers).
topics, relay, events, routing = feeds.topics, feeds.relay, feeds.events, feeds.routing


def deliver(app: SmsChannels, webhooks: list[SandboxWebhook]) -> None:
    for event in webhooks:
        app.record_provider_event(ProviderEvent("sandbox", event.id, _fact(event.type, event.data)))


def registered(app: SmsChannels, account: str) -> Any:
    """A live channel whose submission the worker's steps took to the sandbox."""
    upsert_agent(app, account, "agent_1", WITH_KB)
    connection = connect(app, account)
    app.update_settings(account, connection.id, by="u", active=True)
    app.update_compliance(account, connection.id, GOOD, by="u")
    version = app.get_connection(account, connection.id).version
    app.submit_registration(account, connection.id, by="u", expected_version=version)
    while app.advance_registration(connection.id).step is not None:
        pass
    return connection


def test_a_carriers_refusal_reaches_the_routing_value(
    isolated_app: SmsChannels, relay: ChannelFeedsRelay, routing: Reader
) -> None:
    provider = isolated_app.provider
    assert isinstance(provider, SandboxProvider)
    account = unique_account()
    phone = registered(isolated_app, account).phone_number
    deliver(isolated_app, provider.decide_registration(phone, "approved", level="brand"))
    deliver(isolated_app, provider.decide_registration(phone, "approved", level="number"))
    for carrier in ("att", "verizon"):
        deliver(isolated_app, provider.decide_registration(
            phone, "approved", level="campaign", carrier=carrier))  # fmt: skip
    deliver(isolated_app, provider.decide_registration(
        phone, "rejected", level="campaign", carrier="tmobile", code="30892"))  # fmt: skip
    messages = routing.wait_for(
        last_is(phone, lambda v: v and v["outboundNotPermittedOn"] == ["tmobile"])
    )
    value = values_of(messages, phone)[-1]
    assert value is not None
    assert (value["registrationStatus"], value["outboundPermitted"]) == ("rejected", False)
    check_schemas(messages)


def test_a_throughput_change_reaches_the_feed_and_is_a_lifecycle_event(
    isolated_app: SmsChannels, relay: ChannelFeedsRelay, routing: Reader, events: Reader
) -> None:
    provider = isolated_app.provider
    assert isinstance(provider, SandboxProvider)
    account = unique_account()
    connection = registered(isolated_app, account)
    phone = connection.phone_number
    deliver(isolated_app, provider.set_throughput(
        phone, brandScore=75, tmobileTier="MID", attMessageClass="B", attTpm=2400))  # fmt: skip
    messages = routing.wait_for(last_is(phone, lambda v: v and v["throughput"]["attTpm"] == 2400))
    value = values_of(messages, phone)[-1]
    assert value is not None
    assert value["throughput"] == {
        "brandScore": 75, "tmobileTier": "MID", "tmobileDailyCap": 40_000,
        "attMessageClass": "B", "attTpm": 2400,
    }  # fmt: skip
    assert dict(messages[-1].headers)["schemaVersion"] == b"2"
    updates = events.wait_for(
        lambda ms: any(
            m.key == str(connection.id).encode()
            and "throughput" in orjson.loads(m.value).get("changes", [])
            for m in ms
        )
    )
    check_schemas(messages + updates)
