"""What the channel-feeds relay remembers of the routing feed: which connection each number's
last published value belongs to, for which agent, and a digest of that value.

It lets the relay publish a value only when something in it changed, publish a tombstone
only for the number's current holder (a number released by one connection may already be
served by another), and find the numbers an agent's directory change affects. The table
holds ids and phone numbers, never a compliance value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

ROUTING_STATE_TABLE = "sms_routing_state"
CREATE_ROUTING_STATE = (
    "CREATE TABLE IF NOT EXISTS sms_routing_state (phone_number text PRIMARY KEY,"
    " channel_id uuid NOT NULL, account_id text NOT NULL, agent_id text NOT NULL,"
    " digest text NOT NULL);"
    " CREATE INDEX IF NOT EXISTS sms_routing_state_agent"
    " ON sms_routing_state (account_id, agent_id)"
)


@dataclass(frozen=True)
class Served:
    """The last value published for a number."""

    channel_id: UUID
    account_id: str
    agent_id: str
    digest: str


class RoutingState:
    """The table as of the relay's position, plus the changes of the batch in progress
    (written by ``save``, in the transaction that records the position)."""

    def __init__(self, connection: psycopg.Connection[Any], *, replace: bool = False) -> None:
        """``replace``: start from an empty table (a rebuild), replaced by ``save``."""
        self.connection = connection
        self.replace = replace
        self.changes: dict[str, Served | None] = {}

    def get(self, phone_number: str) -> Served | None:
        if phone_number in self.changes or self.replace:
            return self.changes.get(phone_number)
        row = self.connection.execute(
            "SELECT channel_id, account_id, agent_id, digest FROM sms_routing_state"
            " WHERE phone_number = %s",
            (phone_number,),
        ).fetchone()
        return Served(*row) if row else None

    def set(self, phone_number: str, served: Served | None) -> None:
        self.changes[phone_number] = served

    def channels_using(self, account_id: str, agent_id: str) -> list[UUID]:
        """The connections served with ``agent_id`` of ``account_id``, in number order."""
        rows = self.connection.execute(
            "SELECT phone_number, channel_id FROM sms_routing_state"
            " WHERE account_id = %s AND agent_id = %s ORDER BY phone_number",
            (account_id, agent_id),
        ).fetchall()
        found = {phone: channel for phone, channel in rows if phone not in self.changes}
        for phone, served in self.changes.items():
            if served and (served.account_id, served.agent_id) == (account_id, agent_id):
                found[phone] = served.channel_id
        return [found[phone] for phone in sorted(found)]

    def save(self) -> None:
        if self.replace:
            self.connection.execute("DELETE FROM sms_routing_state")
        for phone_number, served in self.changes.items():
            if served is None:
                self.connection.execute(
                    "DELETE FROM sms_routing_state WHERE phone_number = %s", (phone_number,)
                )
            else:
                self.connection.execute(
                    "INSERT INTO sms_routing_state VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (phone_number) DO UPDATE SET channel_id = EXCLUDED.channel_id,"
                    " account_id = EXCLUDED.account_id, agent_id = EXCLUDED.agent_id,"
                    " digest = EXCLUDED.digest",
                    (phone_number, served.channel_id, served.account_id, served.agent_id,
                     served.digest),
                )  # fmt: skip
        self.changes.clear()
