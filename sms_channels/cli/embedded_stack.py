"""The workers that ``sms-channels run`` starts beside the API in one process: the
projections, the relays (analytics, channel feeds), the agents-topic consumer, the provider
reconcile and the registration worker, on the configured Kafka (topics created as
``migrate`` creates them) or, when KAFKA_BOOTSTRAP_SERVERS is unset, on an embedded tansu
broker. They are built by ``build_workers`` as the ``worker …`` commands build them (the
same settings honoured); production runs each as its own ``sms-channels worker …`` process
instead."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from sms_channels.settings import Settings
from sms_channels.worker_set import build_workers, topic_names
from workers.directory_consumer import DirectoryConsumer
from workers.log_relay import LogRelay
from workers.projector import ProjectionThreads
from workers.topics import ensure_topics

log = structlog.get_logger("sms_channels.cli.embedded_stack")


@dataclass(frozen=True)
class EmbeddedWorkers:
    """The running stack: the Kafka bootstrap address, and the workers (for inspection)."""

    servers: str
    projections: ProjectionThreads
    relays: list[LogRelay]


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
        stack.callback(workers.close)
        projections = workers.projections(stop).start()
        stack.callback(projections.join)
        relays = workers.relays()
        consumers: list[LogRelay | DirectoryConsumer] = [*relays, workers.directory()]
        for worker in consumers:
            stack.callback(worker.close)
            _start(stack, worker.run, stop)
        _start(stack, workers.reconciler().run_forever, stop, settings.reconcile_interval_seconds)
        _start(
            stack,
            workers.registration().run_forever,
            stop,
            settings.registration_interval_seconds,
        )
        stack.callback(stop.set)
        yield EmbeddedWorkers(servers, projections, relays)


def _start(stack: ExitStack, run: Callable[..., None], stop: threading.Event, *args: Any) -> None:
    """``run(stop, *args)`` in a daemon thread, joined (up to 10 s) when the stack closes."""
    thread = threading.Thread(target=_loudly(run), args=(stop, *args), daemon=True)
    thread.start()
    stack.callback(thread.join, 10)


def _loudly(run: Callable[..., None]) -> Callable[..., None]:
    """``run`` in a worker thread: an error it does not wait out is logged with its type and
    stops the other workers (as ``ProjectionThreads`` and ``worker relay`` do), instead of
    ending one thread in silence while the API keeps answering."""

    def guarded(stop: threading.Event, *args: Any) -> None:
        try:
            run(stop, *args)
        except Exception:
            log.exception("embedded_worker_failed", worker=getattr(run, "__qualname__", "?"))
            stop.set()

    return guarded
