"""The hash chain over a connection's facts, in memory: every fact is sealed when it is
recorded, an unbroken record verifies, and each kind of damage is named at its first broken
version (Hypothesis: any single deletion, alteration, swap or transplant is found where it
was made). Events recorded before chains existed load and verify from the first chained
fact on."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from domain.application import SmsChannels
from domain.audit_chain import GENESIS, fact_bytes, verify_facts
from domain.errors import ConnectionNotFoundError
from domain.service.audit_verify import state_decoder, verify_all, verify_connection
from domain.service.compliance_history import compliance_history
from domain.sms_connections import SmsConnection
from providers.sandbox import SandboxProvider
from tests.support.common import connected_id, popo_app
from tests.support.events import application_with_stored_events

OLD_EVENTS = Path(__file__).parent.parent / "data" / "events_before_registration.json"
OLD_CONNECTION = UUID("b88ec922-d24e-50f5-9e1e-4c83d8d47c48")
_edits = itertools.count()


def edited(app: SmsChannels, connection_id: UUID, edits: int) -> list[StoredEvent]:
    """``edits`` compliance saves (each a new value) after the connect; the stored facts."""
    for _ in range(edits):
        index = next(_edits)
        payload = {"brand": {"displayName": f"Brand {index}"}}
        app.update_compliance("acc", connection_id, payload, by=f"u{index % 3}")
    return list(app.recorder.select_events(connection_id))


def independent_chain(connection_id: UUID, facts: list[StoredEvent], app: SmsChannels) -> str:
    """The head recomputed here from the definition (SHA-256 over the previous hash, a
    newline, and the sorted-key JSON of connection, version, topic and the fact's state
    without the chain), not with the module under test."""
    decode = state_decoder(app.mapper)
    previous = GENESIS
    for fact in facts:
        state = decode(fact.state)
        body = {
            "connection": str(connection_id),
            "version": fact.originator_version,
            "topic": fact.topic,
            "fact": {k: v for k, v in state.items() if k != "chain"},
        }
        encoded = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        previous = hashlib.sha256(previous.encode() + b"\n" + encoded).hexdigest()
        assert state["chain"] == previous, f"version {fact.originator_version}"
    return previous


def test_every_fact_is_sealed_when_recorded_and_the_head_matches_the_definition() -> None:
    app = popo_app()
    connection_id = connected_id(app)
    facts = edited(app, connection_id, 4)
    found = verify_connection(app.recorder, app.mapper, connection_id, account_id="acc")
    assert found.verified
    assert (found.facts, found.head_version, found.chain_starts_at) == (len(facts), 6, 1)
    assert found.head == independent_chain(connection_id, facts, app)


def test_the_aggregate_keeps_its_head_across_a_reload_and_links_the_next_fact() -> None:
    app = popo_app()
    connection_id = connected_id(app)
    edited(app, connection_id, 2)
    reloaded = app.repository.get(connection_id)
    head_before = verify_connection(app.recorder, app.mapper, connection_id, account_id=None).head
    assert reloaded._chain_head == head_before
    edited(app, connection_id, 1)
    found = verify_connection(app.recorder, app.mapper, connection_id, account_id=None)
    assert found.verified
    assert (found.head_version, found.head != head_before) == (5, True)


def test_the_history_shows_each_versions_chain() -> None:
    app = popo_app()
    connection_id = connected_id(app)
    facts = edited(app, connection_id, 3)
    decode = state_decoder(app.mapper)
    chains = {f.originator_version: decode(f.state)["chain"] for f in facts}
    history = compliance_history(app, connection_id, account_id="acc")
    assert [(v.version, v.chain) for v in history.versions] == [
        (v.version, chains[v.version]) for v in history.versions
    ]
    assert len(history.versions) == 3


Damage = st.sampled_from(["delete", "alter", "swap", "transplant"])


@given(damage=Damage, at=st.integers(min_value=1, max_value=6), edits=st.integers(3, 5))
def test_any_single_damage_is_found_at_the_version_where_it_was_made(
    damage: str, at: int, edits: int
) -> None:
    app = popo_app()
    connection_id = connected_id(app)
    other = connected_id(app, number="+14155550199")
    facts = edited(app, connection_id, edits)
    edited(app, other, edits)
    others = {f.originator_version: f for f in app.recorder.select_events(other)}
    decode = state_decoder(app.mapper)
    last = len(facts)
    at = min(at, last - 1)  # the last fact's deletion is truncation: see the checkpoint test
    index = at - 1
    damaged = list(facts)
    if damage == "delete":
        del damaged[index]
        expected = (at, "missing_version")
    elif damage == "alter":
        state = decode(facts[index].state)
        state["timestamp"] = state["timestamp"].replace(year=2020)
        damaged[index] = replace(facts[index], state=app.mapper.transcoder.encode(state))
        expected = (at, "chain_mismatch")
    elif damage == "swap":
        first, second = facts[index], facts[index + 1]
        damaged[index] = replace(second, originator_version=first.originator_version)
        damaged[index + 1] = replace(first, originator_version=second.originator_version)
        expected = (at, "chain_mismatch")
    else:  # the other connection's fact at the same position, chain and all
        damaged[index] = replace(others[at], originator_id=connection_id)
        expected = (at, "chain_mismatch")
    found = verify_facts(connection_id, damaged, decode)
    assert not found.verified
    assert (found.broken_at, found.code) == expected


def test_an_undecodable_fact_is_named_not_raised() -> None:
    app = popo_app()
    connection_id = connected_id(app)
    facts = edited(app, connection_id, 2)
    facts[1] = replace(facts[1], state=b"\x00not json")
    found = verify_facts(connection_id, facts, state_decoder(app.mapper))
    assert (found.verified, found.broken_at, found.code) == (False, 2, "undecodable")
    assert "decoded" in str(found.reason)


def test_an_unchained_fact_after_the_chain_began_is_named() -> None:
    app = popo_app()
    connection_id = connected_id(app)
    facts = edited(app, connection_id, 2)
    decode = state_decoder(app.mapper)
    state = decode(facts[2].state)
    del state["chain"]
    facts[2] = replace(facts[2], state=app.mapper.transcoder.encode(state))
    found = verify_facts(connection_id, facts, decode)
    assert (found.broken_at, found.code) == (3, "unchained_fact")


def test_events_recorded_before_chains_load_and_the_chain_starts_at_the_first_new_fact() -> None:
    app = application_with_stored_events(SandboxProvider(), OLD_EVENTS)
    account = "acc_old_reg"
    before = verify_connection(app.recorder, app.mapper, OLD_CONNECTION, account_id=account)
    assert before.verified
    assert (before.chain_starts_at, before.head) == (None, None)
    assert before.facts == before.head_version == 5
    app.update_compliance(account, OLD_CONNECTION, {}, by="u")
    after = verify_connection(app.recorder, app.mapper, OLD_CONNECTION, account_id=account)
    assert (after.verified, after.chain_starts_at, after.head_version) == (True, 6, 6)
    history = compliance_history(app, OLD_CONNECTION, account_id=account)
    assert [v.chain is None for v in history.versions] == [True, False]
    assert history.versions[-1].chain == after.head


def test_another_accounts_connection_is_not_found_and_the_operator_sees_every_one() -> None:
    app = popo_app()
    connection_id = connected_id(app)
    with pytest.raises(ConnectionNotFoundError):
        verify_connection(app.recorder, app.mapper, connection_id, account_id="acc_other")
    with pytest.raises(ConnectionNotFoundError):
        verify_connection(
            app.recorder, app.mapper, connection_id, account_id="acc", sees=lambda ws: False
        )
    with pytest.raises(ConnectionNotFoundError):
        verify_connection(app.recorder, app.mapper, uuid4(), account_id=None)
    assert verify_connection(app.recorder, app.mapper, connection_id, account_id=None).verified


def test_a_pass_over_the_store_verifies_each_connection_once_and_filters_by_account() -> None:
    app = popo_app()
    mine = [connected_id(app, number=n) for n in ("+14155550123", "+14155550124")]
    theirs = connected_id(app, account="acc_b", number="+14155550125")
    every = {v.verification.connection_id: v for v in verify_all(app.recorder, app.mapper)}
    assert set(every) == {*mine, theirs}
    assert all(v.verification.verified for v in every.values())
    only_mine = [
        v.verification.connection_id for v in verify_all(app.recorder, app.mapper, account_id="acc")
    ]
    assert sorted(only_mine, key=str) == sorted(mine, key=str)


def test_the_chain_never_enters_an_events_fields() -> None:
    """``chain`` is stored with the state but is not a dataclass field: events compare and
    upcast as before, and events without it load."""
    event_class = SmsConnection.NumberConnected
    assert "chain" not in {f.name for f in dataclasses.fields(event_class)}
    event: Any = object.__new__(SmsConnection.NumberConnected)
    assert event.chain is None


def test_a_decimal_is_hashed_as_its_text_and_an_unknown_value_is_refused() -> None:
    body = fact_bytes(
        connection_id=OLD_CONNECTION, version=1, topic="t", state={"d": Decimal("1.10")}
    )
    assert b'"d":"1.10"' in body
    with pytest.raises(TypeError):  # orjson words the refusal itself
        fact_bytes(connection_id=OLD_CONNECTION, version=1, topic="t", state={"o": object()})


CHAINED_EVENTS = Path(__file__).parent.parent / "data" / "events_with_chain.json"
CHAINED_CONNECTION = UUID("6f1d3c1e-8a7b-5c2d-9e4f-0a1b2c3d4e5f")
# The head recorded by the code that wrote the file (2026-12-01): a change to how facts are
# encoded or hashed would break every chain already stored, and this with them.
RECORDED_HEAD = "3dfbf2375fa1c30babfdedf28636a4e65869fe45f556c3b2546afe23dd1a8b3a"


def test_a_chain_recorded_by_earlier_code_still_verifies_and_the_next_fact_links_to_it() -> None:
    app = application_with_stored_events(SandboxProvider(), CHAINED_EVENTS)
    found = verify_connection(app.recorder, app.mapper, CHAINED_CONNECTION, account_id="acc_chain")
    assert (found.verified, found.chain_starts_at, found.head_version) == (True, 1, 4)
    assert found.head == RECORDED_HEAD
    app.update_compliance("acc_chain", CHAINED_CONNECTION, {}, by="u3")
    after = verify_connection(app.recorder, app.mapper, CHAINED_CONNECTION, account_id=None)
    assert (after.verified, after.head_version) == (True, 5)
    facts = list(app.recorder.select_events(CHAINED_CONNECTION))
    assert independent_chain(CHAINED_CONNECTION, facts, app) == after.head
