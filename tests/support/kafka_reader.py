"""Reading a topic of the test broker from the beginning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer

from sms_channels.cli.kafka_broker import EmbeddedBroker
from tests.support.common import wait_for


class Reader:
    """Reads a topic from the beginning (short poll intervals: tansu completes a group join
    only after the group's rebalance delay, which follows max_poll_interval_ms)."""

    def __init__(self, broker: EmbeddedBroker, topic: str) -> None:
        self.broker, self.topic = broker, topic
        self.messages: list[Any] = []
        self._consumer: KafkaConsumer | None = None

    def poll(self) -> list[Any]:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                self.topic,
                bootstrap_servers=self.broker.bootstrap_servers,
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                max_poll_interval_ms=3000,
                session_timeout_ms=3000,
                heartbeat_interval_ms=1000,
            )
        for batch in self._consumer.poll(timeout_ms=200).values():
            self.messages += batch
        return self.messages

    def read_until(self, count: int, timeout: float = 30) -> list[Any]:
        wait_for(lambda: len(self.poll()) >= count, timeout=timeout)
        return self.messages

    def wait_for(self, condition: Callable[[list[Any]], bool], timeout: float = 30) -> list[Any]:
        """The messages read once ``condition`` holds for them."""
        wait_for(lambda: condition(self.poll()), timeout=timeout)
        return self.messages

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
