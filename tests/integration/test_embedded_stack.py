"""The workers ``sms-channels run`` starts in its own process are built by the same
``build_workers(settings)`` as the ``worker …`` commands: they honour PROJECTION_BATCH_SIZE
and RELAY_BATCH_SIZE, and they catch up with the log (PostgreSQL, Kafka)."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import uuid4

import psycopg

from projections.registry import PROJECTIONS
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.cli.embedded_stack import background_workers
from sms_channels.cli.kafka_broker import EmbeddedBroker
from sms_channels.settings import Settings
from sms_channels.worker_set import build_workers
from tests.support.common import JWT_SECRET, unique_us_number, wait_for
from tests.support.events import write_connection_history
from workers.feeds.relay import FEEDS_RELAY_NAME, RELAY_NAME
from workers.projector import create_schema


def settings_for(url: str, servers: str) -> Settings:
    suffix = uuid4().hex[:8]
    return Settings(
        database_url=url,
        jwt_secret=JWT_SECRET,
        data_dir=Path("/nonexistent"),
        kafka_bootstrap_servers=servers,
        analytics_topic=f"connected-{suffix}",
        channel_events_topic=f"events-{suffix}",
        routing_topic=f"routing-{suffix}",
        agents_topic=f"agents-{suffix}",
        projection_batch_size=7,
        relay_batch_size=9,
    )


def positions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return dict(connection.execute("SELECT name, position FROM sms_projection_tracking"))


def test_the_embedded_stack_honours_the_batch_sizes_and_catches_up(
    isolated_database_url: str, kafka_broker: EmbeddedBroker
) -> None:
    url = isolated_database_url
    settings = settings_for(url, kafka_broker.bootstrap_servers)
    create_schema(url)
    app = build_application(settings.model_copy(update={"create_tables": True}), SandboxProvider())
    write_connection_history(app, "acc_stack", [unique_us_number() for _ in range(6)])
    head = app.current_position()
    app.close()
    followers = {*PROJECTIONS, RELAY_NAME, FEEDS_RELAY_NAME}

    with background_workers(settings) as running:
        assert {worker.batch_size for worker in running.projections.workers} == {7}
        assert {relay.batch_size for relay in running.relays} == {9}
        # 46 events in batches of 7 and 9: every read model and relay reaches the head.
        wait_for(
            lambda: (
                (found := positions(url)).keys() >= followers
                and all(found[name] >= head for name in followers)
            ),
            timeout=60,
        )


def test_the_worker_commands_build_the_same_workers_from_the_same_settings() -> None:
    settings = settings_for("postgresql://unused", "localhost:1").model_copy(
        update={"persistence": "memory"}
    )
    workers = build_workers(settings, application=build_application(settings, SandboxProvider()))
    try:
        projections = workers.projections(threading.Event(), ["channels_table"])
        assert [w.batch_size for w in projections.workers] == [7]
        assert [r.batch_size for r in workers.relays()] == [9, 9]
    finally:
        workers.close()
