"""``sms-channels audit …``: the compliance history of a connection, replayed from the event
store, for auditors who work from a shell (the same document as ``GET …/compliance/history``).

Output goes to stdout (it is the audit record, compliance values included); logs go to
stderr and never carry compliance values. Exit codes: 0 found, 1 not found or unreadable,
2 bad arguments or configuration.
"""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import orjson
import psycopg
import typer
from eventsourcing.persistence import MapperDeserialisationError

from api.history_reader import read_history
from api.schemas.audit import CSV_HEADER, csv_values, trail_entry
from api.schemas.compliance import history_out, version_document
from domain.errors import ConnectionNotFoundError, InvalidPointInTimeError
from domain.operator_decisions import skip_decisions
from domain.service.compliance_history import (
    ComplianceHistory,
    PointInTime,
    parse_as_of,
)
from projections.audit_trail import TrailQuery, stream_entries
from sms_channels.cli.audit_chain import checkpoint_command, fail, opened, verify
from sms_channels.cli.prologue import application_of, required, started
from sms_channels.settings import Settings

audit_app = typer.Typer(help="Audit compliance history (read-only).", no_args_is_help=True)
audit_app.command("verify")(verify)
audit_app.command("checkpoint")(checkpoint_command)


class OutputFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"
    table = "table"


class ExportFormat(StrEnum):
    ndjson = "ndjson"
    csv = "csv"


@audit_app.command("export")
def export(
    account: Annotated[str, typer.Option(help="The account whose trail to export.")],
    since: Annotated[
        str | None, typer.Option(help="From this time on (inclusive; RFC 3339, with zone).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Before this time (exclusive; RFC 3339, with zone).")
    ] = None,
    output: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.ndjson,
) -> None:
    """The account trail (every fact of every connection: who, when, what, which field
    names; never values), oldest first, streamed from a server-side cursor."""
    settings = started()
    url = required(settings.database_url, "DATABASE_URL")
    try:
        start, end = (None if t is None else parse_as_of(t) for t in (since, until))
    except InvalidPointInTimeError:
        typer.echo("--since and --until are RFC 3339 times with a zone", err=True)
        raise typer.Exit(code=2) from None
    query = TrailQuery(account_id=account, since=start, until=end, order="asc", limit=None)
    writer = csv.writer(sys.stdout)
    if output is ExportFormat.csv:
        writer.writerow(CSV_HEADER)
    with psycopg.connect(url) as connection, connection.transaction():
        for row in stream_entries(connection, query):
            entry = trail_entry(row).model_dump(mode="json", by_alias=True)
            if output is ExportFormat.csv:
                writer.writerow(csv_values(entry))
            else:
                sys.stdout.write(orjson.dumps(entry).decode() + "\n")


@audit_app.command("decisions")
def decisions() -> None:
    """Operators' decisions about the read models (``projections skip``): who, when, why,
    and which event, one JSON object per line, oldest first."""
    with application_of(started()) as application:
        for decided in skip_decisions(application):
            line = {
                "decisionId": str(decided.originator_id),
                "type": "projection.event_skipped",
                "projection": decided.projection,
                "position": decided.position,
                "eventId": str(decided.event_id) if decided.event_id else None,
                "topic": decided.topic,
                "reason": decided.reason,
                "actor": decided.decided_by,
                "recordedAt": decided.timestamp.isoformat(),
            }
            sys.stdout.write(orjson.dumps(line).decode() + "\n")


@audit_app.command("history")
def history(
    connection_id: Annotated[UUID, typer.Argument(help="The connection's id.")],
    account: Annotated[
        str | None,
        typer.Option(help="Answer only if the connection belongs to this account."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Only the version in effect then (RFC 3339, with zone)."),
    ] = None,
    as_of_version: Annotated[
        int | None,
        typer.Option("--as-of-version", help="Only the version in effect at this version."),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="json: the API's document; jsonl: one version per line; "
            "table: per version, the changed fields with their values before → after.",
        ),
    ] = OutputFormat.json,
) -> None:
    """Every compliance version of a connection (deleted ones too), oldest first: version,
    recorded time, actor, changed fields, and the whole payload."""
    settings = started(stream=sys.stderr)
    try:
        point = PointInTime(
            version=as_of_version, at=parse_as_of(as_of) if as_of is not None else None
        )
    except InvalidPointInTimeError as error:
        fail(error.message, code=2)
    found = _read(settings, connection_id, account)
    _print(found, found.as_of(point), output)


def _read(settings: Settings, connection_id: UUID, account: str | None) -> ComplianceHistory:
    with opened(settings) as application:
        try:
            # The direct path the route reads (domain.service.history_rows): no replay.
            return read_history(application, connection_id, account_id=account).history
        except ConnectionNotFoundError:
            fail(f"Connection {connection_id} was not found.", code=1)
        except MapperDeserialisationError:
            fail("The events cannot be read: check CIPHER_KEY.", code=1)


def _print(found: ComplianceHistory, shown: ComplianceHistory, output: str) -> None:
    """``shown`` (the history as of the point asked, ``ComplianceHistory.as_of``: the same
    versions and facts as the API's) in ``output``; ``found`` (the whole history) gives the
    table its "before" values."""
    versions = shown.versions
    if output == OutputFormat.json:
        typer.echo(history_out(shown).model_dump_json(by_alias=True, indent=2))
    elif output == OutputFormat.jsonl:
        for version in versions:
            typer.echo(orjson.dumps(version_document(version)).decode())
    else:
        typer.echo(f"connection {found.connection_id} ({found.status})")
        typer.echo(f"{'VERSION':>7}  {'RECORDED AT':<32}  {'ACTOR':<24}  CHANGED FIELDS")
        before = _previous_payloads(found)
        for v in versions:
            changed = ", ".join(v.changed_fields) or "-"
            typer.echo(f"{v.version:>7}  {v.recorded_at.isoformat():<32}  {v.actor:<24}  {changed}")
            for name in v.changed_fields:
                old, new = _value(before.get(v.version), name), _value(v.compliance, name)
                typer.echo(f"{'':>9}{name}: {_shown(old)} → {_shown(new)}")
        if not versions:
            typer.echo("(no compliance version)")


def _previous_payloads(found: ComplianceHistory) -> dict[int, dict[str, Any] | None]:
    """Each version's predecessor payload (None before the first), by version: the
    "before" of its changed fields, also when only one version is shown (``--as-of``)."""
    previous: dict[str, Any] | None = None
    before: dict[int, dict[str, Any] | None] = {}
    for version in found.versions:
        before[version.version] = previous
        previous = version.compliance
    return before


def _value(payload: dict[str, Any] | None, dotted: str) -> Any:
    section, _, key = dotted.partition(".")
    return ((payload or {}).get(section) or {}).get(key)


def _shown(value: Any) -> str:
    """A value on one line: JSON, with absent/null shown as ∅."""
    return "∅" if value is None else orjson.dumps(value).decode()
