"""Verifying stored records, in memory: the decoder reads what the mapper wrote (cipher and
compressor included), the owner is the first fact's account and the newest fact's workspace,
a damaged record is answered for the owner the read model names (or the facts that can still
be read), and a whole-store pass pages through the log, filters by account, keeps records
whose owner cannot be read, and remembers the chain at the versions a checkpoint asks for.

The PostgreSQL tamper tests (tests/integration) damage real rows; these judge the module
on the library's in-memory recorder, whose stored rows are replaced in place to damage them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.popo import POPOApplicationRecorder

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.errors import ConnectionNotFoundError
from domain.service import audit_verify
from domain.service.audit_verify import (
    connection_topics,
    state_decoder,
    verify_all,
    verify_connection,
)
from domain.sms_connections import SmsConnection
from tests.support.common import new_number, popo_app


def connected(
    app: SmsChannels, account: str = "acc", number: str = "+14155550123", workspace: str = "ws"
) -> UUID:
    return app.connect(new_number(account, number, workspace)).connection.id


def damage(app: SmsChannels, connection_id: UUID, version: int, state: bytes) -> None:
    """Overwrite one stored fact's state in the in-memory recorder."""
    recorder = app.recorder
    assert isinstance(recorder, POPOApplicationRecorder)
    position = recorder._stored_events_index[str(connection_id)][version]
    stored = recorder._stored_events[position]
    recorder._stored_events[position] = replace(stored, state=state)


def stored_versions(app: SmsChannels, connection_id: UUID) -> int:
    return len(app.recorder.select_events(connection_id))


def test_the_decoder_reads_facts_written_with_a_cipher_and_a_compressor() -> None:
    app = popo_app(
        CIPHER_TOPIC="eventsourcing.cryptography:AESCipher",
        CIPHER_KEY=AESCipher.create_key(32),
        COMPRESSOR_TOPIC="eventsourcing.compressor:ZlibCompressor",
    )
    connection_id = connected(app)
    first = app.recorder.select_events(connection_id)[0]
    assert b"acc" not in first.state  # encrypted as stored
    state = state_decoder(app.mapper)(first.state)
    assert (state["account_id"], state["workspace_id"]) == ("acc", "ws")
    result = verify_connection(app.recorder, app.mapper, connection_id, account_id="acc")
    assert result.verified
    assert result.head == app.get_connection("acc", connection_id)._chain_head


def test_the_decoder_reads_plain_facts_when_there_is_no_cipher_or_compressor() -> None:
    app = popo_app()
    assert (app.mapper.cipher, app.mapper.compressor) == (None, None)
    connection_id = connected(app)
    state = state_decoder(app.mapper)(app.recorder.select_events(connection_id)[0].state)
    assert state["account_id"] == "acc"


def test_a_stored_state_that_is_not_an_object_is_refused_by_the_decoder() -> None:
    with pytest.raises(TypeError, match=r"^a stored fact is an object$"):
        state_decoder(popo_app().mapper)(b"[1, 2]")


def test_connection_topics_are_every_fact_class_of_a_connection_but_the_bases() -> None:
    topics = connection_topics()
    assert list(topics) == sorted(topics)
    assert f"{SmsConnection.__module__}:SmsConnection.NumberRequested" in topics
    assert f"{SmsConnection.__module__}:SmsConnection.Event" not in topics
    assert f"{SmsConnection.__module__}:SmsConnection.Created" not in topics
    expected = {
        f"{SmsConnection.__module__}:SmsConnection.{name}"
        for name, value in vars(SmsConnection).items()
        if isinstance(value, type)
        and issubclass(value, SmsConnection.Event)
        and name not in ("Event", "Created")
    }
    assert set(topics) == expected


def test_the_owner_is_the_first_facts_account_and_the_newest_facts_workspace() -> None:
    app = popo_app()
    app.upsert_agent("acc", "agent_2", AgentInfo("ws_2", "Second", "Agent 2", None, None))
    connection_id = connected(app)
    app.update_settings("acc", connection_id, by="u", workspace_id="ws_2", agent_id="agent_2")

    def only(workspace: str) -> Any:
        return lambda seen: seen == workspace

    found = verify_connection(
        app.recorder, app.mapper, connection_id, account_id="acc", sees=only("ws_2")
    )
    assert found.verified
    with pytest.raises(ConnectionNotFoundError):
        verify_connection(
            app.recorder, app.mapper, connection_id, account_id="acc", sees=only("ws")
        )
    (whole,) = verify_all(app.recorder, app.mapper)
    assert (whole.account_id, whole.verification.connection_id) == ("acc", connection_id)


def test_an_id_that_is_not_a_connection_is_not_found_even_for_the_operator() -> None:
    app = popo_app()
    app.upsert_agent("acc", "agent_2", AgentInfo("ws", "Main", "Agent 2", None, None))
    connected(app)
    others = {
        notification.originator_id
        for notification in app.recorder.select_notifications(0, 100)
        if notification.topic not in connection_topics()
    }
    assert others  # the directory's agent and the number's claim
    for other in others:
        with pytest.raises(ConnectionNotFoundError):
            verify_connection(app.recorder, app.mapper, UUID(str(other)), account_id=None)


def test_a_tenants_verify_finds_its_broken_record_through_the_read_models_place() -> None:
    app = popo_app()
    connection_id = connected(app)
    damage(app, connection_id, 1, b"\x00damaged")
    places = {connection_id: ("acc", "ws")}
    found = verify_connection(
        app.recorder, app.mapper, connection_id, account_id="acc", owner=places.get
    )
    assert (found.verified, found.broken_at, found.code) == (False, 1, "undecodable")
    for account, sees in (("acc_other", None), ("acc", "ws_other")):
        with pytest.raises(ConnectionNotFoundError):
            verify_connection(
                app.recorder,
                app.mapper,
                connection_id,
                account_id=account,
                sees=(lambda ws, only=sees: only is None or ws == only),
                owner=places.get,
            )


def test_a_broken_record_without_a_read_model_place_is_owned_by_its_readable_facts() -> None:
    app = popo_app()
    connection_id = connected(app)
    last = stored_versions(app, connection_id)
    damage(app, connection_id, last, b"\x00damaged")  # the first fact still names the owner
    found = verify_connection(
        app.recorder, app.mapper, connection_id, account_id="acc", owner=lambda _id: None
    )
    assert (found.verified, found.broken_at) == (False, last)
    assert not verify_connection(app.recorder, app.mapper, connection_id, account_id="acc").verified
    with pytest.raises(ConnectionNotFoundError):
        verify_connection(app.recorder, app.mapper, connection_id, account_id="acc_other")


def test_a_broken_record_whose_owner_cannot_be_read_is_not_found_for_a_tenant() -> None:
    app = popo_app()
    connection_id = connected(app)
    damage(app, connection_id, 1, b"\x00damaged")  # the only fact naming the account
    with pytest.raises(ConnectionNotFoundError):
        verify_connection(app.recorder, app.mapper, connection_id, account_id="acc")
    operator = verify_connection(app.recorder, app.mapper, connection_id, account_id=None)
    assert (operator.verified, operator.broken_at) == (False, 1)


def test_a_whole_store_pass_keeps_a_record_whose_owner_cannot_be_read_in_an_accounts_pass() -> None:
    app = popo_app()
    damaged = connected(app)
    theirs = connected(app, account="acc_b", number="+14155550124")
    damage(app, damaged, 1, b"\x00damaged")
    passes = {
        account: {
            v.verification.connection_id: v
            for v in verify_all(app.recorder, app.mapper, account_id=account)
        }
        for account in ("acc", "acc_b")
    }
    assert set(passes["acc"]) == {damaged}
    assert set(passes["acc_b"]) == {damaged, theirs}
    unread = passes["acc"][damaged]
    assert (unread.account_id, unread.verification.verified) == (None, False)
    assert passes["acc_b"][theirs].account_id == "acc_b"


def test_a_whole_store_pass_reads_every_page_of_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    app = popo_app()
    ids = [connected(app, number=f"+1415555{n:04d}") for n in range(5)]
    total = len(app.recorder.select_notifications(0, 1000, topics=connection_topics()))
    assert total > 6
    for page in (2, 3, total, total + 1):
        monkeypatch.setattr(audit_verify, "PAGE", page)
        seen = list(verify_all(app.recorder, app.mapper))
        assert [v.verification.connection_id for v in seen] == sorted(ids, key=str)
        assert [v.verification.facts for v in seen] == [
            stored_versions(app, i) for i in sorted(ids, key=str)
        ]
        assert all(v.verification.verified for v in seen)


def test_a_whole_store_pass_remembers_the_chain_at_each_watched_version() -> None:
    app = popo_app()
    watched, unwatched, broken = (
        connected(app, number=n) for n in ("+14155550123", "+14155550124", "+14155550125")
    )
    for connection_id in (watched, unwatched, broken):
        app.update_compliance("acc", connection_id, {"brand": {"displayName": "Brand"}}, by="u")
    chains = {
        version: state_decoder(app.mapper)(fact.state)["chain"]
        for version, fact in enumerate(app.recorder.select_events(watched), start=1)
    }
    damage(app, broken, 1, b"\x00damaged")
    seen = {
        v.verification.connection_id: v
        for v in verify_all(app.recorder, app.mapper, watch={watched: 2, broken: 2, uuid4(): 1})
    }
    assert dict(seen[watched].chains_at) == {2: chains[2]}
    assert dict(seen[unwatched].chains_at) == {}
    assert dict(seen[broken].chains_at) == {}  # a broken chain vouches for nothing after it


class PagedRecorder(POPOApplicationRecorder):
    """The in-memory recorder, remembering the limit of every page asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.limits: list[int | None] = []

    def select_notifications(self, start: Any, limit: Any, *args: Any, **kwargs: Any) -> Any:
        self.limits.append(limit)
        return super().select_notifications(start, limit, *args, **kwargs)


def test_a_whole_store_pass_asks_for_pages_of_a_bounded_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = popo_app()
    for n in range(3):
        connected(app, number=f"+1415555{n:04d}")
    paged = PagedRecorder()
    everything = app.recorder.select_notifications(0, 1000)
    paged.insert_events(
        [
            app.recorder.select_events(n.originator_id, gt=n.originator_version - 1, limit=1)[0]
            for n in everything
        ]
    )
    monkeypatch.setattr(audit_verify, "PAGE", 2)
    assert len(list(verify_all(paged, app.mapper))) == 3
    assert paged.limits
    assert set(paged.limits) == {2}


def test_a_not_found_answer_names_the_connection_asked_for() -> None:
    app = popo_app()
    connection_id = connected(app)
    unknown = uuid4()
    with pytest.raises(ConnectionNotFoundError) as missing:
        verify_connection(app.recorder, app.mapper, unknown, account_id=None)
    assert missing.value.connection_id == unknown
    with pytest.raises(ConnectionNotFoundError) as other:
        verify_connection(app.recorder, app.mapper, connection_id, account_id="acc_other")
    assert other.value.connection_id == connection_id


def test_a_broken_records_owner_is_read_past_an_unreadable_fact_to_the_newest_workspace() -> None:
    app = popo_app()
    app.upsert_agent("acc", "agent_2", AgentInfo("ws_2", "Second", "Agent 2", None, None))
    connection_id = connected(app)
    app.update_settings("acc", connection_id, by="u", workspace_id="ws_2", agent_id="agent_2")
    damage(app, connection_id, 2, b"\x00damaged")  # between the request and the move
    found = verify_connection(
        app.recorder, app.mapper, connection_id, account_id="acc", sees=lambda ws: ws == "ws_2"
    )
    assert (found.verified, found.broken_at) == (False, 2)
