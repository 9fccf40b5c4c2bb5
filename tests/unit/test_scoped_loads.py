"""One scope, one read (issue 30): each command on a connection takes the caller's workspace
scope (``sees``) into its own load, so a connection of a workspace the caller does not see
is not found (and nothing is recorded), and a command reads the connection once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.errors import ConnectionNotFoundError
from domain.service.commands import NewNumber
from providers.sandbox import SandboxProvider
from tests.unit.test_registration import POPO, connected

ACCOUNT = "acc_scope"


def only(workspace: str) -> Callable[[str], bool]:
    return lambda seen: seen == workspace


@pytest.fixture
def app() -> Iterator[SmsChannels]:
    application = SmsChannels(SandboxProvider(), env=POPO)
    yield application
    application.close()


COMMANDS: dict[str, Callable[[SmsChannels, UUID, Any], object]] = {
    "settings": lambda app, cid, sees: app.update_settings(
        ACCOUNT, cid, by="u1", active=False, sees=sees
    ),
    "compliance": lambda app, cid, sees: app.update_compliance(
        ACCOUNT, cid, {"brand": {}}, by="u1", sees=sees
    ),
    "submit": lambda app, cid, sees: app.submit_registration(
        ACCOUNT, cid, by="u1", expected_version=None, sees=sees
    ),
    "vetting": lambda app, cid, sees: app.request_secondary_vetting(
        ACCOUNT, cid, by="u1", expected_version=None, sees=sees
    ),
    "delete": lambda app, cid, sees: app.delete(ACCOUNT, cid, by="u1", sees=sees),
    "replace": lambda app, cid, sees: app.replace_number(
        ACCOUNT, cid, NewNumber("new", "US", None, "+14155550199", "u1", None), sees=sees
    ),
    "read": lambda app, cid, sees: app.get_connection(ACCOUNT, cid, sees=sees),
    "audit read": lambda app, cid, sees: app.get_connection_for_audit(ACCOUNT, cid, sees=sees),
    "history": lambda app, cid, sees: app.compliance_history(cid, account_id=ACCOUNT, sees=sees),
    "registration view": lambda app, cid, sees: app.registration_view(
        cid, account_id=ACCOUNT, sees=sees
    ),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_connection_of_a_workspace_out_of_scope_is_not_found_and_nothing_is_recorded(
    app: SmsChannels, name: str
) -> None:
    connection_id = connected(app, ACCOUNT)  # in ws_1
    head = app.current_position()
    with pytest.raises(ConnectionNotFoundError) as missing:
        COMMANDS[name](app, connection_id, only("ws_2"))
    assert missing.value.connection_id == connection_id
    assert app.current_position() == head


@pytest.mark.parametrize("name", ["settings", "compliance", "read", "history"])
def test_a_connection_in_scope_is_found(app: SmsChannels, name: str) -> None:
    connection_id = connected(app, ACCOUNT)
    COMMANDS[name](app, connection_id, only("ws_1"))


def test_a_submit_in_scope_reads_the_connection_once(
    app: SmsChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = connected(app, ACCOUNT)
    reads: list[UUID] = []
    stored = app.events.get  # every load reads the event store (loads and replays alike)

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs["originator_id"] if "originator_id" in kwargs else args[0])
        return stored(*args, **kwargs)

    monkeypatch.setattr(app.events, "get", counted)
    version = app.get_connection(ACCOUNT, connection_id).version
    reads.clear()
    app.submit_registration(
        ACCOUNT, connection_id, by="u1", expected_version=version, sees=only("ws_1")
    )
    assert reads.count(connection_id) == 1
