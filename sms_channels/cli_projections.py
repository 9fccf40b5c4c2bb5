"""``sms-channels projections …`` and the projection worker command."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from projections.registry import PROJECTIONS
from sms_channels.bootstrap import build_application
from sms_channels.logs import configure_logging
from sms_channels.settings import Settings
from workers.projector import ProjectionThreads, rebuild

projections_app = typer.Typer(help="Read models: rebuild and inspect.", no_args_is_help=True)


def _database_url(settings: Settings) -> str:
    if not settings.database_url:
        typer.echo("DATABASE_URL is required", err=True)
        raise typer.Exit(code=2)
    return settings.database_url


def _names(name: str | None) -> list[str]:
    if name is None:
        return list(PROJECTIONS)
    if name not in PROJECTIONS:
        typer.echo(f"unknown projection {name!r}; known: {', '.join(PROJECTIONS)}", err=True)
        raise typer.Exit(code=2)
    return [name]


@projections_app.command("rebuild")
def rebuild_command(
    name: Annotated[str, typer.Argument(help="Read model: " + ", ".join(PROJECTIONS))],
) -> None:
    """Rebuild a read model from the event log beside the live one, then swap them."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    url = _database_url(settings)
    (name,) = _names(name)
    application = build_application(settings)
    try:
        position = rebuild(application, name, url, settings.projection_batch_size)
    finally:
        application.close()
    typer.echo(f"{name} rebuilt up to position {position}")


def run_projection_workers(name: str | None, settings: Settings) -> None:
    """Run the named projection (default: all) until SIGTERM/SIGINT; each finishes its
    current batch. Exits non-zero when a projection stopped on an error."""
    configure_logging(settings.log_level, settings.log_format)
    url = _database_url(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    application = build_application(settings)
    threads = ProjectionThreads(
        application, url, _names(name), stop, settings.projection_batch_size
    ).start()
    while not stop.wait(1.0):
        pass
    threads.join()
    application.close()
    if threads.errors:
        raise typer.Exit(code=1)
