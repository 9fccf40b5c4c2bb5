"""What every ``sms-channels`` command starts with, in one place: the settings read from the
environment (completed the way ``sms-channels run`` completes them when the command runs
beside it), logging configured from them, a required value checked, and an application on
the configured store that is closed afterwards.

Each step does only what its name says: nothing here reads the clock, touches the database
before the application is asked for, or prints anything but the one refusal
(``NAME is required`` on stderr, exit 2). Settings are built from the environment only here;
a command never constructs its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import typer

from domain.application import SmsChannels
from sms_channels.bootstrap import build_application
from sms_channels.logs import configure_logging
from sms_channels.settings import Settings


def environment_settings(
    *, local: bool = False, cipher: bool = True, webhook_secret: bool = False
) -> Settings:
    """The settings from the environment; with ``local``, completed by
    :func:`with_local_defaults` (``cipher`` and ``webhook_secret`` are its options)."""
    settings = Settings()
    if local:
        return with_local_defaults(settings, cipher=cipher, webhook_secret=webhook_secret)
    return settings


def started(
    *, local: bool = False, log_format: str | None = None, stream: TextIO | None = None
) -> Settings:
    """:func:`environment_settings`, then logging configured from them: at their level, in
    ``log_format`` (default: theirs), on ``stream`` (default: stdout)."""
    settings = environment_settings(local=local)
    configure_logging(settings.log_level, log_format or settings.log_format, stream=stream)
    return settings


def required(value: str | None, name: str) -> str:
    """``value``, or exit 2 with ``NAME is required`` on stderr when it is unset or empty."""
    if not value:
        typer.echo(f"{name} is required", err=True)
        raise typer.Exit(code=2)
    return value


@contextmanager
def application_of(settings: Settings) -> Iterator[SmsChannels]:
    """The application built from ``settings``, closed when the command is done with it
    (also when the command exits early)."""
    application = build_application(settings)
    try:
        yield application
    finally:
        application.close()


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
    return completed(settings, update) if update else settings


def completed(settings: Settings, update: Mapping[str, object]) -> Settings:
    """``settings`` with ``update`` applied and validated again (a generated value passes
    the same checks as a configured one; ``model_copy`` would skip them)."""
    return Settings(**{**settings.model_dump(), **update})
