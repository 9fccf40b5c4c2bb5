"""Connections: connect a number, read, change settings, delete."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import (
    ApplicationDep,
    ChannelsConnector,
    ChannelsReader,
    ConnectRateLimit,
    ExpectedVersion,
    IdempotencyKey,
    SmsManager,
    check_workspace,
    workspace_forbidden,
)
from api.preconditions import etag
from api.schemas.connections import (
    ConnectionOut,
    ConnectRequest,
    UpdateConnectionRequest,
    connection_out,
)
from domain.agent_directory import find_agent
from domain.application import CommandResult, ConnectNumber, SmsChannels
from domain.compliance import empty_compliance

router = APIRouter(tags=["connections"])
BASE = "/channels/sms/connections"


def _answer(application: SmsChannels, response: Response, result: CommandResult) -> ConnectionOut:
    response.headers["ETag"] = etag(result.connection.version)
    agent = find_agent(application, result.connection.account_id, result.connection.agent_id)
    return connection_out(result.connection, agent, position=result.position)


@router.post(
    "/channels/sms/connect",
    status_code=status.HTTP_201_CREATED,
    responses={
        202: {"model": ConnectionOut, "description": "Bring-your-own number requested"},
        409: {"description": "number_unavailable (search again), number_already_connected"},
        422: {"description": "Validation, or compliance_restricted (with the reason)"},
        429: {"description": "Too many connect requests for this account; see Retry-After"},
        503: {
            "description": "provider_unavailable, with Retry-After. Nothing is recorded when "
            "the outage was known; if it struck during the purchase the request stays "
            "pending: retry with the same Idempotency-Key to resume it."
        },
    },
    dependencies=[ConnectRateLimit],
)
def connect(
    body: ConnectRequest,
    principal: ChannelsConnector,
    application: ApplicationDep,
    key: IdempotencyKey,
    response: Response,
) -> ConnectionOut:
    """Connect a number: ``new`` buys it (201, connected); ``byon`` starts hosting (202,
    requested, with ``requestId``). Replays with the same Idempotency-Key answer the same
    connection. A workspace-restricted token connects only into its workspaces (403)."""
    if not principal.sees(body.workspace_id):
        raise workspace_forbidden()
    result = application.connect(
        ConnectNumber(
            account_id=principal.account_id,
            workspace_id=body.workspace_id,
            agent_id=body.agent_id,
            mode=body.mode,
            country=body.country_code,
            area_code=body.area_code,
            phone_number=body.phone_number,
            requested_by=principal.user_id,
            idempotency_key=key,
            compliance=body.sms_compliance,
        )
    )
    if result.connection.status == "requested":
        response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"{BASE}/{result.connection.id}"
    return _answer(application, response, result)


@router.get(BASE + "/{connection_id}")
def get_connection(
    connection_id: UUID, principal: ChannelsReader, application: ApplicationDep, response: Response
) -> ConnectionOut:
    """One connection; ``smsCompliance`` only for callers holding ``sms.manage``."""
    connection = application.get_connection(principal.account_id, connection_id)
    check_workspace(application, principal, connection_id)
    compliance = None
    if principal.may("sms.manage"):
        compliance = connection.compliance or empty_compliance()
        response.headers["Cache-Control"] = "no-store"  # compliance values are secrets
    response.headers["ETag"] = etag(connection.version)
    agent = find_agent(application, connection.account_id, connection.agent_id)
    return connection_out(connection, agent, compliance=compliance)


@router.patch(BASE + "/{connection_id}")
def update_connection(
    connection_id: UUID,
    body: UpdateConnectionRequest,
    principal: SmsManager,
    application: ApplicationDep,
    version: ExpectedVersion,
    response: Response,
) -> ConnectionOut:
    """Assign the agent and/or switch the channel on or off (409 when it cannot serve)."""
    check_workspace(application, principal, connection_id)
    result = application.update_settings(
        principal.account_id,
        connection_id,
        by=principal.user_id,
        agent_id=body.agent_id,
        active=body.active,
        expected_version=version,
    )
    return _answer(application, response, result)


@router.delete(BASE + "/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(
    connection_id: UUID,
    principal: SmsManager,
    application: ApplicationDep,
    version: ExpectedVersion,
) -> Response:
    """Delete the connection and release its number; kept for audit."""
    check_workspace(application, principal, connection_id)
    application.delete(
        principal.account_id, connection_id, by=principal.user_id, expected_version=version
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
