"""B4: command → visible in the channels table, command → ``channel.connected``
consumed from Kafka, and command → the number's routing value consumed from the routing
feed, p50/p99 at a steady 100 connect commands/s, with the API, the
projections worker and the relay as separate processes. Baseline: one PostgreSQL commit
(an insert of one event-sized row), measured in the same run. Also B6's worker side: RSS
of the worker processes (projections with the audit trail, relay with the routing feed,
registration) before and after. Targets (raised by issue 19): projection p99 ≤
20 ms, Kafka p99 ≤ 100 ms, routing value p99 ≤ 100 ms.

    .venv/bin/python -m bench.b4_latency [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import orjson
import psycopg
from eventsourcing.cipher import AESCipher
from kafka import KafkaConsumer, TopicPartition

from bench.common import (
    JWT_SECRET,
    B4Measured,
    B4Result,
    api_process,
    fresh_database,
    rss_kib,
    summary_ms,
    write_result,
)
from bench.pinning import pin_clients, service_command
from sms_channels.cli.kafka_broker import EmbeddedBroker
from sms_channels.tokens import mint_token
from tests.support.common import unique_us_number

RATE = 100  # commands per second
TOPIC = "channel.connected"
ROUTING_TOPIC = "sms.routing"


CIPHER_KEY = AESCipher.create_key(32)


def worker(command: str, url: str, broker: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "CIPHER_KEY": CIPHER_KEY,
        "LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        service_command([sys.executable, "-m", "sms_channels.cli", "worker", command]),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def commit_latency(url: str, samples: int = 200) -> list[float]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial, state bytea)")
        latencies = []
        for _ in range(samples):
            started = time.perf_counter()
            connection.execute("INSERT INTO bench_commit (state) VALUES (%s)", (os.urandom(400),))
            latencies.append(time.perf_counter() - started)
    return latencies


class ProjectionWatcher(threading.Thread):
    """Records when the channels table's position passes each value (LISTEN)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.seen: list[tuple[float, int]] = []

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute("LISTEN sms_projection_progress")
            while not self.stop.is_set():
                for note in connection.notifies(timeout=0.2):
                    name, _, position = note.payload.rpartition(":")
                    if name == "channels_table":
                        self.seen.append((time.perf_counter(), int(position)))

    def visible_at(self, position: int) -> float | None:
        return next((t for t, p in self.seen if p >= position), None)


class KafkaWatcher(threading.Thread):
    """Records when each channelId's first message on ``topic`` is consumed (tombstones,
    which carry no channelId, are skipped)."""

    def __init__(self, servers: str, topic: str = TOPIC) -> None:
        super().__init__(daemon=True)
        self.servers, self.topic, self.stop = servers, topic, threading.Event()
        self.received: dict[str, float] = {}

    def run(self) -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=self.servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
        )
        partitions = None
        while not partitions and not self.stop.is_set():
            consumer.topics()  # refresh metadata until the relay has created the topic
            partitions = consumer.partitions_for_topic(self.topic)
            time.sleep(0.05)
        consumer.assign([TopicPartition(self.topic, p) for p in partitions or ()])
        while not self.stop.is_set():
            for batch in consumer.poll(timeout_ms=50).values():
                now = time.perf_counter()
                for message in batch:
                    if message.value is not None:
                        self.received.setdefault(orjson.loads(message.value)["channelId"], now)
        consumer.close()


def main() -> None:
    pin_clients()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 5 if args.quick else 30
    broker = EmbeddedBroker().start()
    try:
        with fresh_database() as url:
            workers = [
                worker("projections", url, broker.bootstrap_servers),
                worker("relay", url, broker.bootstrap_servers),
                # Idle at this load (no registration is submitted): B6 measures its RSS.
                worker("registration", url, broker.bootstrap_servers),
            ]
            try:
                measured = measure(url, broker.bootstrap_servers, workers, seconds)
            finally:
                for process in workers:
                    process.terminate()
                    process.wait(timeout=30)
            result: B4Result = {**measured, "baseline_commit": summary_ms(commit_latency(url))}
    finally:
        broker.stop()
    write_result("B4-latency", result)


def measure(url: str, servers: str, workers: list[Any], seconds: int) -> B4Measured:
    token = mint_token(JWT_SECRET, account_id="acc_b4", user_id="u")
    projection, kafka = ProjectionWatcher(url), KafkaWatcher(servers)
    routing = KafkaWatcher(servers, ROUTING_TOPIC)
    projection.start()
    kafka.start()
    routing.start()
    sent: list[tuple[float, int, str]] = []
    lock = threading.Lock()
    with api_process(url, CIPHER_KEY=CIPHER_KEY) as (base, _):
        rss_before = {p.pid: rss_kib(p.pid) for p in workers}
        total = RATE * seconds
        started = time.perf_counter() + 0.5
        schedule = iter(range(total))

        def sender() -> None:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as http:
                while True:
                    with lock:
                        index = next(schedule, None)
                    if index is None:
                        return
                    delay = started + index / RATE - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)  # pacing the load, not waiting for a result
                    response = http.post(
                        "/channels/sms/connect",
                        json={
                            "mode": "new",
                            "countryCode": "US",
                            "phoneNumber": unique_us_number(),
                            "workspaceId": "ws",
                            "agentId": "agent",
                        },
                    )
                    done = time.perf_counter()
                    response.raise_for_status()
                    body = response.json()
                    with lock:
                        sent.append((done, body["position"], body["id"]))

        senders = [threading.Thread(target=sender) for _ in range(4)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline and (
            len(kafka.received) < len(sent)
            or len(routing.received) < len(sent)
            or projection.visible_at(max(p for _, p, _ in sent)) is None
        ):
            time.sleep(0.05)
        rss_after = {p.pid: rss_kib(p.pid) for p in workers}
    projection.stop.set()
    kafka.stop.set()
    routing.stop.set()
    to_routing = [max(0.0, routing.received.get(c, float("inf")) - t) for t, _, c in sent]
    to_row = [max(0.0, (projection.visible_at(p) or float("inf")) - t) for t, p, _ in sent]
    to_kafka = [max(0.0, kafka.received.get(c, float("inf")) - t) for t, _, c in sent]
    row, message, value = summary_ms(to_row), summary_ms(to_kafka), summary_ms(to_routing)
    return {
        "commands": len(sent),
        "rate_per_s": RATE,
        "command_to_row": row,
        "command_to_kafka": message,
        "command_to_routing_value": value,
        "projection_target_met": row["p99_ms"] <= 20,
        "kafka_target_met": message["p99_ms"] <= 100,
        "routing_target_met": value["p99_ms"] <= 100,
        "B6_worker_rss_kib": {"before": rss_before, "after": rss_after},
    }


if __name__ == "__main__":
    main()
