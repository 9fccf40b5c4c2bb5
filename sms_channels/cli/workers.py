"""``sms-channels worker …``: the long-running workers, one process each."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sms_channels.cli.projections import run_projection_workers
from sms_channels.cli.signals import stop_on_signals
from sms_channels.logs import configure_logging
from sms_channels.settings import Settings
from sms_channels.worker_set import build_workers, topic_names
from workers.feeds.topics import ensure_topics
from workers.outage import supervise

worker_app = typer.Typer(help="Long-running workers (one process each).", no_args_is_help=True)


def with_local_defaults(
    settings: Settings, *, cipher: bool = True, webhook_secret: bool = False
) -> Settings:
    """``settings`` completed the way ``sms-channels run`` completes them, so that a worker
    or the sandbox CLI started beside ``run`` reaches the same data: when DATABASE_URL is
    unset, the embedded PostgreSQL under DATA_DIR (attached, not restarted: it stays up
    while ``run`` holds it) and its generated cipher key; the sandbox webhook secret when
    unset. Production sets every value, and then nothing is generated."""
    update: dict[str, Any] = {}
    embedded = settings.persistence == "postgres" and settings.database_url is None
    if embedded:
        from sms_channels.cli.embedded import start_embedded_postgres  # noqa: PLC0415

        update["database_url"] = start_embedded_postgres(settings.data_dir)
    # The generated cipher key belongs to the embedded database: with a configured
    # DATABASE_URL the operator configures CIPHER_KEY too (never a key from ./.data).
    wants_cipher = cipher and embedded and settings.cipher_key is None
    wants_secret = webhook_secret and settings.sandbox_webhook_secret is None
    if wants_cipher or wants_secret:
        from sms_channels.cli.embedded import load_or_create_secrets  # noqa: PLC0415

        dev = load_or_create_secrets(settings.data_dir)
        if wants_cipher:
            update["cipher_key"] = dev.cipher_key
        if wants_secret:
            update["sandbox_webhook_secret"] = dev.sandbox_webhook_secret
    return Settings(**{**settings.model_dump(), **update}) if update else settings


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
    settings = with_local_defaults(Settings())
    configure_logging(settings.log_level, settings.log_format)
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
    settings = with_local_defaults(Settings())
    configure_logging(settings.log_level, settings.log_format)
    workers = build_workers(settings)
    stop = stop_on_signals()
    try:
        workers.registration().run_forever(stop, settings.registration_interval_seconds)
    finally:
        workers.close()


def _required(value: str | None, name: str) -> str:
    if not value:
        typer.echo(f"{name} is required", err=True)
        raise typer.Exit(code=2)
    return value


@worker_app.command("projections")
def projections(
    name: Annotated[str | None, typer.Argument(help="One read model (default: all).")] = None,
) -> None:
    """Keep the read models up to date (SIGTERM: finish the current batch, exit)."""
    run_projection_workers(name, with_local_defaults(Settings()))


@worker_app.command("relay")
def relay() -> None:
    """Publish to Kafka from the event log (at least once): channel.connected on
    ANALYTICS_TOPIC, the lifecycle events on CHANNEL_EVENTS_TOPIC and the routing feed on
    ROUTING_TOPIC (two relays, one thread each, each with its own position and lock)."""
    settings = with_local_defaults(Settings())
    configure_logging(settings.log_level, settings.log_format)
    _required(settings.database_url, "DATABASE_URL")
    servers = _required(settings.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS")
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
    settings = with_local_defaults(Settings())
    configure_logging(settings.log_level, settings.log_format)
    servers = _required(settings.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS")
    stop = stop_on_signals()
    workers = build_workers(settings, servers=servers)
    consumer = workers.directory()
    try:
        supervise("directory", consumer.run, stop, workers.health).join()
    finally:
        consumer.close()
        workers.close()
