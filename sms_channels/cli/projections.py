"""``sms-channels projections …`` and the projection worker command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from domain.application import SmsChannels
from domain.errors import DomainError
from projections.registry import PROJECTIONS
from sms_channels.cli.prologue import application_of, required, started
from sms_channels.cli.signals import stop_on_signals
from sms_channels.settings import Settings
from sms_channels.worker_set import build_workers
from workers.projector import rebuild, skip_event

projections_app = typer.Typer(help="Read models: rebuild and inspect.", no_args_is_help=True)


def _names(name: str | None) -> list[str]:
    if name is None:
        return list(PROJECTIONS)
    if name not in PROJECTIONS:
        typer.echo(f"unknown projection {name!r}; known: {', '.join(PROJECTIONS)}", err=True)
        raise typer.Exit(code=2)
    return [name]


@contextmanager
def _operator_session() -> Iterator[tuple[Settings, str, SmsChannels]]:
    """Settings from the environment, logging, the database URL and the application
    (closed afterwards): what every operator command starts with."""
    settings = started()
    url = required(settings.database_url, "DATABASE_URL")
    with application_of(settings) as application:
        yield settings, url, application


@projections_app.command("rebuild")
def rebuild_command(
    name: Annotated[str, typer.Argument(help="Read model: " + ", ".join(PROJECTIONS))],
) -> None:
    """Rebuild a read model from the event log beside the live one, then swap them."""
    (name,) = _names(name)
    with _operator_session() as (settings, url, application):
        position = rebuild(application, name, url, settings.projection_batch_size)
    typer.echo(f"{name} rebuilt up to position {position}")


@projections_app.command("skip")
def skip_command(
    name: Annotated[str, typer.Argument(help="Read model: " + ", ".join(PROJECTIONS))],
    position: Annotated[int, typer.Option(help="The position it stopped at (see /readyz).")],
    reason: Annotated[str, typer.Option(help="Why it may go on without that event.")],
    by: Annotated[
        str, typer.Option(envvar="USER", help="Who decides (recorded in the audit trail).")
    ] = "operator",
) -> None:
    """Let a read model stopped on a poison event go on without it: recorded as an audited
    fact in the event log, the connection's row marked for attention. See README."""
    (name,) = _names(name)
    with _operator_session() as (_, url, application):
        try:
            decision = skip_event(
                application, url, name, position=position, reason=reason, decided_by=by
            )
        except (ValueError, DomainError) as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(code=1) from None
    typer.echo(f"{name} goes on past position {position} (decision {decision})")


def run_projection_workers(name: str | None, settings: Settings) -> None:
    """Run the named projection (default: all) until SIGTERM/SIGINT; each finishes its
    current batch. A projection that crashes is restarted (after a backoff) in this
    process; one stopped at a poison event waits there for the operator (``skip``).
    ``settings``: as :func:`~sms_channels.cli.prologue.started` gives them (logging on)."""
    required(settings.database_url, "DATABASE_URL")
    names = _names(name)
    stop = stop_on_signals()
    workers = build_workers(settings)
    threads = workers.projections(stop, names).start()
    while not stop.wait(1.0):
        pass
    threads.join()
    workers.close()
