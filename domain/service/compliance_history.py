"""Compliance audit: every version of a connection's compliance payload, replayed from the
connection's own events (never from a read model, which is what makes it trustworthy).

A version is one ``ComplianceUpdated`` event: the aggregate version it was recorded at, the
event's timestamp, who saved it, the names of the fields it changed, and the whole payload
as entered. "As of" a point (an aggregate version, or a time) is the newest version at or
before that point. Deleted connections stay auditable; another account's connection is
reported as not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from domain.errors import ConnectionNotFoundError, InvalidPointInTimeError
from domain.service.registration_history import RegistrationFact, registration_facts
from domain.service.store import Sees
from domain.sms_connections import SmsConnection

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class ComplianceVersion:
    """One saved version of the compliance payload, exactly as recorded."""

    version: int  # the aggregate version of the ComplianceUpdated event
    recorded_at: datetime  # the event's timestamp (UTC), decided before it was recorded
    actor: str  # who saved it (the token's subject)
    changed_fields: list[str]  # dotted names, sorted
    compliance: dict[str, Any]  # the whole payload as entered
    chain: str | None = None  # the fact's link in the connection's hash chain


@dataclass(frozen=True)
class ComplianceHistory:
    """Every compliance version of one connection, oldest first, read at ``read_at_version``
    (the connection's version when the history was read)."""

    connection_id: UUID
    status: str
    read_at_version: int
    versions: list[ComplianceVersion]
    # Registration facts beside the edits: submissions (with the compliance version they
    # submitted) and what each level of the provider answered, with its reason codes.
    registration: list[RegistrationFact] = field(default_factory=list)

    def as_of(self, point: PointInTime) -> ComplianceHistory:
        """The history as it stood at ``point``: only the compliance version in effect then
        (none when nothing had been saved yet: ``version_as_of``) and the registration facts
        recorded at or before it (by aggregate version, or by time). The one reading of
        "as of" for every reader (``GET …/compliance/history?asOf=``, ``sms-channels audit
        history --as-of``); the whole history when no point is given."""
        if not point.given:
            return self
        in_effect = version_as_of(self, point)
        facts = [
            fact
            for fact in self.registration
            if (point.version is None or fact.version <= point.version)
            and (point.at is None or fact.at <= point.at)
        ]
        versions = [in_effect] if in_effect is not None else []
        return replace(self, versions=versions, registration=facts)


@dataclass(frozen=True)
class PointInTime:
    """An aggregate version (``version``) or a moment (``at``, time-zone aware); at most one."""

    version: int | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.version is not None and self.at is not None:
            raise InvalidPointInTimeError("asOf", "Give asOf or asOfVersion, not both.")
        if self.version is not None and self.version < 1:
            raise InvalidPointInTimeError("asOfVersion", "asOfVersion starts at 1.")
        if self.at is not None and self.at.utcoffset() is None:
            raise InvalidPointInTimeError("asOf", "asOf needs a time zone (e.g. Z).")

    @property
    def given(self) -> bool:
        return self.version is not None or self.at is not None


def parse_as_of(value: str) -> datetime:
    """An RFC 3339 timestamp with a time zone (``2025-01-31T09:30:00Z``); raises
    InvalidPointInTimeError otherwise (the message does not repeat the input)."""
    text = value.strip().upper()
    if not _RFC3339.fullmatch(text):
        raise InvalidPointInTimeError(
            "asOf",
            "asOf must be an RFC 3339 timestamp with a time zone, e.g. 2025-01-31T09:30:00Z.",
        )
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidPointInTimeError(
            "asOf", "asOf is not a valid date and time (check the day, month and hour)."
        ) from None


def compliance_history(
    application: Application[UUID],
    connection_id: UUID,
    *,
    account_id: str | None,
    sees: Sees = None,
) -> ComplianceHistory:
    """Replay the connection's events into its compliance versions, oldest first.

    ``account_id`` scopes the read to one tenant: another account's connection raises
    ConnectionNotFoundError, as an unknown one does. ``None`` is the operator's scope (the
    audit CLI, run by someone who holds the database credentials): no tenant check.
    ``sees``: the workspaces the caller sees (another's connection is not found either).
    Deleted connections are included. The events are read up to the version of the loaded
    connection, so the history and ``status`` describe the same moment. Each stored event
    is read and decrypted once: the connection is rebuilt from the same events."""
    events = list(application.events.get(connection_id))
    connection = _connection(events, connection_id, account_id, sees)
    versions = [
        _version(event) for event in events if isinstance(event, SmsConnection.ComplianceUpdated)
    ]
    return ComplianceHistory(
        connection_id=connection_id,
        status=connection.status,
        read_at_version=connection.version,
        versions=versions,
        registration=registration_facts(events),
    )


def version_as_of(history: ComplianceHistory, point: PointInTime) -> ComplianceVersion | None:
    """The version in effect at ``point``: the newest one recorded at or before it (by
    aggregate version, or by timestamp); None when no payload had been saved by then."""
    in_effect = [
        version
        for version in history.versions
        if (point.version is None or version.version <= point.version)
        and (point.at is None or version.recorded_at <= point.at)
    ]
    return in_effect[-1] if in_effect else None


def _connection(
    events: list[Any], connection_id: UUID, account_id: str | None, sees: Sees
) -> SmsConnection:
    """The connection rebuilt from its events; ConnectionNotFoundError when there is none,
    (with ``account_id``) it belongs to another account, or (``sees``) to a workspace the
    caller does not see."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    if not isinstance(aggregate, SmsConnection):
        raise ConnectionNotFoundError(connection_id)
    if account_id is not None and aggregate.account_id != account_id:
        raise ConnectionNotFoundError(connection_id)
    if sees is not None and not sees(aggregate.workspace_id):
        raise ConnectionNotFoundError(connection_id)
    return aggregate


def _version(event: SmsConnection.ComplianceUpdated) -> ComplianceVersion:
    return ComplianceVersion(
        version=event.originator_version,
        recorded_at=event.timestamp,
        actor=event.updated_by,
        changed_fields=list(event.changed_fields),
        compliance=event.compliance,
        chain=event.chain,
    )


def registration_view(
    application: Application[UUID], connection_id: UUID, *, account_id: str, sees: Sees = None
) -> tuple[SmsConnection, list[RegistrationFact]]:
    """The live connection of ``account_id`` and its registration facts, from one read of
    its events (so both describe the same moment). ConnectionNotFoundError when unknown,
    another account's, of a workspace the caller does not see (``sees``), or deleted."""
    events = list(application.events.get(connection_id))
    connection = _connection(events, connection_id, account_id, sees)
    if connection.is_deleted:
        raise ConnectionNotFoundError(connection_id)
    return connection, registration_facts(events)
