"""The workers that ``sms-channels run`` starts beside the API in one process: the
projections, the relays (analytics, channel feeds), the agents-topic consumer, the provider
reconcile and the registration worker, on the configured Kafka (topics created as
``migrate`` creates them) or, when KAFKA_BOOTSTRAP_SERVERS is unset, on an embedded tansu
broker. Production runs each as its own ``sms-channels worker …`` process instead."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

import structlog

from projections.registry import PROJECTIONS
from sms_channels.bootstrap import build_application, registration_poll_seconds
from sms_channels.relays import relays, topic_names
from sms_channels.settings import Settings
from workers.directory_consumer import DirectoryConsumer
from workers.log_relay import LogRelay
from workers.projector import ProjectionThreads
from workers.reconcile import Reconciler
from workers.registration import RegistrationWorker
from workers.topics import ensure_topics

log = structlog.get_logger("sms_channels.embedded_stack")


@contextmanager
def background_workers(settings: Settings) -> Iterator[str]:
    """Start the workers; yield the Kafka bootstrap address; stop them all on exit."""
    url = settings.database_url or ""
    stop = threading.Event()
    with ExitStack() as stack:
        servers = settings.kafka_bootstrap_servers
        group_options: dict[str, int] = {}
        if servers is None:
            from sms_channels.kafka_broker import EmbeddedBroker  # noqa: PLC0415

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
        application = build_application(settings)
        stack.callback(application.close)
        projections = ProjectionThreads(application, url, list(PROJECTIONS), stop).start()
        stack.callback(projections.join)
        consumer = DirectoryConsumer(application, servers, settings.agents_topic, **group_options)
        workers: list[LogRelay | DirectoryConsumer] = [*relays(application, settings, servers)]
        for worker in (*workers, consumer):
            stack.callback(worker.close)
            thread = threading.Thread(target=_loudly(worker.run), args=(stop,), daemon=True)
            thread.start()
            stack.callback(thread.join, 10)
        reconciler = Reconciler(
            application, pending_after=timedelta(seconds=settings.reconcile_pending_after_seconds)
        )
        thread = threading.Thread(
            target=_loudly(reconciler.run_forever),
            args=(stop, settings.reconcile_interval_seconds),
            daemon=True,
        )
        thread.start()
        stack.callback(thread.join, 10)
        registrations = RegistrationWorker(
            application, poll_interval_seconds=registration_poll_seconds(settings)
        )
        thread = threading.Thread(
            target=_loudly(registrations.run_forever),
            args=(stop, settings.registration_interval_seconds),
            daemon=True,
        )
        thread.start()
        stack.callback(thread.join, 10)
        stack.callback(stop.set)
        yield servers


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
