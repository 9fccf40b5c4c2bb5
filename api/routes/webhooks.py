"""Provider webhooks: no bearer token; the provider's signature is the authentication."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from api.deps import ApplicationDep
from api.rate_limits import RateLimit
from api.schemas.numbers import WebhookAck
from domain.providers import (
    UnknownProviderError,
    WebhookRejectedError,
    WebhookRequest,
    WebhookVerifier,
)
from sms_channels.settings import Settings

router = APIRouter(tags=["provider webhooks"])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Correctly signed, but not the provider's documented shape."},
    403: {"description": "Signature missing or wrong, or timestamp outside the window."},
    404: {"description": "This deployment takes no webhooks from that provider."},
    429: {"description": "Too many webhook requests from this source address; Retry-After."},
}


def _take(request: Request, bucket_name: str) -> None:
    """Spend a token of the source address's bucket ``bucket_name`` (a webhook has no token
    to key on). Behind a proxy, run the server so that it reports the client's address
    (uvicorn ``--forwarded-allow-ips``)."""
    bucket: RateLimit = request.app.state.rate_limits[bucket_name]
    bucket.take(request.client.host if request.client else "unknown")


def _verifier(request: Request) -> WebhookVerifier:
    """The configured provider's signature check (built by ``create_app``)."""
    verifier: WebhookVerifier = request.app.state.webhook_verifier
    return verifier


async def _received(request: Request) -> WebhookRequest:
    """The request as the provider signed it: its public URL, headers, raw body."""
    settings: Settings = request.app.state.settings
    url = str(request.url)
    if settings.public_base_url:
        query = f"?{request.url.query}" if request.url.query else ""
        url = settings.public_base_url.rstrip("/") + request.url.path + query
    headers = {name.lower(): value for name, value in request.headers.items()}
    return WebhookRequest(url=url, headers=headers, body=await request.body())


@router.post("/providers/{provider}/webhooks", responses=_PROBLEMS)
def receive_webhook(
    provider: str,
    request: Request,
    received: Annotated[WebhookRequest, Depends(_received)],
    verifier: Annotated[WebhookVerifier, Depends(_verifier)],
    application: ApplicationDep,
) -> WebhookAck:
    """Apply a provider event once. Unsigned or badly signed → 403; a redelivered event id
    → 200 ``duplicate``, nothing changes; an event that fits no connection → 200
    ``ignored`` (acknowledged so that the provider stops redelivering it).

    The signature is checked before the rate limit: a refused request spends a token of
    its own small bucket (``webhooks_refused``), never one of the bucket the provider's
    signed deliveries need, so a flood of unsigned requests cannot get the provider 429."""
    if provider != verifier.provider:
        _take(request, "webhooks_refused")
        raise UnknownProviderError()
    try:
        event = verifier.verify(received)
    except WebhookRejectedError:
        _take(request, "webhooks_refused")
        raise
    _take(request, "webhooks")
    result = application.record_provider_event(event)
    return WebhookAck(
        outcome=result.outcome,
        event_id=event.event_id,
        connection_id=result.connection_id,
        position=result.position,
    )
