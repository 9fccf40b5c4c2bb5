"""The agents-topic consumer over a real Kafka-protocol broker and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.service.directory import find_agent
from providers.sandbox import SandboxProvider
from sms_channels.cli.kafka_broker import EmbeddedBroker
from sms_channels.database import eventsourcing_env
from sms_channels.settings import Settings
from tests.support.common import unique_account, wait_for
from workers.directory_consumer import GROUP_ID, DirectoryConsumer

# tansu completes a group join only after the rebalance delay: keep it short in tests.
FAST_GROUP = {
    "max_poll_interval_ms": 3000,
    "session_timeout_ms": 3000,
    "heartbeat_interval_ms": 1000,
}


def upserted(account: str, agent: str, kb: str | None = "kb_1") -> dict[str, Any]:
    return {
        "type": "agent.upserted",
        "eventId": uuid.uuid4().hex,
        "occurredAt": "2026-11-27T10:00:00Z",
        "accountId": account,
        "agentId": agent,
        "workspaceId": "ws",
        "workspaceName": "Support",
        "name": "Ava",
        "knowledgeBaseId": kb,
        "knowledgeBaseName": kb and "Help center",
    }


@pytest.fixture
def topic() -> str:
    return f"agents_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def producer(kafka_broker: EmbeddedBroker) -> Iterator[KafkaProducer]:
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers, acks="all")
    yield producer
    producer.close()


def send(producer: KafkaProducer, topic: str, value: bytes, key: str = "agent") -> None:
    producer.send(topic, key=key.encode(), value=value).get(timeout=10)


def consumer_for(app: SmsChannels, broker: EmbeddedBroker, topic: str) -> DirectoryConsumer:
    return DirectoryConsumer(app, broker.bootstrap_servers, topic, **FAST_GROUP)


def committed(broker: EmbeddedBroker, topic: str) -> int:
    """Messages committed by the directory's group, over all partitions of ``topic``."""
    probe = KafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers, group_id=GROUP_ID, enable_auto_commit=False
    )
    try:
        partitions = probe.partitions_for_topic(topic) or set()
        return sum(probe.committed(TopicPartition(topic, p)) or 0 for p in partitions)
    finally:
        probe.close()


def drain(consumer: DirectoryConsumer, count: int) -> None:
    handled = [0]

    def more() -> bool:
        handled[0] += consumer.poll_once(timeout_ms=200)
        return handled[0] >= count

    wait_for(more, timeout=30)


def test_upserted_and_deleted_agents_reach_the_directory(
    pg_app: SmsChannels, kafka_broker: EmbeddedBroker, producer: KafkaProducer, topic: str
) -> None:
    account = unique_account()
    send(producer, topic, orjson.dumps(upserted(account, "agent_1")))
    send(producer, topic, orjson.dumps(upserted(account, "agent_2")), key="agent_2")
    send(
        producer,
        topic,
        orjson.dumps(
            {
                "type": "agent.deleted",
                "eventId": "e3",
                "occurredAt": "2026-11-27T10:01:00Z",
                "accountId": account,
                "agentId": "agent_2",
            }
        ),
        key="agent_2",
    )
    consumer = consumer_for(pg_app, kafka_broker, topic)
    try:
        drain(consumer, 3)
    finally:
        consumer.close()
    assert find_agent(pg_app, account, "agent_1") == AgentInfo(
        "ws", "Support", "Ava", "kb_1", "Help center"
    )
    assert find_agent(pg_app, account, "agent_2") is None
    assert committed(kafka_broker, topic) == 3


def test_a_malformed_message_goes_to_the_dead_letter_topic_and_the_next_is_applied(
    pg_app: SmsChannels, kafka_broker: EmbeddedBroker, producer: KafkaProducer, topic: str
) -> None:
    account = unique_account()
    send(producer, topic, b"{not json")
    send(producer, topic, orjson.dumps({"type": "agent.upserted", "accountId": account}))
    send(producer, topic, orjson.dumps(upserted(account, "agent_1")))
    consumer = consumer_for(pg_app, kafka_broker, topic)
    try:
        drain(consumer, 3)
    finally:
        consumer.close()
    assert find_agent(pg_app, account, "agent_1") is not None
    dead = KafkaConsumer(
        topic + ".dlq",
        bootstrap_servers=kafka_broker.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    values = [message.value for message in dead]
    dead.close()
    assert values[:2] == [
        b"{not json",
        orjson.dumps({"type": "agent.upserted", "accountId": account}),
    ]


class FlakySmsChannels(SmsChannels):
    """The real application, whose first save fails as if the database went away."""

    name = "SmsChannels"  # the same tables as the real application
    failures = 1

    def save(self, *objects: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        return super().save(*objects, **kwargs)


def test_a_failed_write_is_not_committed_and_the_message_is_read_again(
    database_url: str,
    pg_app: SmsChannels,
    kafka_broker: EmbeddedBroker,
    producer: KafkaProducer,
    topic: str,
) -> None:
    account = unique_account()
    app = FlakySmsChannels(
        SandboxProvider(), env=eventsourcing_env(Settings(database_url=database_url))
    )
    send(producer, topic, orjson.dumps(upserted(account, "agent_1")))
    consumer = consumer_for(app, kafka_broker, topic)
    try:
        with pytest.raises(ConnectionError):
            wait_for(lambda: consumer.poll_once(timeout_ms=200) > 0, timeout=30)
        assert committed(kafka_broker, topic) == 0
        drain(consumer, 1)
    finally:
        consumer.close()
        app.close()
    assert find_agent(pg_app, account, "agent_1") is not None
    assert committed(kafka_broker, topic) == 1
