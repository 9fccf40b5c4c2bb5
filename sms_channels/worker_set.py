"""Wiring of the long-running workers, once: ``build_workers(settings)`` is what
``sms-channels run`` (every worker in one process, beside the API) and each
``sms-channels worker …`` command (one worker per process) build their workers from, so
both honour the same settings (``PROJECTION_BATCH_SIZE``, ``RELAY_BATCH_SIZE``, the topics,
the reconcile and registration intervals). Building a worker opens no connection; running
it does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from domain.application import SmsChannels
from projections.registry import PROJECTIONS
from sms_channels.bootstrap import build_application, registration_poll_seconds
from sms_channels.settings import Settings
from workers.directory_consumer import DirectoryConsumer
from workers.feeds.relay import AnalyticsRelay, ChannelFeedsRelay
from workers.feeds.topics import TopicNames
from workers.following import Wakeup
from workers.leadership import SessionLock
from workers.log_relay import LogRelay

# RUNNING and WorkerHealth are re-exported for the API's /readyz (api may not import workers).
from workers.outage import RUNNING as RUNNING  # noqa: PLC0414 (a re-export)
from workers.outage import WorkerHealth as WorkerHealth  # noqa: PLC0414 (a re-export)
from workers.projector import ProjectionThreads
from workers.reconcile import Reconciler
from workers.registration import RegistrationWorker


def topic_names(settings: Settings) -> TopicNames:
    """The topics the relays publish to (created by ``migrate`` and before a relay starts)."""
    return TopicNames(settings.analytics_topic, settings.channel_events_topic,
                      settings.routing_topic)  # fmt: skip


@dataclass
class WorkerSet:
    """The workers of one deployment, on one application (closed by ``close``).
    ``servers`` is the Kafka bootstrap address (needed by the relays and the directory
    consumer only); ``consumer_options`` tune the directory consumer's group membership."""

    settings: Settings
    application: SmsChannels
    servers: str | None = None
    consumer_options: dict[str, int] = field(default_factory=dict)
    # Each worker's state (running, retrying, restarting), shown by ``/readyz`` under ``run``.
    health: WorkerHealth = field(default_factory=WorkerHealth)
    _locks: list[SessionLock] = field(default_factory=list)

    def projections(
        self, stop: threading.Event, names: Sequence[str] | None = None
    ) -> ProjectionThreads:
        """The named read models' projections (default: all), one thread each, not started."""
        return ProjectionThreads(
            self.application,
            self.settings.database_url or "",
            list(PROJECTIONS) if names is None else names,
            stop,
            self.settings.projection_batch_size,
            self.health,
        )

    def relays(self) -> list[LogRelay]:
        """The analytics relay (``ANALYTICS_TOPIC``) and the channel-feeds relay
        (``CHANNEL_EVENTS_TOPIC``, ``ROUTING_TOPIC``): each keeps its own position and lock."""
        settings, servers = self.settings, self._servers()
        url, size = settings.database_url or "", settings.relay_batch_size
        return [
            AnalyticsRelay(self.application, url, servers, settings.analytics_topic,
                           batch_size=size),
            ChannelFeedsRelay(self.application, url, servers,
                              events_topic=settings.channel_events_topic,
                              routing_topic=settings.routing_topic, batch_size=size),
        ]  # fmt: skip

    def directory(self) -> DirectoryConsumer:
        """The agents-topic consumer (it joins its group when built)."""
        return DirectoryConsumer(
            self.application, self._servers(), self.settings.agents_topic, **self.consumer_options
        )

    def reconciler(self) -> Reconciler:
        """The reconcile worker: one active across processes (its session lock)."""
        pending = timedelta(seconds=self.settings.reconcile_pending_after_seconds)
        return Reconciler(
            self.application, pending_after=pending, leadership=self._leadership("reconcile")
        )

    def registration(self) -> RegistrationWorker:
        """The registration worker: one active across processes (its session lock)."""
        return RegistrationWorker(
            self.application,
            poll_interval_seconds=registration_poll_seconds(self.settings),
            leadership=self._leadership("registration"),
            wakeup=self._wakeup(),
        )

    def _wakeup(self) -> Wakeup | None:
        """The event store's NOTIFY, for a worker to wake on (None in memory)."""
        url = self.settings.database_url
        channel = getattr(self.application.recorder, "channel_name", None)
        if self.settings.persistence != "postgres" or not url or not channel:
            return None
        return Wakeup(url, channel)

    def _leadership(self, name: str) -> Callable[[], bool]:
        """Whether this process is the active ``name`` worker (always, in memory)."""
        url = self.settings.database_url
        if self.settings.persistence != "postgres" or not url:
            return lambda: True
        lock = SessionLock(url, name)
        self._locks.append(lock)
        return lock.held

    def close(self) -> None:
        for lock in self._locks:
            lock.close()
        self.application.close()

    def _servers(self) -> str:
        if not self.servers:
            msg = "KAFKA_BOOTSTRAP_SERVERS is required"
            raise ValueError(msg)
        return self.servers


def build_workers(
    settings: Settings,
    *,
    servers: str | None = None,
    consumer_options: dict[str, int] | None = None,
    application: SmsChannels | None = None,
) -> WorkerSet:
    """The workers of ``settings`` (Kafka at ``servers``, default KAFKA_BOOTSTRAP_SERVERS),
    on ``application`` or on one built from the settings."""
    return WorkerSet(
        settings,
        application or build_application(settings),
        servers or settings.kafka_bootstrap_servers,
        dict(consumer_options or {}),
    )
