"""Dependency aliases: the application, and the principal holding each permission."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.auth import Principal, RequirePermission
from api.preconditions import expected_version, idempotency_key
from api.problems import ProblemError
from api.readmodels import ReadModels
from domain.application import SmsChannels


def _application(request: Request) -> SmsChannels:
    application: SmsChannels = request.app.state.application
    return application


def _read_models(request: Request) -> ReadModels:
    read_models: ReadModels | None = request.app.state.read_models
    if read_models is None:
        raise ProblemError(
            503,
            "read_models_unavailable",
            "Read models unavailable",
            "This deployment has no read models (in-memory persistence).",
        )
    return read_models


def _if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    return expected_version(if_match)


def _idempotency_key(
    idempotency_key_header: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> str | None:
    return idempotency_key(idempotency_key_header)


ApplicationDep = Annotated[SmsChannels, Depends(_application)]
ReadModelsDep = Annotated[ReadModels, Depends(_read_models)]
ExpectedVersion = Annotated[int | None, Depends(_if_match)]
IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]

ChannelsReader = Annotated[Principal, Depends(RequirePermission("channels.read"))]
ChannelsConnector = Annotated[Principal, Depends(RequirePermission("channels.connect"))]
SmsManager = Annotated[Principal, Depends(RequirePermission("sms.manage"))]
ComplianceAuditor = Annotated[Principal, Depends(RequirePermission("compliance.audit"))]
