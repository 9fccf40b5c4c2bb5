"""The number claim: at most one live connection holds a phone number.

The claim's id is derived from the number (``uuid5``), and it is saved in the same
transaction as the connection that takes or frees it, so two racing connects of one number
cannot both commit: the second write of the same claim version is refused by the store.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import NumberAlreadyConnectedError
from domain.ids import number_claim_id


class NumberClaim(Aggregate):
    """Who holds one phone number: a connection id, or nobody."""

    class Created(Aggregate.Created):
        phone_number: str
        connection_id: UUID

    class Taken(Aggregate.Event):
        connection_id: UUID

    class Released(Aggregate.Event):
        connection_id: UUID

    @classmethod
    def take_new(cls, phone_number: str, connection_id: UUID) -> NumberClaim:
        """The first claim ever of ``phone_number``."""
        return cls._create(
            cls.Created,
            id=number_claim_id(phone_number),
            phone_number=phone_number,
            connection_id=connection_id,
        )

    @event(Created)
    def __init__(self, phone_number: str, connection_id: UUID) -> None:
        self.phone_number = phone_number
        self.holder: UUID | None = connection_id

    def take(self, connection_id: UUID) -> None:
        """Give the number to ``connection_id``; refused while another connection holds it."""
        if self.holder == connection_id:
            return
        if self.holder is not None:
            raise NumberAlreadyConnectedError()
        self._taken(connection_id=connection_id)

    @event(Taken)
    def _taken(self, connection_id: UUID) -> None:
        self.holder = connection_id

    def release(self, connection_id: UUID) -> None:
        """Free the number if ``connection_id`` holds it; otherwise nothing happens."""
        if self.holder == connection_id:
            self._released(connection_id=connection_id)

    @event(Released)
    def _released(self, connection_id: UUID) -> None:
        self.holder = None
