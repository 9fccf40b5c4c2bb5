"""The compliance payload of a connection (``set-sms-compliance``), its preflight, and its
audit history. Responses that carry compliance values are marked ``Cache-Control: no-store``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response

from api.auth import Principal
from api.deps import (
    ApplicationDep,
    ComplianceAuditor,
    ComplianceRateLimit,
    ManagedConnection,
    OptionalReadModelsDep,
    RequiredVersion,
    SmsManager,
)
from api.history_reader import read_history
from api.preconditions import etag
from api.query_pool import ReadModels
from api.schemas.compliance import (
    ChainVerificationOut,
    ComplianceHistoryOut,
    ComplianceOut,
    PreflightOut,
    compliance_out,
    history_json,
    preflight_out,
    verification_out,
)
from domain.application import SmsChannels
from domain.compliance.preflight import preflight
from domain.compliance.shape import ComplianceDraft
from domain.errors import ConnectionNotFoundError
from domain.service.audit_verify import verify_connection
from domain.service.compliance_history import PointInTime, parse_as_of
from projections.audit_trail import connection_place
from projections.channels_table import account_connection_ids

router = APIRouter(tags=["compliance"])
BASE = "/channels/sms/connections/{connection_id}/compliance"
NO_STORE = "no-store"
# How many of the account's other connections the preflight reads for its rules across
# connections (enough for the registry's limit of 100 campaigns per brand).
MAX_OTHER_CONNECTIONS = 500

_PAYLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ComplianceDraft.model_json_schema()}},
    }
}


@router.put(
    BASE,
    openapi_extra=_PAYLOAD_SCHEMA,
    responses={
        412: {"description": "version_conflict: If-Match names an older version"},
        428: {"description": "precondition_required: no If-Match"},
        429: {"description": "Too many compliance saves for this account; see Retry-After"},
    },
    dependencies=[ComplianceRateLimit],
)
def put_compliance(
    connection_id: UUID,
    payload: Annotated[dict[str, Any], Body()],
    principal: SmsManager,
    application: ApplicationDep,
    version: RequiredVersion,
    response: Response,
) -> ComplianceOut:
    """Replace the payload exactly as entered; partial payloads are drafts and are saved.
    ``If-Match: "<version>"`` is required (428 without, 412 when stale): several admins
    edit the long form. Answers with the section progress; the registration status is never
    changed by this."""
    result = application.update_compliance(
        principal.account_id,
        connection_id,
        payload,
        by=principal.user_id,
        expected_version=version,
        sees=principal.sees,
    )
    response.headers["ETag"] = etag(result.connection.version)
    response.headers["Cache-Control"] = NO_STORE
    return compliance_out(result.connection, position=result.position)


@router.get(BASE)
def get_compliance(connection: ManagedConnection, response: Response) -> ComplianceOut:
    """The current payload as entered (empty defaults when none was ever saved), with the
    section progress and the registration status as the provider reported it."""
    response.headers["ETag"] = etag(connection.version)
    response.headers["Cache-Control"] = NO_STORE
    return compliance_out(connection)


@router.get(BASE + "/preflight")
def get_preflight(
    connection: ManagedConnection,
    principal: SmsManager,
    application: ApplicationDep,
    read_models: OptionalReadModelsDep,
    response: Response,
) -> PreflightOut:
    """What would likely be refused at registration, by named rule, under the rules of the
    number's region (``ruleset``: ``us_10dlc`` for US numbers; elsewhere the registration
    the region needs, with no 10DLC rule applied), each finding with the provider reason
    codes it predicts (``providerCodes``). The rules across connections compare the payload
    with those of the account's other live connections the token may see (as the channels
    table lists them; a workspace-restricted token: of its workspaces only; none without
    read models). ``ready`` only means no error was found: it never implies
    carrier or registry approval."""
    others = other_payloads(application, read_models, principal, connection.id)
    response.headers["ETag"] = etag(connection.version)
    return preflight_out(
        preflight(connection.compliance, country=connection.country, others=others)
    )


def other_payloads(
    application: SmsChannels,
    read_models: ReadModels | None,
    principal: Principal,
    connection_id: UUID,
) -> list[dict[str, Any] | None]:
    """The compliance payloads of the account's other live connections that ``principal``
    may see: their ids from the channels table (eventually consistent), each payload from
    the event store. A workspace-restricted token's rules across connections compare with
    its workspaces only, so that no finding tells it what another workspace's form holds
    (an EIN, a company name): see docs/preflight.md."""
    if read_models is None:
        return []
    account_id = principal.account_id
    with read_models.cursor() as cursor:
        ids = account_connection_ids(
            cursor,
            account_id,
            excluding=connection_id,
            limit=MAX_OTHER_CONNECTIONS,
            workspaces=principal.workspaces,
        )
    payloads: list[dict[str, Any] | None] = []
    for other_id in ids:
        try:
            other = application.get_connection(account_id, other_id, sees=principal.sees)
        except ConnectionNotFoundError:
            continue  # deleted, or moved out of the token's scope, since the listing
        payloads.append(other.compliance)
    return payloads


@router.get(BASE + "/history", response_model=ComplianceHistoryOut)
def get_history(
    connection_id: UUID,
    principal: ComplianceAuditor,
    application: ApplicationDep,
    as_of_version: Annotated[
        int | None,
        Query(alias="asOfVersion", ge=1, description="Aggregate version to look back to."),
    ] = None,
    as_of: Annotated[
        str | None,
        Query(
            alias="asOf",
            description="RFC 3339 time with zone, e.g. 2025-01-31T09:30:00Z.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
) -> Response:
    """Every compliance version replayed from the event store, oldest first (deleted
    connections included). With ``asOfVersion`` or ``asOf``: only the version in effect
    then, or none if nothing had been saved yet."""
    # The stored facts decoded into the history directly (no event objects, no replay:
    # B5); a workspace-restricted token sees only its workspaces.
    read = read_history(application, connection_id, account_id=principal.account_id)
    if not principal.sees(read.workspace_id):
        raise ConnectionNotFoundError(connection_id)
    point = PointInTime(version=as_of_version, at=parse_as_of(as_of) if as_of is not None else None)
    return _history_response(history_json(read.history.as_of(point)))


def _history_response(body: bytes) -> Response:
    """The history document (``ComplianceHistoryOut``, serialised without a model per
    version: B5), never cached."""
    return Response(body, media_type="application/json", headers={"Cache-Control": NO_STORE})


@router.get(BASE + "/history/verify")
def verify_history(
    connection_id: UUID,
    principal: ComplianceAuditor,
    application: ApplicationDep,
    read_models: OptionalReadModelsDep,
) -> ChainVerificationOut:
    """Recompute the connection's hash chain from the stored facts. Damage is the answer
    (200 with ``verified: false``, the first broken version and why), never an error: a
    deleted, altered, undecodable, reordered or transplanted fact. A record too damaged to
    name its owner is scoped by the audit trail's read model."""

    def owner(connection: UUID) -> tuple[str, str] | None:
        if read_models is None:
            return None
        with read_models.cursor() as cursor:
            return connection_place(cursor, connection)

    verification = verify_connection(
        application.recorder,
        application.mapper,
        connection_id,
        account_id=principal.account_id,
        sees=principal.sees,
        owner=owner,
    )
    return verification_out(verification)
