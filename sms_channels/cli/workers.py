"""``sms-channels worker …``: the long-running workers, one process each."""

from __future__ import annotations

from typing import Annotated

import typer

from sms_channels.cli.projections import run_projection_workers
from sms_channels.cli.prologue import required, started
from sms_channels.cli.signals import stop_on_signals
from sms_channels.worker_set import build_workers, topic_names
from workers.feeds.topics import ensure_topics
from workers.outage import supervise

worker_app = typer.Typer(help="Long-running workers (one process each).", no_args_is_help=True)


@worker_app.command("reconcile")
def reconcile(
    once: Annotated[bool, typer.Option(help="Run one pass, then exit.")] = False,
    interval: Annotated[
        float | None, typer.Option(help="Seconds between passes (RECONCILE_INTERVAL_SECONDS).")
    ] = None,
) -> None:
    """Poll the SMS provider: finish or fail requests left pending past
    RECONCILE_PENDING_AFTER_SECONDS, connect or fail finished hosting orders, record
    numbers the provider took back, release numbers no live connection holds."""
    settings = started(local=True)
    workers = build_workers(settings)
    try:
        reconciler = workers.reconciler()
        if once:
            if reconciler.run_once().standby:
                typer.echo("another reconcile worker is active: this pass did nothing", err=True)
            return
        interval_seconds = interval or settings.reconcile_interval_seconds
        reconciler.run_forever(stop_on_signals(), interval_seconds)
    finally:
        workers.close()


@worker_app.command("registration")
def registration() -> None:
    """Carry submitted 10DLC registrations to the provider (brand → campaign → number),
    each step recorded before the next; poll levels in flight. SIGTERM: stop after the
    current step."""
    settings = started(local=True)
    workers = build_workers(settings)
    stop = stop_on_signals()
    try:
        workers.registration().run_forever(stop, settings.registration_interval_seconds)
    finally:
        workers.close()


@worker_app.command("projections")
def projections(
    name: Annotated[str | None, typer.Argument(help="One read model (default: all).")] = None,
) -> None:
    """Keep the read models up to date (SIGTERM: finish the current batch, exit)."""
    run_projection_workers(name, started(local=True))


@worker_app.command("relay")
def relay() -> None:
    """Publish to Kafka from the event log (at least once): channel.connected on
    ANALYTICS_TOPIC, the lifecycle events on CHANNEL_EVENTS_TOPIC and the routing feed on
    ROUTING_TOPIC (two relays, one thread each, each with its own position and lock)."""
    settings = started(local=True)
    required(settings.database_url, "DATABASE_URL")
    servers = required(settings.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS")
    stop = stop_on_signals()
    # Before the first send: a topic the broker created on its own would not be compacted.
    ensure_topics(servers, topic_names(settings))
    workers = build_workers(settings, servers=servers)
    relays = workers.relays()
    # Each relay supervised: one that crashes is restarted after a backoff, the other goes on.
    threads = [
        supervise(f"relay:{r.name}", r.run, stop, workers.health, on_crash=r.close) for r in relays
    ]
    try:
        stop.wait()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for relay_worker in relays:
            relay_worker.close()
        workers.close()


@worker_app.command("directory")
def directory() -> None:
    """Consume the agents topic into the agent directory."""
    settings = started(local=True)
    servers = required(settings.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS")
    stop = stop_on_signals()
    workers = build_workers(settings, servers=servers)
    consumer = workers.directory()
    try:
        supervise("directory", consumer.run, stop, workers.health).join()
    finally:
        consumer.close()
        workers.close()
