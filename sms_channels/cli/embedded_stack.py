"""The workers that ``sms-channels run`` starts beside the API in one process: the
projections, the relays (analytics, channel feeds), the agents-topic consumer, the provider
reconcile and the registration worker, on the configured Kafka (topics created as
``migrate`` creates them) or, when KAFKA_BOOTSTRAP_SERVERS is unset, on an embedded tansu
broker. They are built by ``build_workers`` as the ``worker …`` commands build them (the
same settings honoured); production runs each as its own ``sms-channels worker …`` process
instead.

Each worker runs supervised (``workers.outage.supervise``): a database or broker outage is
waited out inside its loop, and a worker that crashes anyway is restarted after a backoff;
no worker's failure stops the others or the process. Their states are in ``health``, which
``run`` hands to the API's ``/readyz``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial

from sms_channels.settings import Settings
from sms_channels.worker_set import build_workers, topic_names
from workers.feeds.topics import ensure_topics
from workers.log_relay import LogRelay
from workers.outage import WorkerHealth, supervise
from workers.projector import ProjectionThreads


@dataclass(frozen=True)
class EmbeddedWorkers:
    """The running stack: the Kafka bootstrap address, the workers (for inspection) and
    their states."""

    servers: str
    projections: ProjectionThreads
    relays: list[LogRelay]
    health: WorkerHealth


@contextmanager
def background_workers(settings: Settings) -> Iterator[EmbeddedWorkers]:
    """Start the workers; yield what runs; stop them all on exit."""
    stop = threading.Event()
    with ExitStack() as stack:
        servers = settings.kafka_bootstrap_servers
        group_options: dict[str, int] = {}
        if servers is None:
            from sms_channels.cli.kafka_broker import EmbeddedBroker  # noqa: PLC0415

            broker = EmbeddedBroker().start()
            stack.callback(broker.stop)
            servers = broker.bootstrap_servers
            # tansu completes a group join only after the group's rebalance delay, which
            # follows max_poll_interval_ms: keep it short so the consumer starts at once.
            group_options = {
                "max_poll_interval_ms": 3000,
                "session_timeout_ms": 3000,
                "heartbeat_interval_ms": 1000,
            }
        ensure_topics(servers, topic_names(settings))
        workers = build_workers(settings, servers=servers, consumer_options=group_options)
        health = workers.health
        stack.callback(workers.close)
        projections = workers.projections(stop).start()
        stack.callback(projections.join)
        relays = workers.relays()
        for relay in relays:
            stack.callback(relay.close)
            _start(stack, f"relay:{relay.name}", relay.run, stop, health, relay.close)
        directory = workers.directory()
        stack.callback(directory.close)
        _start(stack, "directory", directory.run, stop, health)
        reconcile = partial(
            workers.reconciler().run_forever, interval_seconds=settings.reconcile_interval_seconds
        )
        _start(stack, "reconcile", reconcile, stop, health)
        registration = partial(
            workers.registration().run_forever,
            interval_seconds=settings.registration_interval_seconds,
        )
        _start(stack, "registration", registration, stop, health)
        stack.callback(stop.set)
        yield EmbeddedWorkers(servers, projections, relays, health)


def _start(
    stack: ExitStack,
    name: str,
    run: Callable[[threading.Event], None],
    stop: threading.Event,
    health: WorkerHealth,
    on_crash: Callable[[], None] = lambda: None,
) -> None:
    """``run(stop)`` supervised in a daemon thread, joined (up to 10 s) when the stack
    closes."""
    thread = supervise(name, run, stop, health, on_crash=on_crash)
    stack.callback(thread.join, 10)
