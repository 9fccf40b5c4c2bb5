"""Prometheus metrics: request latency and outcomes by route template (never by raw path,
query or body), projection position and lag. Labels hold only route templates, methods,
status codes and projection names: no compliance value can reach them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from projections.tracking import TrackingState


class ProjectionCollector(Collector):
    """Reads each projection's tracking row at scrape time."""

    def __init__(self, read: Callable[[], tuple[int, list[TrackingState]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        head, states = self.read()
        position = GaugeMetricFamily(
            "sms_projection_position", "Last event-log position applied", labels=["projection"]
        )
        lag = GaugeMetricFamily(
            "sms_projection_lag_events", "Notifications not yet applied", labels=["projection"]
        )
        stopped = GaugeMetricFamily(
            "sms_projection_stopped",
            "1 when the projection stopped on an error",
            labels=["projection"],
        )
        stopped_at = GaugeMetricFamily(
            "sms_projection_stopped_position",
            "The event-log position a stopped projection stopped at (0 when running)",
            labels=["projection"],
        )
        log_head = GaugeMetricFamily("sms_event_log_position", "Newest notification id")
        log_head.add_metric([], head)
        # A rebuild's staging row is not a read model: a killed rebuild must not show as lag.
        for state in (s for s in states if not s.is_rebuild):
            position.add_metric([state.name], state.position)
            lag.add_metric([state.name], max(0, head - state.position))
            stopped.add_metric([state.name], 1 if state.error else 0)
            stopped_at.add_metric([state.name], (state.error_position or 0) if state.error else 0)
        yield from (log_head, position, lag, stopped, stopped_at)


class Metrics:
    """The app's registry and instruments."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "sms_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    def add_projections(self, read: Callable[[], tuple[int, list[TrackingState]]]) -> None:
        self.registry.register(ProjectionCollector(read))
