"""The commands the application takes and what it answers: plain values, checked by the
aggregates (not here), so the API, the CLI and the workers build them the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from domain.provider_deliveries import DeliveryOutcome
from domain.sms_connections import Mode, SmsConnection

# A write's expected version (If-Match): one version, any of several (a list of entity
# tags), or None (no precondition).
Expected = int | frozenset[int] | None


def versions_of(expected: int | frozenset[int]) -> frozenset[int]:
    """The versions an expected version admits (one, or any of a list)."""
    return expected if isinstance(expected, frozenset) else frozenset({expected})


@dataclass(frozen=True)
class ConnectNumber:
    """The connect command (wizard step Connect + Destination)."""

    account_id: str
    workspace_id: str
    agent_id: str
    mode: Mode
    country: str
    area_code: str | None
    phone_number: str
    requested_by: str
    idempotency_key: str | None = None
    compliance: dict[str, Any] | None = None


@dataclass(frozen=True)
class NewNumber:
    """The replace-number command: the number that takes a reclaimed or failed one's place."""

    mode: Mode
    country: str
    area_code: str | None
    phone_number: str
    requested_by: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CommandResult:
    """The connection after a command, and the log position that includes the change."""

    connection: SmsConnection
    position: int
    created: bool = False


@dataclass(frozen=True)
class ProviderEventResult:
    """What a webhook delivery did: ``applied`` (a connection changed), ``ignored``
    (nothing to change), ``stale`` (a report older than the latest applied: recorded, not
    applied), or ``duplicate`` (this event id was handled before)."""

    outcome: DeliveryOutcome | Literal["duplicate"]
    connection_id: UUID | None
    position: int
