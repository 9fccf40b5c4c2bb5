"""Tamper evidence on PostgreSQL, encrypted like production: someone with write access to the
events table deletes a middle fact, alters one (with and without the cipher key), swaps two,
copies one from another connection, or truncates the last one. Each is found at the version
where it was made, by the API (200 ``verified: false``, never a 500), by ``audit verify``
(exit 1), and the truncation against an earlier signed checkpoint."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from pydantic import SecretStr

from api.main import create_app
from domain.application import SmsChannels
from domain.audit_chain import Verification
from domain.errors import ConnectionNotFoundError
from domain.service.audit_verify import state_decoder, verify_connection
from providers.sandbox import SandboxProvider
from sms_channels.bootstrap import build_application
from sms_channels.settings import Settings
from tests.security.conftest import bearer
from tests.support.common import JWT_SECRET, auth, fresh_database, live_server, unique_account
from tests.support.compliance_payloads import connect

CONFIG_VARS = ("DATABASE_URL", "JWT_SECRET", "JWT_PUBLIC_KEY", "CIPHER_KEY", "DATA_DIR")
CONNECT_FACTS = 3  # requested, connected, the (empty) compliance payload given at connect
EDITS = 4  # compliance saves after the connect: versions 4..7
EVENTS = "smschannels_events"  # the application's events table (eventsourcing's naming)
DAMAGES = ("delete", "alter", "reencrypt", "swap", "transplant")


@dataclass(frozen=True)
class Store:
    url: str
    settings: Settings
    account: str
    connections: dict[str, UUID]  # one connection per damage, plus "intact" and "truncate"
    donor: UUID  # the connection a fact is copied from


def _edit(app: SmsChannels, account: str, connection_id: UUID) -> None:
    for index in range(EDITS):
        payload = {"brand": {"displayName": f"Brand {index}", "city": "SF"}}
        app.update_compliance(account, connection_id, payload, by=f"editor{index % 2}")


@pytest.fixture(scope="module")
def store(admin_url: str) -> Iterator[Store]:
    with fresh_database(admin_url) as url:
        settings = Settings(
            database_url=url,
            jwt_secret=JWT_SECRET,
            cipher_key=SecretStr(AESCipher.create_key(32)),
            data_dir=Path("/nonexistent"),
        )
        app = build_application(settings, SandboxProvider())
        try:
            account = unique_account()
            names = (*DAMAGES, "intact", "truncate", "donor")
            connections = {name: connect(app, account, {}) for name in names}
            for connection_id in connections.values():
                _edit(app, account, connection_id)
        finally:
            app.close()
        donor = connections.pop("donor")
        yield Store(url, settings, account, connections, donor)


def _rows(url: str, connection_id: UUID) -> dict[int, tuple[str, bytes]]:
    with psycopg.connect(url) as db:
        found = db.execute(
            f"SELECT originator_version, topic, state FROM {EVENTS}"
            " WHERE originator_id = %s ORDER BY originator_version",
            (connection_id,),
        ).fetchall()
    return {version: (topic, bytes(state)) for version, topic, state in found}


def _set_state(url: str, connection_id: UUID, version: int, state: bytes) -> None:
    with psycopg.connect(url) as db:
        db.execute(
            f"UPDATE {EVENTS} SET state = %s WHERE originator_id = %s AND originator_version = %s",
            (state, connection_id, version),
        )


@pytest.fixture(scope="module")
def damaged(store: Store) -> Store:
    """Every damage made once, at version 4 (a middle fact), straight in the table."""
    url, c = store.url, store.connections
    with psycopg.connect(url) as db:
        db.execute(
            f"DELETE FROM {EVENTS} WHERE originator_id = %s AND originator_version = 4",
            (c["delete"],),
        )
        last = max(_rows(url, c["truncate"]))
        db.execute(
            f"DELETE FROM {EVENTS} WHERE originator_id = %s AND originator_version = %s",
            (c["truncate"], last),
        )
    state = bytearray(_rows(url, c["alter"])[4][1])
    state[-5] ^= 0x01  # a flipped bit: the cipher's tag no longer matches
    _set_state(url, c["alter"], 4, bytes(state))
    # Altered by someone who holds the key: decrypt, change the actor, encrypt again.
    app = build_application(store.settings, SandboxProvider())
    try:
        mapper = app.mapper
        decoded = state_decoder(mapper)(_rows(url, c["reencrypt"])[4][1])
        decoded["updated_by"] = "someone_else"
        encoded = mapper.transcoder.encode(decoded)
        if mapper.compressor is not None:
            encoded = mapper.compressor.compress(encoded)
        assert mapper.cipher is not None
        _set_state(url, c["reencrypt"], 4, mapper.cipher.encrypt(encoded))
    finally:
        app.close()
    rows = _rows(url, c["swap"])
    _set_state(url, c["swap"], 4, rows[5][1])
    _set_state(url, c["swap"], 5, rows[4][1])
    _set_state(url, c["transplant"], 4, _rows(url, store.donor)[4][1])
    return store


EXPECTED = {
    "delete": (4, "missing_version"),
    "alter": (4, "undecodable"),
    "reencrypt": (4, "chain_mismatch"),
    "swap": (4, "chain_mismatch"),
    "transplant": (4, "chain_mismatch"),
}


@pytest.fixture(scope="module")
def app(damaged: Store) -> Iterator[SmsChannels]:
    application = build_application(damaged.settings, SandboxProvider())
    yield application
    application.close()


@pytest.mark.parametrize("damage", DAMAGES)
def test_each_damage_is_found_at_its_version(damaged: Store, app: SmsChannels, damage: str) -> None:
    found = verify_connection(
        app.recorder, app.mapper, damaged.connections[damage], account_id=damaged.account
    )
    assert (found.verified, found.broken_at, found.code) == (False, *EXPECTED[damage])


def test_an_intact_connection_and_a_truncated_one_still_verify_on_their_own(
    damaged: Store, app: SmsChannels
) -> None:
    newest = CONNECT_FACTS + EDITS
    for name, versions in (("intact", newest), ("truncate", newest - 1)):
        found = verify_connection(
            app.recorder, app.mapper, damaged.connections[name], account_id=damaged.account
        )
        assert (found.verified, found.head_version, found.chain_starts_at) == (True, versions, 1)


@pytest.fixture(scope="module")
def base_url(damaged: Store) -> Iterator[str]:
    application = build_application(damaged.settings, SandboxProvider())
    with live_server(create_app(damaged.settings, application)) as url:
        yield url


URL = "/channels/sms/connections/{}/compliance/history/verify"


@pytest.mark.parametrize("damage", [*DAMAGES, "intact"])
def test_the_api_answers_damage_with_200_and_where_it_is(
    damaged: Store, base_url: str, damage: str
) -> None:
    response = httpx.get(
        base_url + URL.format(damaged.connections[damage]), headers=auth(damaged.account)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    if damage == "intact":
        assert body["verified"] is True
        assert body["headVersion"] == CONNECT_FACTS + EDITS
        assert len(body["head"]) == 64
    else:
        assert (body["verified"], body["brokenAt"], body["code"]) == (False, *EXPECTED[damage])
        assert body["reason"]


def test_the_api_hides_another_accounts_or_workspaces_connection_and_needs_the_permission(
    damaged: Store, base_url: str
) -> None:
    url = base_url + URL.format(damaged.connections["intact"])
    assert httpx.get(url, headers=auth(unique_account())).status_code == 404
    elsewhere = bearer(damaged.account, ("compliance.audit",), workspaces=["ws_other"])
    assert httpx.get(url, headers=elsewhere).status_code == 404
    inside = bearer(damaged.account, ("compliance.audit",), workspaces=["ws"])
    assert httpx.get(url, headers=inside).status_code == 200
    reader = auth(damaged.account, ("channels.read",))
    assert httpx.get(url, headers=reader).status_code == 403


def test_the_history_shows_each_versions_chain_ending_at_the_verified_head(
    damaged: Store, base_url: str
) -> None:
    connection = damaged.connections["intact"]
    history_url = base_url + f"/channels/sms/connections/{connection}/compliance/history"
    versions = httpx.get(history_url, headers=auth(damaged.account)).json()["versions"]
    chains = [v["chain"] for v in versions]
    assert len(set(chains)) == len(chains) == 1 + EDITS
    assert all(len(chain) == 64 for chain in chains)
    head = httpx.get(history_url + "/verify", headers=auth(damaged.account)).json()["head"]
    assert chains[-1] == head  # the newest fact is the last edit


def cli(url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env |= {"DATABASE_URL": url, **extra}
    return subprocess.run(
        [sys.executable, "-m", "sms_channels.cli", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _cipher(store: Store) -> dict[str, str]:
    assert store.settings.cipher_key is not None
    return {"CIPHER_KEY": store.settings.cipher_key.get_secret_value()}


def test_audit_verify_all_lists_every_broken_connection_and_exits_1(damaged: Store) -> None:
    result = cli(damaged.url, "verify", "--all", "--account", damaged.account, **_cipher(damaged))
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    broken = {line["connectionId"]: (line["brokenAt"], line["code"]) for line in lines[:-1]}
    assert broken == {str(damaged.connections[d]): EXPECTED[d] for d in DAMAGES}
    assert lines[-1] == {"connections": len(damaged.connections) + 1, "broken": len(DAMAGES)}


def test_audit_verify_of_one_intact_connection_exits_0(damaged: Store) -> None:
    connection_id = str(damaged.connections["intact"])
    result = cli(damaged.url, "verify", connection_id, **_cipher(damaged))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["verified"] is True
    # The same document as the API's …/history/verify: every key, null where it does not apply.
    assert set(document) == {
        "connectionId", "verified", "facts", "head", "headVersion", "chainStartsAt",
        "brokenAt", "code", "reason",
    }  # fmt: skip
    assert (document["brokenAt"], document["code"], document["reason"]) == (None, None, None)


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_a_signed_checkpoint_finds_the_truncated_connection(store: Store, tmp_path: Path) -> None:
    """Checkpoint taken before the damage (on a copy of the story), checked after."""
    # This test runs on its own connections, written and checkpointed here.
    app = build_application(store.settings, SandboxProvider())
    account = unique_account()
    try:
        kept, cut = connect(app, account, {}), connect(app, account, {})
        for connection_id in (kept, cut):
            _edit(app, account, connection_id)
    finally:
        app.close()
    key = _key()
    env = {**_cipher(store), "AUDIT_SIGNING_KEY": key}
    checkpoint = tmp_path / "checkpoint.json"
    made = cli(store.url, "checkpoint", "--account", account, "--out", str(checkpoint), **env)
    assert made.returncode == 0, made.stderr
    document: dict[str, Any] = json.loads(checkpoint.read_text())
    assert {h["connectionId"] for h in document["heads"]} == {str(kept), str(cut)}
    assert document["signature"]["algorithm"] == "Ed25519"
    public_key = document["signature"]["publicKey"]

    clean = cli(
        store.url,
        "verify",
        "--all",
        "--account",
        account,
        "--against",
        str(checkpoint),
        "--public-key",
        public_key,
        **_cipher(store),
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout.splitlines()[-1])["signature"] == "verified"

    with psycopg.connect(store.url) as db:
        db.execute(
            f"DELETE FROM {EVENTS} WHERE originator_id = %s AND originator_version = %s",
            (cut, CONNECT_FACTS + EDITS),
        )
    found = cli(
        store.url,
        "verify",
        "--all",
        "--account",
        account,
        "--against",
        str(checkpoint),
        "--public-key",
        public_key,
        **_cipher(store),
    )
    assert found.returncode == 1
    lines = [json.loads(line) for line in found.stdout.splitlines()]
    assert [(line["connectionId"], line["code"]) for line in lines[:-1]] == [
        (str(cut), "truncated")
    ]


def test_a_public_key_that_is_not_a_key_is_a_bad_argument(store: Store, tmp_path: Path) -> None:
    result = cli(
        store.url, "verify", "--all", "--against", str(tmp_path / "absent.json"),
        "--public-key", "%%%", **_cipher(store),
    )  # fmt: skip
    assert result.returncode == 2
    assert "not a base64 Ed25519 key" in result.stderr


def test_a_checkpoint_edited_after_signing_is_refused(store: Store, tmp_path: Path) -> None:
    env = {**_cipher(store), "AUDIT_SIGNING_KEY": _key()}
    checkpoint = tmp_path / "checkpoint.json"
    account = unique_account()
    made = cli(store.url, "checkpoint", "--account", account, "--out", str(checkpoint), **env)
    assert made.returncode == 0, made.stderr
    document = json.loads(checkpoint.read_text())
    public_key = document["signature"]["publicKey"]
    document["heads"].append(
        {"connectionId": str(store.connections["intact"]), "version": 99, "chain": None}
    )
    checkpoint.write_text(json.dumps(document))
    result = cli(
        store.url,
        "verify",
        "--all",
        "--against",
        str(checkpoint),
        "--public-key",
        public_key,
        **_cipher(store),
    )
    assert result.returncode == 1
    assert "signature does not verify" in result.stderr


def test_a_record_too_damaged_to_name_its_owner_is_scoped_by_the_lookup(store: Store) -> None:
    """Version 1 (which names the account) deleted: the tenant's answer comes from the owner
    lookup (the audit trail's read model in the API); without one it is not found."""
    app = build_application(store.settings, SandboxProvider())
    try:
        account = unique_account()
        connection_id = connect(app, account, {})
        with psycopg.connect(store.url) as db:
            db.execute(
                f"DELETE FROM {EVENTS} WHERE originator_id = %s AND originator_version = 1",
                (connection_id,),
            )
        with pytest.raises(ConnectionNotFoundError):
            verify_connection(app.recorder, app.mapper, connection_id, account_id=account)
        found = verify_connection(
            app.recorder,
            app.mapper,
            connection_id,
            account_id=account,
            owner=lambda _: (account, "ws"),
        )
        assert (found.verified, found.broken_at, found.code) == (False, 1, "missing_version")
        with pytest.raises(ConnectionNotFoundError):
            verify_connection(
                app.recorder,
                app.mapper,
                connection_id,
                account_id=account,
                owner=lambda _: ("acc_someone_else", "ws"),
            )
    finally:
        app.close()


def test_a_broken_record_is_scoped_by_where_the_connection_is_now(store: Store) -> None:
    """Moved from ws to ws_b after the damaged fact: a ws_b-only reviewer sees the damage, a
    ws-only one does not (the facts after the break still say where it went)."""
    app = build_application(store.settings, SandboxProvider())
    try:
        account = unique_account()
        connection_id = connect(app, account, {})
        _edit(app, account, connection_id)
        mapper = app.mapper
        assert mapper.cipher is not None
        decoded = state_decoder(mapper)(_rows(store.url, connection_id)[4][1])
        decoded["updated_by"] = "someone_else"  # altered with the key: a chain mismatch
        altered = mapper.cipher.encrypt(mapper.transcoder.encode(decoded))
        _set_state(store.url, connection_id, 4, altered)
        connection = app.repository.get(connection_id)
        connection.move("ws_b", "agent", by="u")  # recorded after the damaged fact
        app.save(connection)

        def verify(*workspaces: str) -> Verification:
            return verify_connection(
                app.recorder,
                app.mapper,
                connection_id,
                account_id=account,
                sees=lambda ws: ws in workspaces,
            )

        assert verify("ws_b").broken_at == 4
        with pytest.raises(ConnectionNotFoundError):
            verify("ws")
    finally:
        app.close()


def test_an_id_that_is_not_a_connection_is_not_found(store: Store) -> None:
    app = build_application(store.settings, SandboxProvider())
    try:
        number_claims = [
            n.originator_id
            for n in app.recorder.select_notifications(0, 500)
            if "NumberClaim" in n.topic
        ]
        assert number_claims  # a claim's events are stored like a connection's
        with pytest.raises(ConnectionNotFoundError):
            verify_connection(app.recorder, app.mapper, number_claims[0], account_id=None)
    finally:
        app.close()


def test_one_accounts_check_against_a_checkpoint_of_every_account_judges_that_account_only(
    store: Store, admin_url: str, tmp_path: Path
) -> None:
    with fresh_database(admin_url) as url:
        settings = store.settings.model_copy(update={"database_url": url})
        app = build_application(settings, SandboxProvider())
        account, other = unique_account(), unique_account()
        try:
            mine = connect(app, account, {})
            theirs = connect(app, other, {})
        finally:
            app.close()
        checkpoint = tmp_path / "everyone.json"
        made = cli(url, "checkpoint", "--out", str(checkpoint), **_cipher(store))
        assert made.returncode == 0, made.stderr
        heads = {h["connectionId"] for h in json.loads(checkpoint.read_text())["heads"]}
        assert heads == {str(mine), str(theirs)}
        with psycopg.connect(url) as db:  # the other account's record is cut short
            db.execute(
                f"DELETE FROM {EVENTS} WHERE originator_id = %s AND originator_version = 3",
                (theirs,),
            )
        result = cli(
            url, "verify", "--all", "--account", account, "--against", str(checkpoint),
            **_cipher(store),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        summary = json.loads(result.stdout.splitlines()[-1])
        assert (summary["connections"], summary["findings"]) == (1, 0)
        everyone = cli(url, "verify", "--all", "--against", str(checkpoint), **_cipher(store))
        assert everyone.returncode == 1  # checked for every account, the cut is found
