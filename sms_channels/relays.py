"""The relays a deployment runs, built from the settings (``worker relay`` and ``run``)."""

from __future__ import annotations

from domain.application import SmsChannels
from sms_channels.settings import Settings
from workers.analytics_relay import AnalyticsRelay
from workers.channel_feeds import ChannelFeedsRelay
from workers.log_relay import LogRelay
from workers.topics import TopicNames


def topic_names(settings: Settings) -> TopicNames:
    return TopicNames(settings.analytics_topic, settings.channel_events_topic,
                      settings.routing_topic)  # fmt: skip


def relays(application: SmsChannels, settings: Settings, servers: str) -> list[LogRelay]:
    """The analytics relay (``ANALYTICS_TOPIC``) and the channel-feeds relay
    (``CHANNEL_EVENTS_TOPIC``, ``ROUTING_TOPIC``): each keeps its own position and lock."""
    url, size = settings.database_url or "", settings.relay_batch_size
    return [
        AnalyticsRelay(application, url, servers, settings.analytics_topic, batch_size=size),
        ChannelFeedsRelay(application, url, servers, events_topic=settings.channel_events_topic,
                          routing_topic=settings.routing_topic, batch_size=size),
    ]  # fmt: skip
