"""Provider webhook deliveries already handled: a redelivered event id changes nothing.

One aggregate per (provider, event id), its id derived with ``uuid5``, saved in the same
transaction as what the event changed. So the effect and the "seen" mark commit together:
a crash between them is impossible, and of two concurrent deliveries of one event only one
can create the mark (the store refuses the second version 1), so only one applies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

# Part of the stored data (the aggregate ids): never change it.
PROVIDER_DELIVERIES_NAMESPACE = UUID("3c0d7b52-61f4-4d0b-a0f5-1e9a4b7c2d88")

DeliveryOutcome = Literal["applied", "ignored", "stale"]


def provider_delivery_id(provider: str, event_id: str) -> UUID:
    """The id of the mark that one provider event was handled."""
    return uuid5(PROVIDER_DELIVERIES_NAMESPACE, f"{provider}:{event_id}")


class ProviderDelivery(Aggregate):
    """The record that a provider's event was received and what it did: ``applied`` (a
    connection changed) or ``ignored`` (nothing to change: unknown number, stale ref, a
    fact already recorded by the reconcile poll) or ``stale`` (a report the provider dated
    earlier than the latest one applied about the same reference: delivered out of order,
    kept here for the audit, not applied); with the provider's time of the event
    (``occurred_at``, None when the provider gave none)."""

    class Received(Aggregate.Created):
        # 2: ``occurred_at`` (deliveries recorded before it read None).
        class_version = 2

        provider: str
        event_id: str
        kind: str
        outcome: DeliveryOutcome
        connection_id: UUID | None
        occurred_at: datetime | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["occurred_at"] = None

    @classmethod
    def receive(
        cls,
        *,
        provider: str,
        event_id: str,
        kind: str,
        outcome: DeliveryOutcome,
        connection_id: UUID | None,
        occurred_at: datetime | None = None,
    ) -> ProviderDelivery:
        """Mark ``event_id`` of ``provider`` as handled, with its outcome."""
        return cls._create(
            cls.Received,
            id=provider_delivery_id(provider, event_id),
            provider=provider,
            event_id=event_id,
            kind=kind,
            outcome=outcome,
            connection_id=connection_id,
            occurred_at=occurred_at,
        )

    @event(Received)
    def __init__(
        self,
        provider: str,
        event_id: str,
        kind: str,
        outcome: DeliveryOutcome,
        connection_id: UUID | None,
        occurred_at: datetime | None,
    ) -> None:
        self.provider = provider
        self.event_id = event_id
        self.kind = kind
        self.outcome = outcome
        self.connection_id = connection_id
        self.occurred_at = occurred_at
