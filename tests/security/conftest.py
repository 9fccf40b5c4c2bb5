"""The service over real HTTP for the security tests: sandbox provider, known secrets, rate
limits off (tests/security/test_rate_limits.py turns them on for itself)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
import pytest

from tests.e2e.provider_support import Service, running_service
from tests.support.common import ALL_PERMISSIONS, JWT_SECRET, fresh_database


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    with running_service(
        database_url,
        rate_limit_search_per_minute=0,
        rate_limit_connect_per_minute=0,
        rate_limit_settings_per_minute=0,
        rate_limit_compliance_per_minute=0,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def listing(admin_url: str) -> Iterator[Service]:
    """A service with its projections on a database of its own, so that no other test's
    events can hold the read models back (for the list endpoints)."""
    with (
        fresh_database(admin_url) as url,
        running_service(url) as running,
        projections_running(url),
    ):
        yield running


def bearer(
    account: str,
    permissions: tuple[str, ...] = ALL_PERMISSIONS,
    secret: str = JWT_SECRET,
    algorithm: str = "HS256",
    **claims: Any,
) -> dict[str, str]:
    """An Authorization header for a token with the usual claims plus ``claims``."""
    import time  # noqa: PLC0415

    body: dict[str, Any] = {
        "sub": "u1",
        "acc": account,
        "permissions": list(permissions),
        "exp": int(time.time()) + 600,
        **claims,
    }
    return {"Authorization": f"Bearer {jwt.encode(body, secret, algorithm=algorithm)}"}


@contextmanager
def projections_running(database_url: str) -> Iterator[None]:
    """The projection runners beside the API (for the list endpoints)."""
    import threading  # noqa: PLC0415

    from projections.registry import PROJECTIONS  # noqa: PLC0415
    from sms_channels.bootstrap import build_application  # noqa: PLC0415
    from sms_channels.settings import Settings  # noqa: PLC0415
    from workers.projector import ProjectionThreads  # noqa: PLC0415

    stop = threading.Event()
    application = build_application(Settings(database_url=database_url))
    threads = ProjectionThreads(application, database_url, list(PROJECTIONS), stop).start()
    yield
    stop.set()
    threads.join()
    application.close()
    assert threads.errors == [], [repr(e.__cause__) for e in threads.errors]
