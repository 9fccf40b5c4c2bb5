"""Number search and provider webhook response models."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from api.schemas.connections import WireModel
from domain.providers import AvailableNumber


class Capabilities(WireModel):
    sms: bool
    mms: bool
    voice: bool


class NumberOut(WireModel):
    """A number on offer at the provider."""

    phone_number: str
    country_code: str
    area_code: str | None
    locality: str | None
    region: str | None
    capabilities: Capabilities


class NumbersOut(WireModel):
    """``GET /channels/sms/numbers``: an empty list when nothing is on offer."""

    numbers: list[NumberOut]


class WebhookAck(WireModel):
    """What a webhook delivery did: ``applied`` (a connection changed), ``ignored``
    (nothing to change), ``stale`` (a registration report the provider dated earlier than
    the latest one applied about the same reference: out-of-order delivery, recorded but
    not applied), ``duplicate`` (this event id was handled before)."""

    outcome: Literal["applied", "ignored", "stale", "duplicate"]
    event_id: str
    connection_id: UUID | None
    position: int


def number_out(number: AvailableNumber) -> NumberOut:
    capabilities = number.capabilities
    return NumberOut(
        phone_number=number.phone_number,
        country_code=number.country,
        area_code=number.area_code,
        locality=number.locality,
        region=number.region,
        capabilities=Capabilities(
            sms=capabilities.get("sms", False),
            mms=capabilities.get("mms", False),
            voice=capabilities.get("voice", False),
        ),
    )
