"""Domain errors. Each carries a stable ``code`` (part of the HTTP contract) and, where one
input field is at fault, the ``field`` name as the API spells it. Messages never quote a
submitted value: compliance data is secret and numbers are personal data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input field: where (dotted path), what rule (code), and why (message)."""

    field: str
    code: str
    message: str


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""

    code: ClassVar[str] = "domain_error"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConnectionNotFoundError(DomainError):
    """Raised when a connection does not exist, belongs to another account, or was deleted
    and the caller is not an auditor (we never reveal that another account's object exists)."""

    code = "connection_not_found"

    def __init__(self, connection_id: UUID) -> None:
        super().__init__(f"Connection {connection_id} was not found.")
        self.connection_id = connection_id


class ConnectionDeletedError(DomainError):
    """Raised when a command is sent to a connection that was deleted: deleted refuses all."""

    code = "connection_deleted"

    def __init__(self, connection_id: UUID) -> None:
        super().__init__(f"Connection {connection_id} was deleted; it accepts no commands.")
        self.connection_id = connection_id


class VersionConflictError(DomainError):
    """Raised when a write carries an expected version that is no longer the current one,
    or when a concurrent writer saved the same aggregate version first."""

    code = "version_conflict"

    def __init__(self, expected: int | None, actual: int | None) -> None:
        super().__init__(
            "The connection was changed since you read it: reload it and apply your change again."
        )
        self.expected = expected
        self.actual = actual


class AgentRequiredError(DomainError):
    """Raised when a connection would be created, assigned, or activated without an agent:
    SMS is an agent-managed channel family."""

    code = "agent_required"

    def __init__(self) -> None:
        super().__init__("An agent is required for an SMS connection.", field="agentId")


class UnknownAgentError(DomainError):
    """Raised when a connection would move to a workspace with an agent that the agent
    directory does not list in that workspace."""

    code = "unknown_agent"

    def __init__(self, workspace_id: str) -> None:
        super().__init__(
            f"The agent is not in the directory of workspace {workspace_id!r}.", field="agentId"
        )


class InvalidPhoneNumberError(DomainError):
    """Raised when a phone number is not a valid E.164 number."""

    code = "invalid_phone_number"

    def __init__(self, field: str = "phoneNumber") -> None:
        super().__init__(
            "The phone number must be a valid number in E.164 form, e.g. +14155550123.",
            field=field,
        )


class PhoneNumberCountryMismatchError(DomainError):
    """Raised when a valid phone number does not belong to the chosen country."""

    code = "phone_number_country_mismatch"

    def __init__(self, country: str) -> None:
        super().__init__(
            f"The phone number does not belong to the chosen country ({country}).",
            field="phoneNumber",
        )


class InvalidCountryError(DomainError):
    """Raised when a country code is not an ISO 3166 alpha-2 code known to the phone plan."""

    code = "invalid_country"

    def __init__(self) -> None:
        super().__init__(
            "The country must be an ISO 3166 alpha-2 code, e.g. US.", field="countryCode"
        )


class InvalidAreaCodeError(DomainError):
    """Raised when an area code is given that is not 2 to 5 digits."""

    code = "invalid_area_code"

    def __init__(self) -> None:
        super().__init__("The area code must be 2 to 5 digits.", field="areaCode")


class NumberAlreadyConnectedError(DomainError):
    """Raised when a number is already held by another live connection (its claim is taken)."""

    code = "number_already_connected"

    def __init__(self) -> None:
        super().__init__(
            "This number is already connected. Pick another number or delete the existing"
            " connection first.",
            field="phoneNumber",
        )


class NotConnectedError(DomainError):
    """Raised when activation is asked of a connection whose number is not connected."""

    code = "not_connected"

    def __init__(self, status: str) -> None:
        super().__init__(f"Only a connected number can be activated; this connection is {status}.")
        self.status = status


class InvalidTransitionError(DomainError):
    """Raised when a provider-side fact does not fit the connection's lifecycle state
    (e.g. connecting a number that already failed)."""

    code = "invalid_transition"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"Cannot {action} a connection that is {status}.")


class IdempotencyKeyReusedError(DomainError):
    """Raised when an Idempotency-Key is replayed with a different number, mode or agent
    than the request that first used it."""

    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used for a different request.",
            field="Idempotency-Key",
        )


class InvalidRegistrationStatusError(DomainError):
    """Raised when a provider reports a registration status outside the known list."""

    code = "invalid_registration_status"

    def __init__(self) -> None:
        super().__init__("Unknown registration status.", field="status")


class ComplianceInvalidError(DomainError):
    """Raised when a compliance payload does not have the right shape: unknown field, wrong
    JSON type, a string over its hard cap, too many samples, or an enum value off its list."""

    code = "validation_error"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("The compliance payload is not valid.")
        self.problems = problems


class InvalidTextError(DomainError):
    """Raised when a string breaks the text rule (``domain/text.py``): a NUL, a control,
    format or unassigned character, a lone surrogate, an id outside its character set, or
    a value over its length cap. ``rule`` says which; the message never quotes the value."""

    code = "validation_error"

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message, field=field)
        self.rule = rule


class InvalidPointInTimeError(DomainError):
    """Raised when an audit asks for the compliance payload at a point in time that is not
    well formed: ``asOf`` not an RFC 3339 timestamp with a time zone, ``asOfVersion`` below 1,
    or both given at once."""

    code = "invalid_point_in_time"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class InvalidNumberSearchError(DomainError):
    """Raised when a number search asks for something malformed: ``contains`` with
    characters other than digits, letters and ``*`` or of the wrong length, or a ``limit``
    out of range. ``field`` names the query parameter."""

    code = "invalid_number_search"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class ProvisioningFailedError(DomainError):
    """Raised when a replayed connect (same Idempotency-Key) finds that its request failed
    for a reason with no more specific error: interrupted and given up by the reconcile
    worker, or a hosting order the provider refused. Start again with a new request."""

    code = "provisioning_failed"

    def __init__(self, failure_code: str) -> None:
        super().__init__(
            f"This request failed ({failure_code}); start again with a new request.",
        )
        self.failure_code = failure_code


class RecordedRequestUnavailableError(DomainError):
    """Raised when the event store failed after a connect recorded its request (or while a
    replay resumed a recorded one): the request exists, perhaps with its number bought, so
    the answer names it (``connection_id``) for the client to read it or retry with its key.
    A database failure *before* anything was recorded stays a plain 503."""

    code = "service_unavailable"

    def __init__(self, connection_id: UUID, retry_after_seconds: int = 2) -> None:
        super().__init__(
            "The database became unavailable after the request was recorded; read the "
            "connection at Location, or retry with the same Idempotency-Key to resume it."
        )
        self.connection_id = connection_id
        self.retry_after_seconds = retry_after_seconds


class UnsupportedCountryError(DomainError):
    """Raised when a country is a real ISO 3166 alpha-2 code but not one this service
    supports (it is not in the regional rules table, ``domain/regions.toml``)."""

    code = "unsupported_country"

    def __init__(self, country: str) -> None:
        super().__init__(
            f"SMS numbers in {country} are not supported; GET /channels/sms/countries lists"
            " the supported countries.",
            field="countryCode",
        )
        self.country = country


class AreaCodeNotApplicableError(InvalidAreaCodeError):
    """Raised when an area code is given for a country where the number search takes none
    (``areaCodeSearch`` false in the regional rules)."""

    def __init__(self, country: str) -> None:
        DomainError.__init__(
            self,
            f"Area-code search does not apply in {country}; leave the area code out.",
            field="areaCode",
        )


class RegistrationNotRequiredError(DomainError):
    """Raised when a registration is submitted for a number whose region's rule needs no
    brand or campaign registration."""

    code = "registration_not_required"

    def __init__(self, country: str) -> None:
        super().__init__(
            f"Numbers of {country} need no 10DLC registration: there is nothing to submit.",
            field="countryCode",
        )


class RegistrationInProgressError(DomainError):
    """Raised when the same (unchanged) payload is submitted again while its registration
    is still in flight at the provider."""

    code = "registration_in_progress"

    def __init__(self) -> None:
        super().__init__(
            "This payload is already being registered; wait for the provider's decision."
        )


class RegistrationUnchangedError(DomainError):
    """Raised when a payload the provider already decided on is submitted again unchanged
    (after a rejection or an approval only a changed payload can be submitted)."""

    code = "registration_unchanged"

    def __init__(self) -> None:
        super().__init__(
            "The provider already decided on this payload: change it before submitting again."
        )


class PreflightFailedError(DomainError):
    """Raised when a registration is submitted while the preflight finds errors:
    ``problems`` names each failing field and rule (never a value)."""

    code = "preflight_failed"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "The compliance payload would likely be refused: fix the listed fields first."
        )
        self.problems = problems


class StaleReportError(DomainError):
    """Raised when a provider's report is dated earlier than the latest report applied about
    the same reference (out-of-order delivery): recorded as ``stale``, not applied."""

    code = "report_stale"

    def __init__(self) -> None:
        super().__init__("The provider dated this report earlier than the latest one applied.")
