"""``sms-channels relay …``: re-publishing the topics from the event log."""

from __future__ import annotations

from typing import Annotated

import typer

from sms_channels.bootstrap import build_application
from sms_channels.cli.prologue import started
from sms_channels.worker_set import topic_names
from workers.feeds.replay import rebuild_routing, replay_events
from workers.log_relay import RelayStandbyError

relay_app = typer.Typer(help="Re-publish the Kafka topics from the event log.",
                        no_args_is_help=True)  # fmt: skip


@relay_app.callback()
def _group() -> None:
    """Re-publish the Kafka topics from the event log."""


@relay_app.command("replay")
def replay(
    topic: Annotated[str | None, typer.Option(help="One topic (default: all three).")] = None,
    from_position: Annotated[
        int, typer.Option(min=0, help="Re-publish the facts after this log position.")
    ] = 0,
) -> None:
    """Re-publish channel.connected and the lifecycle events after --from-position with
    their first eventIds, and (for the routing topic) the current value of every served
    number. The routing rebuild needs the relay worker stopped (it takes its lock)."""
    settings = started(local=True)
    if not settings.database_url or not settings.kafka_bootstrap_servers:
        typer.echo("DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS are required", err=True)
        raise typer.Exit(code=2)
    names = topic_names(settings)
    if topic not in (None, names.analytics, names.channel_events, names.routing):
        typer.echo(f"unknown topic {topic!r}", err=True)
        raise typer.Exit(code=2)
    application = build_application(settings)
    url, servers = settings.database_url, settings.kafka_bootstrap_servers
    try:
        if topic != names.routing:
            sent = replay_events(application, url, servers, names, only=topic,
                                 from_position=from_position)  # fmt: skip
            typer.echo(f"{sent} events re-published")
        if topic in (None, names.routing):
            values = rebuild_routing(application, url, servers, names.routing)
            typer.echo(f"{values} routing values re-published")
    except RelayStandbyError:
        typer.echo("the channel-feeds relay is running: stop `worker relay` first", err=True)
        raise typer.Exit(code=1) from None
    finally:
        application.close()
