"""Dependency aliases: the application, and the principal holding each permission.

The dependencies that only read app state or headers are ``async def``: FastAPI runs a
sync dependency in its thread pool, and a hop there per dependency per request is a cost
the channels table page measured (B3). The ones that touch the database stay sync, and so
does ``RequirePermission`` (callable directly, as its tests do)."""

from __future__ import annotations

from typing import Annotated, Any, get_args
from uuid import UUID

from fastapi import Depends, Header, Request

from api.auth import Principal, RequirePermission, RequirePermissionOnLoop
from api.preconditions import (
    IF_MATCH_PATTERN,
    REQUIRED_IF_MATCH_PATTERN,
    expected_version,
    idempotency_key,
)
from api.problems import ProblemError
from api.query_pool import ReadModels
from api.rate_limits import RateLimit
from domain.application import SmsChannels
from domain.errors import ConnectionNotFoundError
from domain.sms_connections import SmsConnection


async def _application(request: Request) -> SmsChannels:
    application: SmsChannels = request.app.state.application
    return application


async def _read_models(request: Request) -> ReadModels:
    read_models: ReadModels | None = request.app.state.read_models
    if read_models is None:
        raise ProblemError(
            503,
            "read_models_unavailable",
            "Read models unavailable",
            "This deployment has no read models (in-memory persistence).",
        )
    return read_models


async def _optional_read_models(request: Request) -> ReadModels | None:
    read_models: ReadModels | None = request.app.state.read_models
    return read_models


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Entity tags as read (ETag), a list of them, or *; the bare "<version>" '
        "too. Weak tags never match (412).",
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]


RequiredIfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Required: the entity tag as read (ETag), a list of them, or the bare "'
        '<version>". Without it, or with *, 428 (a blind overwrite of a form several admins '
        "edit); weak tags never match (412).",
        json_schema_extra={"pattern": REQUIRED_IF_MATCH_PATTERN},
    ),
]


async def _if_match(if_match: IfMatchHeader = None) -> int | frozenset[int] | None:
    return expected_version(if_match)


async def _required_if_match(
    if_match: RequiredIfMatchHeader = None,
) -> int | frozenset[int] | None:
    """The version ``If-Match`` names; 428 ``precondition_required`` without one, or with
    ``*`` (the long compliance form is edited by several admins: "whatever is there" would
    be the blind overwrite the precondition exists to prevent)."""
    version = expected_version(if_match)
    if if_match is None or version is None:
        raise ProblemError(
            428,
            "precondition_required",
            "Precondition required",
            'This write needs If-Match: "<version>" (the version you read).',
            errors=[
                {
                    "field": "If-Match",
                    "code": "precondition_required",
                    "message": "If-Match is required.",
                }
            ],
        )
    return version


async def _idempotency_key(
    idempotency_key_header: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> str | None:
    return idempotency_key(idempotency_key_header)


def workspace_forbidden() -> ProblemError:
    """403 for a command naming a workspace the caller's token does not cover (the caller
    named it, so refusing reveals nothing it did not already know). The id is not echoed."""
    message = "This token does not cover the workspace."
    return ProblemError(
        403,
        "workspace_forbidden",
        "Forbidden",
        message,
        errors=[{"field": "workspaceId", "code": "workspace_forbidden", "message": message}],
    )


def check_workspace(application: SmsChannels, principal: Principal, connection_id: UUID) -> None:
    """ConnectionNotFoundError (404) when a workspace-restricted token asks for a connection
    of a workspace it does not cover: as for another account's, its existence is not shown.
    Unrestricted tokens cost nothing here (no extra load)."""
    if principal.workspaces is None:
        return
    connection = application.get_connection_for_audit(principal.account_id, connection_id)
    if not principal.sees(connection.workspace_id):
        raise ConnectionNotFoundError(connection_id)


ApplicationDep = Annotated[SmsChannels, Depends(_application)]
ReadModelsDep = Annotated[ReadModels, Depends(_read_models)]
# None in deployments without read models (in-memory persistence): for optional reads.
OptionalReadModelsDep = Annotated[ReadModels | None, Depends(_optional_read_models)]
ExpectedVersion = Annotated[int | frozenset[int] | None, Depends(_if_match)]
RequiredVersion = Annotated[int | frozenset[int] | None, Depends(_required_if_match)]
IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]

_CONNECT = RequirePermission("channels.connect")
_REPLACE = RequirePermission("channels.connect", "sms.manage")
_MANAGE = RequirePermission("sms.manage")
ChannelsReader = Annotated[Principal, Depends(RequirePermission("channels.read"))]
# The async read routes (the channels table page, the account trail, the compliance history)
# check the token on the event loop too: their whole request stays on it.
ChannelsPageReader = Annotated[Principal, Depends(RequirePermissionOnLoop("channels.read"))]
AuditReader = Annotated[Principal, Depends(RequirePermissionOnLoop("compliance.audit"))]
ChannelsConnector = Annotated[Principal, Depends(_CONNECT)]
SmsManager = Annotated[Principal, Depends(_MANAGE)]
ComplianceAuditor = Annotated[Principal, Depends(RequirePermission("compliance.audit"))]
DirectoryWriter = Annotated[Principal, Depends(RequirePermission("directory.write"))]
NumberReplacer = Annotated[Principal, Depends(_REPLACE)]


def scoped_connection(reader: Any) -> Any:
    """A dependency: the live connection the path's ``connection_id`` names, loaded once,
    when it is of the token's account and (for a workspace-restricted token) of one of its
    workspaces; ConnectionNotFoundError (404) otherwise, as for an unknown one. ``reader``
    is the route's own permission alias (its dependency runs once per request)."""
    permission = get_args(reader)[1]  # the Depends(...) inside the Annotated alias

    def load(
        connection_id: UUID, application: ApplicationDep, principal: Principal = permission
    ) -> SmsConnection:
        connection = application.get_connection(principal.account_id, connection_id)
        if not principal.sees(connection.workspace_id):
            raise ConnectionNotFoundError(connection_id)
        return connection

    return Depends(load)


# The connection a read names, in the caller's scope (reads: the commands check the scope
# with ``check_workspace`` after the body is validated, and load inside their retry loop).
ScopedConnection = Annotated[SmsConnection, scoped_connection(ChannelsReader)]
ManagedConnection = Annotated[SmsConnection, scoped_connection(SmsManager)]


def _rate_limit(name: str, requirement: Any) -> Any:
    # The requirement is a default value, not an annotation: annotations are strings here
    # (postponed evaluation), which FastAPI cannot resolve for a closure's local.
    def take(request: Request, principal: Principal = requirement) -> None:
        bucket: RateLimit = request.app.state.rate_limits[name]
        bucket.take(principal.account_id)

    return Depends(take)


# Per-account rate limits (429): on the routes that cost money at the provider, and on the
# writes that lengthen a connection's history (settings, compliance). They reuse the route's
# permission dependency (the same instance), so the token is verified once.
SearchRateLimit = _rate_limit("search", Depends(_CONNECT))
SettingsRateLimit = _rate_limit("settings", Depends(_MANAGE))
ComplianceRateLimit = _rate_limit("compliance", Depends(_MANAGE))
ConnectRateLimit = _rate_limit("connect", Depends(_CONNECT))
ReplaceRateLimit = _rate_limit("connect", Depends(_REPLACE))  # a replacement buys a number too
