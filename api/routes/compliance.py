"""The compliance payload of a connection (``set-sms-compliance``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response

from api.deps import ApplicationDep, ExpectedVersion, SmsManager
from api.preconditions import etag
from api.schemas.connections import ComplianceOut
from domain.compliance import ComplianceDraft, empty_compliance

router = APIRouter(tags=["compliance"])
BASE = "/channels/sms/connections/{connection_id}/compliance"

_PAYLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ComplianceDraft.model_json_schema()}},
    }
}


@router.put(BASE, openapi_extra=_PAYLOAD_SCHEMA)
def put_compliance(
    connection_id: UUID,
    payload: Annotated[dict[str, Any], Body()],
    principal: SmsManager,
    application: ApplicationDep,
    version: ExpectedVersion,
    response: Response,
) -> ComplianceOut:
    """Replace the payload exactly as entered; partial payloads are drafts and are saved."""
    result = application.update_compliance(
        principal.account_id,
        connection_id,
        payload,
        by=principal.user_id,
        expected_version=version,
    )
    response.headers["ETag"] = etag(result.connection.version)
    return ComplianceOut(
        sms_compliance=result.connection.compliance or empty_compliance(),
        version=result.connection.version,
        position=result.position,
    )


@router.get(BASE)
def get_compliance(
    connection_id: UUID, principal: SmsManager, application: ApplicationDep, response: Response
) -> ComplianceOut:
    """The current payload as entered, or empty defaults when none was ever saved."""
    connection = application.get_connection(principal.account_id, connection_id)
    response.headers["ETag"] = etag(connection.version)
    return ComplianceOut(
        sms_compliance=connection.compliance or empty_compliance(), version=connection.version
    )
