"""Every error → problem+json, in one place: domain errors by class, validation errors
without the submitted values, unknown failures as a bare 500 that leaks nothing."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any

import psycopg
import psycopg_pool
import structlog
from eventsourcing import persistence as es
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.middleware import read_as_json
from api.problems import ProblemError, problem_response
from domain import errors as de
from domain import providers as dp

log = structlog.get_logger("api.errors")

# Domain error class → (HTTP status, title). Subclasses inherit their base's entry.
_STATUS: dict[type[de.DomainError], tuple[int, str]] = {
    de.ConnectionNotFoundError: (404, "Not found"),
    de.ConnectionDeletedError: (404, "Not found"),
    de.VersionConflictError: (412, "Version conflict"),
    de.AgentRequiredError: (422, "Agent required"),
    de.InvalidPhoneNumberError: (422, "Invalid phone number"),
    de.PhoneNumberCountryMismatchError: (422, "Phone number not of that country"),
    de.InvalidCountryError: (422, "Invalid country"),
    de.InvalidAreaCodeError: (422, "Invalid area code"),
    de.NumberAlreadyConnectedError: (409, "Number already connected"),
    de.NotConnectedError: (409, "Not connected"),
    de.InvalidTransitionError: (409, "Invalid transition"),
    de.IdempotencyKeyReusedError: (422, "Idempotency key reused"),
    de.InvalidRegistrationStatusError: (422, "Invalid registration status"),
    de.ComplianceInvalidError: (422, "Invalid compliance payload"),
    de.InvalidPointInTimeError: (422, "Invalid point in time"),
    de.InvalidTextError: (422, "Invalid request"),
    dp.NumberUnavailableError: (409, "Number unavailable"),
    dp.ComplianceRestrictedError: (422, "Compliance restriction"),
    dp.ProviderUnavailableError: (503, "Provider unavailable"),
    dp.BadAreaCodeError: (422, "Invalid area code"),
    dp.ProviderRejectedError: (502, "Provider refused the request"),
    dp.WebhookRejectedError: (403, "Webhook refused"),
    dp.WebhookPayloadError: (400, "Malformed webhook"),
    dp.UnknownProviderError: (404, "Not found"),
    de.InvalidNumberSearchError: (422, "Invalid number search"),
    de.ProvisioningFailedError: (409, "Provisioning failed"),
    de.RecordedRequestUnavailableError: (503, "Service unavailable"),
    de.UnsupportedCountryError: (422, "Unsupported country"),
    de.UnknownAgentError: (422, "Unknown agent"),
    de.RegistrationNotRequiredError: (422, "Registration not required"),
    de.RegistrationInProgressError: (409, "Registration in progress"),
    de.RegistrationUnchangedError: (409, "Registration unchanged"),
    de.PreflightFailedError: (422, "Preflight failed"),
    dp.RegistrationUnsupportedError: (501, "Not supported by the provider"),
}
CONNECTIONS_PATH = "/channels/sms/connections/"

# The database is down, restarting or out of connections: a transient condition the client
# should retry, never a 500. (A write that failed here was not committed: its transaction is
# rolled back by PostgreSQL, so nothing is half-written.)
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    es.OperationalError,
    es.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
)
DATABASE_RETRY_AFTER_SECONDS = 2

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable"}


def _domain_problem(error: de.DomainError) -> ProblemError:
    status, title = next(
        (_STATUS[cls] for cls in type(error).__mro__ if cls in _STATUS), (400, "Bad request")
    )
    headers: dict[str, str] = {}
    errors: list[dict[str, str]] | None = None
    if isinstance(error, de.VersionConflictError) and error.expected is None:
        status = 409  # a race without If-Match, after retries: not a stale precondition
    elif isinstance(error, de.VersionConflictError) and error.actual is not None:
        headers["ETag"] = f'"{error.actual}"'  # the current version's tag (RFC 9110 §13.1.1)
    extensions: dict[str, Any] = {}
    if isinstance(error, dp.ProviderUnavailableError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, de.RecordedRequestUnavailableError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, dp.ProvisioningInterruptedError | de.RecordedRequestUnavailableError):
        # The request is recorded (pending): say where, so a UI shows it instead of an error.
        headers["Location"] = f"{CONNECTIONS_PATH}{error.connection_id}"
        extensions["connectionId"] = str(error.connection_id)
    if isinstance(error, de.ComplianceInvalidError):
        errors = [
            {
                "field": "smsCompliance." + p.field if p.field != "smsCompliance" else p.field,
                "code": p.code,
                "message": p.message,
            }
            for p in error.problems
        ]
    elif isinstance(error, de.PreflightFailedError):
        errors = [{"field": p.field, "code": p.code, "message": p.message} for p in error.problems]
    elif isinstance(error, de.InvalidTextError) and error.field is not None:
        errors = [{"field": error.field, "code": error.rule, "message": error.message}]
    elif error.field is not None:
        errors = [{"field": error.field, "code": error.code, "message": error.message}]
    return ProblemError(
        status,
        error.code,
        title,
        error.message,
        errors=errors,
        headers=headers,
        extensions=extensions,
    )


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(errors: Sequence[Any]) -> ProblemError:
    """A 422 listing field, code and pydantic's generic message: never the input value."""
    items = [
        {
            "field": _field_name(e.get("loc", ())),
            "code": str(e.get("type", "invalid")),
            "message": str(e.get("msg", "Invalid value")),
        }
        for e in errors
    ]
    return ProblemError(
        422, "validation_error", "Invalid request", "The request is not valid.", errors=items
    )


async def _on_problem(_: Request, error: Exception) -> Response:
    assert isinstance(error, ProblemError)
    return problem_response(error)


async def _on_domain(_: Request, error: Exception) -> Response:
    assert isinstance(error, de.DomainError)
    return problem_response(_domain_problem(error))


async def _on_validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if _body_not_json(request, error.errors()):
        return problem_response(
            ProblemError(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "This operation takes a JSON body: send Content-Type: application/json.",
                headers={"Accept": "application/json"},
            )
        )
    return problem_response(validation_problem(error.errors()))


def _body_not_json(request: Request, errors: Sequence[Any]) -> bool:
    """Whether a route that takes a JSON body refused one sent with another Content-Type
    (FastAPI then does not parse it: the body's errors are a symptom, 415 the cause)."""
    content_type = request.headers.get("content-type")
    body_errors = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
    return body_errors and content_type is not None and not read_as_json(content_type.encode())


async def _on_http(_: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    detail = error.detail if isinstance(error.detail, str) else "Request refused."
    headers = dict(error.headers or {})
    return problem_response(ProblemError(error.status_code, code, detail, detail, headers=headers))


def database_unavailable() -> ProblemError:
    """503 ``service_unavailable`` with ``Retry-After``: the database is away."""
    return ProblemError(
        503,
        "service_unavailable",
        "Service unavailable",
        "The database is unavailable; try again shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _on_database_unavailable(request: Request, error: Exception) -> Response:
    log.warning("database_unavailable", error_type=type(error).__name__, path=request.url.path)
    return problem_response(database_unavailable())


async def _on_data_error(request: Request, error: Exception) -> Response:
    # A value PostgreSQL refused (NUL in text, a date out of range, a malformed literal):
    # it came from the request, since stored values were checked on their way in. The
    # message may quote the value: only the class is logged.
    log.warning("database_refused_value", error_type=type(error).__name__, path=request.url.path)
    return problem_response(
        ProblemError(
            422,
            "validation_error",
            "Invalid request",
            "A value of the request cannot be stored or compared.",
            errors=[
                {"field": "request", "code": "invalid_value", "message": "A value is invalid."}
            ],
        )
    )


async def _on_unexpected(request: Request, error: Exception) -> Response:
    # The exception's message may hold request data (e.g. a payload value): log its type and
    # the frames, never str(error).
    log.error(
        "unhandled_error",
        error_type=type(error).__name__,
        path=request.url.path,
        frames="".join(traceback.format_tb(error.__traceback__)),
    )
    return problem_response(
        ProblemError(500, "internal_error", "Internal error", "Something went wrong on our side.")
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(de.DomainError, _on_domain)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    for error_class in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error_class, _on_database_unavailable)
    app.add_exception_handler(psycopg.DataError, _on_data_error)
    app.add_exception_handler(es.DataError, _on_data_error)
    app.add_exception_handler(Exception, _on_unexpected)
