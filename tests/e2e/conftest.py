"""The API served by uvicorn over real HTTP, on the session's PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.main import create_app
from sms_channels.settings import Settings
from tests.support.common import live_server


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    from tests.support.common import JWT_SECRET  # noqa: PLC0415

    settings = Settings(database_url=database_url, jwt_secret=JWT_SECRET)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client
