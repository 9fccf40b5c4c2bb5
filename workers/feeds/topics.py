"""The topics the relays publish to, created by ``sms-channels migrate`` and ``run``.

The routing feed is created with ``cleanup.policy=compact`` (Kafka keeps the latest value
of each number, and drops a number after its tombstone); the lifecycle and analytics topics
keep the broker's default (delete) policy. Partitions and replication come from the
broker's defaults (``num.partitions``, ``default.replication.factor``). A topic that
already exists is left as it is (its configuration is the operator's).

The embedded broker (tansu, memory storage) accepts the compact policy and answers the
creation without error, but does not compact: consumers see every value and tombstone,
which is what a compacted topic shows between two cleanings anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

log = structlog.get_logger("workers.feeds.topics")

COMPACTED = {"cleanup.policy": "compact"}
ADMIN_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class TopicNames:
    analytics: str
    channel_events: str
    routing: str

    def all(self) -> tuple[str, str, str]:
        return self.analytics, self.channel_events, self.routing

    def new_topics(self) -> list[NewTopic]:
        """What to create: the routing feed compacted, the others with the defaults."""
        return [
            NewTopic(self.analytics, num_partitions=-1, replication_factor=-1),
            NewTopic(self.channel_events, num_partitions=-1, replication_factor=-1),
            NewTopic(self.routing, -1, -1, topic_configs=COMPACTED),
        ]


def ensure_topics(bootstrap_servers: str, names: TopicNames) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=ADMIN_TIMEOUT_MS
    )
    created = []
    try:
        for topic in names.new_topics():
            try:
                admin.create_topics([topic])
            except TopicAlreadyExistsError:
                continue
            created.append(topic.name)
    finally:
        admin.close()
    log.info("kafka_topics_ready", created=created)
    return created
