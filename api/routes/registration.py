"""Registration with the provider (US A2P 10DLC): submit the current compliance payload, and
read where brand, campaign and number stand. The provider is never called here: the
registration worker takes the steps after the command's transaction."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import (
    ApplicationDep,
    ChannelsReader,
    OptionalReadModelsDep,
    RequiredVersion,
    SmsManager,
)
from api.preconditions import etag
from api.routes.compliance import other_payloads
from api.schemas.registration import (
    RegistrationOut,
    SubmitRegistrationOut,
    registration_document,
)

router = APIRouter(tags=["registration"])
BASE = "/channels/sms/connections/{connection_id}/registration"


@router.post(
    BASE,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        409: {
            "description": "registration_in_progress (this payload is in flight), "
            "registration_unchanged (already decided: change it first), "
            "invalid_transition (not connected)"
        },
        412: {"description": "version_conflict: If-Match names an older version"},
        422: {
            "description": "preflight_failed (errors[] names each failing field and rule), "
            "registration_not_required (the region needs none)"
        },
        428: {"description": "precondition_required: no If-Match"},
    },
)
def submit_registration(
    connection_id: UUID,
    principal: SmsManager,
    application: ApplicationDep,
    read_models: OptionalReadModelsDep,
    version: RequiredVersion,
    response: Response,
) -> SubmitRegistrationOut:
    """Submit the current compliance payload (the version named by the required
    ``If-Match``) for 10DLC registration; 202: the registration worker carries it to the
    provider (brand → campaign → number). After a rejection or an approval only a changed
    payload can be submitted again."""
    others = other_payloads(application, read_models, principal, connection_id)
    result = application.submit_registration(
        principal.account_id,
        connection_id,
        by=principal.user_id,
        expected_version=version,
        others=others,
        sees=principal.sees,
    )
    connection, facts = application.registration_view(
        connection_id, account_id=principal.account_id
    )
    response.headers["ETag"] = etag(result.connection.version)
    brand = application.brand_registration_of(connection)
    return SubmitRegistrationOut(
        registration=registration_document(connection, facts, brand),
        version=result.connection.version,
        position=result.position,
    )


@router.get(BASE)
def get_registration(
    connection_id: UUID, principal: ChannelsReader, application: ApplicationDep, response: Response
) -> RegistrationOut:
    """Where the registration stands: ``status`` (the connection's ``registrationStatus``,
    derived from the three levels), each level with the provider's reference, raw status
    and coded reasons, and the timeline oldest first."""
    connection, facts = application.registration_view(
        connection_id, account_id=principal.account_id, sees=principal.sees
    )
    response.headers["ETag"] = etag(connection.version)
    return registration_document(connection, facts, application.brand_registration_of(connection))


@router.post(
    BASE + "/vetting",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        409: {"description": "invalid_transition: the brand is not approved yet"},
        412: {"description": "version_conflict: If-Match names an older version"},
        428: {"description": "precondition_required: no If-Match"},
    },
)
def request_secondary_vetting(
    connection_id: UUID,
    principal: SmsManager,
    application: ApplicationDep,
    version: RequiredVersion,
    response: Response,
) -> SubmitRegistrationOut:
    """Ask for the brand's secondary vetting (a brand whose score limits its throughput):
    202, the registration worker sends it to the provider; the vetting's status
    (``brand.vettings``) and the brand's new score (``throughput.brandScore``) are recorded
    as the provider reports them. Asking again changes nothing."""
    result = application.request_secondary_vetting(
        principal.account_id,
        connection_id,
        by=principal.user_id,
        expected_version=version,
        sees=principal.sees,
    )
    connection, facts = application.registration_view(
        connection_id, account_id=principal.account_id
    )
    response.headers["ETag"] = etag(result.connection.version)
    brand = application.brand_registration_of(connection)
    return SubmitRegistrationOut(
        registration=registration_document(connection, facts, brand),
        version=result.connection.version,
        position=result.position,
    )
