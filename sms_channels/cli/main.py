"""``sms-channels``: the one command-line entry point."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from sms_channels.bootstrap import build_application
from sms_channels.cli.audit import audit_app
from sms_channels.cli.embedded_stack import background_workers
from sms_channels.cli.preflight import preflight_app
from sms_channels.cli.projections import projections_app
from sms_channels.cli.prologue import application_of, completed, environment_settings, started
from sms_channels.cli.relay import relay_app
from sms_channels.cli.sandbox import sandbox_app
from sms_channels.cli.workers import worker_app
from sms_channels.settings import InsecureSettingsError, Settings
from sms_channels.tokens import WORKSPACE_ADMIN, mint_token
from sms_channels.worker_set import topic_names
from workers.feeds.topics import ensure_topics
from workers.outage import WorkerHealth
from workers.projector import create_schema

app = typer.Typer(help="SMS channels service.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(worker_app, name="worker")
app.add_typer(relay_app, name="relay")
app.add_typer(audit_app, name="audit")
app.add_typer(preflight_app, name="preflight")

TOUR = """
SMS channels service on http://{host}:{port}  (OpenAPI UI: http://{host}:{port}/docs)

Console: http://{host}:{port}/app/#token={token}
Database: {database}    Kafka: {kafka} (topics {topics})

A development token (Workspace Admin of account acc_demo, valid 24 h):

  export TOKEN={token}

Try it:

  curl -s -X POST http://{host}:{port}/channels/sms/connect \\
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -d '{{"mode":"new","countryCode":"US","areaCode":"415","phoneNumber":"+14155550123",
         "workspaceId":"ws_1","agentId":"agent_1"}}'
"""


def _serve(settings: Settings, worker_health: WorkerHealth | None = None) -> None:
    from api.main import create_app  # noqa: PLC0415 (keeps `token` fast)

    uvicorn.run(
        create_app(settings, worker_health=worker_health),
        host=settings.host,
        port=settings.port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=settings.log_level,
        # No access log (it would print query strings) and no logging config of its own:
        # uvicorn's error logs then pass through our redacting handler.
        access_log=False,
        log_config=None,
    )


def _exit_cleanly_on_sigterm() -> None:
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # kills the process before atexit runs, and the embedded PostgreSQL would outlive us.
    def handler(signum: int, _: FrameType | None) -> None:
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _migrate(settings: Settings) -> None:
    build_application(settings.model_copy(update={"create_tables": True})).close()
    if settings.database_url:
        create_schema(settings.database_url)
    if settings.kafka_bootstrap_servers:
        ensure_topics(settings.kafka_bootstrap_servers, topic_names(settings))


def _seed_demo(settings: Settings) -> None:
    from sms_channels.demo_seed import seed_demo_directory  # noqa: PLC0415

    with application_of(settings) as application:
        seed_demo_directory(application)


@app.command()
def run() -> None:
    """Run the service on the embedded default: PostgreSQL under DATA_DIR (unless
    DATABASE_URL is set), generated secrets, the sandbox provider. Prints a token."""
    from sms_channels.cli.embedded import (  # noqa: PLC0415
        load_or_create_secrets,
        start_embedded_postgres,
    )

    settings = started(log_format="console")
    missing = settings.missing_for_provider()
    if missing:  # as `serve` refuses: in Twilio mode every webhook would be refused
        typer.echo("run refuses to start without: " + ", ".join(missing), err=True)
        raise typer.Exit(code=2)
    _exit_cleanly_on_sigterm()
    dev = load_or_create_secrets(settings.data_dir)
    update: dict[str, object] = {}
    if settings.database_url is None:
        update["database_url"] = start_embedded_postgres(settings.data_dir)
    if settings.jwt_secret is None and not settings.jwt_public_key:
        update["jwt_secret"] = dev.jwt_secret
    if settings.cipher_key is None:
        update["cipher_key"] = dev.cipher_key
    if settings.registration_id_key is None:
        update["registration_id_key"] = dev.registration_id_key
    if settings.sandbox_webhook_secret is None:
        update["sandbox_webhook_secret"] = dev.sandbox_webhook_secret
    settings = completed(settings, update)
    _migrate(settings)
    if "database_url" in update:  # the embedded default only: production never seeds
        _seed_demo(settings)
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    token = (
        mint_token(secret, account_id="acc_demo", user_id="user_demo", ttl_seconds=86400)
        if secret
        else "<mint one with your identity provider>"
    )
    # The workers run beside the API in this process (production runs them separately).
    with background_workers(settings) as running:
        typer.echo(
            TOUR.format(
                host=settings.host,
                port=settings.port,
                token=token,
                database="embedded" if "database_url" in update else "DATABASE_URL",
                kafka=running.servers,
                topics=", ".join(topic_names(settings).all()),
            )
        )
        _serve(settings, running.health)


@app.command()
def serve() -> None:
    """Run the API for production: refuses to start without DATABASE_URL, a JWT key and
    CIPHER_KEY. Tables must exist (``sms-channels migrate``)."""
    settings = started()
    try:
        settings.require_production_secrets()
    except InsecureSettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=2) from None
    _serve(settings)


@app.command()
def migrate() -> None:
    """Create the event store tables (run once before `serve` and the workers)."""
    settings = started()
    _migrate(settings)
    typer.echo("tables ready")


@app.command()
def token(
    account: Annotated[str, typer.Option(help="Account id (acc claim).")],
    user: Annotated[str, typer.Option(help="User id (sub claim).")] = "user_dev",
    permission: Annotated[
        list[str] | None, typer.Option(help="Repeat for each; default: Workspace Admin.")
    ] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
) -> None:
    """Mint an HS256 JWT with JWT_SECRET (or the embedded default's secret)."""
    settings = environment_settings()
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
    else:
        from sms_channels.cli.embedded import load_or_create_secrets  # noqa: PLC0415

        secret = load_or_create_secrets(settings.data_dir).jwt_secret
    typer.echo(
        mint_token(
            secret,
            account_id=account,
            user_id=user,
            permissions=permission or WORKSPACE_ADMIN,
            ttl_seconds=ttl,
        )
    )


if __name__ == "__main__":
    app()
