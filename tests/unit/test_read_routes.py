"""Which database each of the API's read-model connections talks to (``DATABASE_READ_URL``):
queries, exports and the positions ``waitFor`` compares with on the replica; writes (control
pool), the log's head and the NOTIFY listener on the primary."""

from __future__ import annotations

import pytest

from api.query_pool import Routes
from sms_channels.settings import Settings

PRIMARY = "postgresql://sms@primary/sms_channels"
REPLICA = "postgresql://sms_reader@replica/sms_channels"


def test_with_a_read_url_the_reads_go_to_the_replica_and_the_rest_to_the_primary() -> None:
    routes = Routes.of(PRIMARY, REPLICA)
    assert (routes.queries, routes.exports, routes.positions) == (REPLICA, REPLICA, REPLICA)
    assert (routes.control, routes.head, routes.listener) == (PRIMARY, PRIMARY, PRIMARY)
    assert routes.replica


def test_without_one_everything_goes_to_the_primary() -> None:
    for unset in (None, ""):  # docker-compose passes an empty ${DATABASE_READ_URL:-}
        routes = Routes.of(PRIMARY, unset)
        assert {routes.queries, routes.exports, routes.positions, routes.control} == {PRIMARY}
        assert not routes.replica


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PRIMARY)
    monkeypatch.setenv("DATABASE_READ_URL", REPLICA)
    settings = Settings()
    assert Routes.of(settings.database_url or "", settings.database_read_url).queries == REPLICA
