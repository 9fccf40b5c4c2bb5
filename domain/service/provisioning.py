"""Pure helpers of the provisioning commands (``SmsChannels``): which decision a provider's
answer means for a connection, whether a request still awaits the provider, and the error
an idempotent replay answers with. Functions of their arguments: no loading, no saving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from domain.errors import DomainError, ProvisioningFailedError
from domain.providers import (
    BadAreaCodeError,
    ComplianceRestrictedError,
    NumberUnavailableError,
    ProvisionedNumber,
)
from domain.sms_connections import SmsConnection

# Failure codes the service records itself (the provider's own refusals use their codes).
INTERRUPTED = "provisioning_interrupted"
HOSTING_FAILED = "hosting_failed"


def primary_connection(changed: list[Aggregate]) -> tuple[SmsConnection | None, list[Aggregate]]:
    """The first changed connection (the delivery names it; None when the fact changed a
    shared brand or campaign registration but no connection) and everything else changed."""
    connection = next((a for a in changed if isinstance(a, SmsConnection)), None)
    return connection, [a for a in changed if a is not connection]


def position_of(recordings: list[Recording[UUID]]) -> int:
    return max(recording.notification.id for recording in recordings)


def mark_connected(number: ProvisionedNumber) -> Callable[[SmsConnection], None]:
    def decide(connection: SmsConnection) -> None:
        connection.mark_connected(number.provider, number.ref)

    return decide


def mark_hosting(provider: str, order_ref: str) -> Callable[[SmsConnection], None]:
    def decide(connection: SmsConnection) -> None:
        connection.record_hosting_started(provider, order_ref)

    return decide


def only_connection(
    decide: Callable[[SmsConnection], None],
) -> Callable[[SmsConnection], list[Aggregate]]:
    """Adapts a decision that changes only the connection to ``Store.provider_change``."""

    def decision(connection: SmsConnection) -> list[Aggregate]:
        decide(connection)
        return []

    return decision


def awaits_provider(connection: SmsConnection) -> bool:
    """True for a ``requested`` connection that has no provider outcome yet: a purchase
    never recorded, or a hosting order never opened."""
    if connection.status != "requested":
        return False
    if connection.mode == "new":
        return connection.provider_ref is None
    return connection.hosting_order_ref is None


def interrupted(connection: SmsConnection, requested_before: datetime) -> bool:
    return awaits_provider(connection) and connection.created_on < requested_before


def as_uuid(value: str | None) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def failure_error(connection: SmsConnection) -> DomainError:
    """The error the first attempt of a connect answered with, for an idempotent replay."""
    code = connection.failure_code or ""
    if code == NumberUnavailableError.code:
        return NumberUnavailableError()
    if code == ComplianceRestrictedError.code:
        return ComplianceRestrictedError(restriction_reason(connection.failure_reason or ""))
    if code == BadAreaCodeError.code:
        return BadAreaCodeError()
    return ProvisioningFailedError(code)


def restriction_reason(recorded_message: str) -> str:
    """The provider's reason inside the recorded message "The provider restricts numbers
    here: <reason>" (the failure record keeps the whole message)."""
    return recorded_message.removeprefix("The provider restricts numbers here: ")
