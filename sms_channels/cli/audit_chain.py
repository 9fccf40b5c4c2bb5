"""``sms-channels audit verify`` and ``audit checkpoint``: tamper evidence from a shell.

``verify ID`` recomputes one connection's hash chain; ``verify --all [--account ACC]`` every
connection's, in one pass over the log; ``--against FILE`` also checks an earlier checkpoint
(nothing truncated or rewritten since). ``checkpoint`` prints the chain heads of every
connection (or of one account) as a JSON document, signed with ``AUDIT_SIGNING_KEY`` when
one is configured. Output is JSON on stdout (one line per connection for ``verify``); exit
codes: 0 everything verified, 1 something is broken or not found, 2 bad arguments or
configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from uuid import UUID

import orjson
import typer

from api.schemas.compliance import verification_out
from domain.application import SmsChannels
from domain.audit_chain import Verification
from domain.errors import ConnectionNotFoundError
from domain.service.audit_checkpoint import (
    CheckpointError,
    Head,
    check,
    checkpoint,
    parse_public_key,
    read_checkpoint,
    signing_key,
)
from domain.service.audit_verify import Verified, verify_all, verify_connection
from sms_channels.bootstrap import build_application
from sms_channels.cli.prologue import started
from sms_channels.settings import Settings


def verify(
    connection_id: Annotated[
        UUID | None, typer.Argument(help="The connection's id (or --all).", show_default=False)
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every connection of the store.")] = False,
    account: Annotated[
        str | None, typer.Option(help="Only this account's connections (or connection).")
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="A checkpoint file: nothing it lists may be truncated or rewritten."),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(help="The checkpoint signer's public key (base64); requires a signature."),
    ] = None,
) -> None:
    """Recompute hash chains; print one JSON line per connection verified (only the broken
    ones with --all, then a summary); exit 1 when anything is broken."""
    if connection_id is not None and (every or against is not None):
        fail("Give a connection id, or --all / --against, not both.", code=2)
    if connection_id is None and not every and against is None:
        fail("Give a connection id, or --all.", code=2)
    settings = started(stream=sys.stderr)
    with opened(settings) as application:
        if connection_id is not None:
            _verify_one(application, connection_id, account)
        else:
            _verify_every(application, account, against, public_key)


def _verify_one(application: SmsChannels, connection_id: UUID, account: str | None) -> None:
    try:
        found = verify_connection(
            application.recorder, application.mapper, connection_id, account_id=account
        )
    except ConnectionNotFoundError:
        fail(f"Connection {connection_id} was not found.", code=1)
    _line(_document(found))
    if not found.verified:
        raise typer.Exit(code=1)


def _verify_every(
    application: SmsChannels, account: str | None, against: Path | None, public_key: str | None
) -> None:
    heads: list[Head] = []
    signature: str | None = None
    if public_key is not None:
        try:
            parse_public_key(public_key)
        except CheckpointError as error:
            fail(str(error), code=2)  # a bad argument, checked before anything is read
    if against is not None:
        try:
            heads, signature = read_checkpoint(against.read_bytes(), public_key=public_key)
        except OSError as error:
            fail(f"The checkpoint cannot be read: {error.strerror}.", code=2)
        except CheckpointError as error:
            fail(str(error), code=1)
    watch = {head.connection_id: head.version for head in heads}
    verified: dict[UUID, Verified] = {}
    others: set[UUID] = set()  # another account's (a checkpoint of every account, --account)
    broken = 0
    for item in verify_all(application.recorder, application.mapper, watch=watch):
        if account is not None and item.account_id not in (None, account):
            others.add(item.verification.connection_id)
            continue
        verified[item.verification.connection_id] = item
        if not item.verification.verified:
            broken += 1
            _line(_document(item.verification))
    findings = check([h for h in heads if h.connection_id not in others], verified)
    for finding in findings:
        _line(
            {
                "connectionId": str(finding.connection_id),
                "verified": False,
                "code": finding.code,
                "reason": finding.reason,
            }
        )
    summary: dict[str, Any] = {"connections": len(verified), "broken": broken}
    if against is not None:
        summary |= {"checkpoint": str(against), "signature": signature, "findings": len(findings)}
    _line(summary)
    if broken or findings:
        raise typer.Exit(code=1)


def checkpoint_command(
    account: Annotated[str | None, typer.Option(help="Only this account's connections.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the checkpoint here (default: stdout).")
    ] = None,
) -> None:
    """The chain heads of every verified connection, as a JSON checkpoint to keep apart from
    the database; signed (Ed25519) when AUDIT_SIGNING_KEY is set. Connections whose chain is
    broken are left out and reported on stderr (exit 1)."""
    settings = started(stream=sys.stderr)
    key = None
    if settings.audit_signing_key is not None:
        try:
            key = signing_key(settings.audit_signing_key.get_secret_value())
        except CheckpointError as error:
            fail(str(error), code=2)
    with opened(settings) as application:
        verified = list(verify_all(application.recorder, application.mapper, account_id=account))
    broken = [v.verification for v in verified if not v.verification.verified]
    document = checkpoint(verified, created_at=datetime.now(UTC), account_id=account, key=key)
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    if out is None:
        sys.stdout.write(data.decode())
    else:
        out.write_bytes(data)
    for item in broken:
        typer.echo(orjson.dumps(_document(item)).decode(), err=True)
    if broken:
        raise typer.Exit(code=1)


def _document(v: Verification) -> dict[str, Any]:
    """The verification as the API's ``…/history/verify`` answers it (same keys, nulls)."""
    return verification_out(v).model_dump(mode="json", by_alias=True)


@contextmanager
def opened(settings: Settings) -> Iterator[SmsChannels]:
    """The application on the configured store, closed afterwards (exit 2 when the
    configuration is incomplete)."""
    try:
        application = build_application(settings)
    except ValueError as error:  # e.g. DATABASE_URL missing: a configuration message
        fail(str(error), code=2)
    try:
        yield application
    finally:
        application.close()


def _line(document: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(document).decode() + "\n")


def fail(message: str, *, code: int) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code`` (1: found damage or not found; 2: a
    bad argument or configuration)."""
    typer.echo(message, err=True)
    raise typer.Exit(code=code)
