"""The published contracts of the channel feeds: the lifecycle events for analytics on
``CHANNEL_EVENTS_TOPIC`` and the routing value on ``ROUTING_TOPIC``.

Lifecycle events share ``channel.connected``'s envelope (``eventId``, ``eventType``,
``schemaVersion``, ``occurredAt``, ``accountId``, ``workspaceId``, ``channelId``,
``channelType``), are keyed by ``channelId`` and carry ids, states and reasons: never a
phone number, never a compliance value. ``eventId`` is derived from the fact's position in
the event log, so a redelivery or a replay carries the same id. The routing value is
operational data for ingestion: it carries the phone number (its key), never a compliance
value. Versioning as in ``workers.integration_events``: version 1 only grows by optional
fields; the committed schemas (``workers/schemas/``) are checked against the released ones
(``workers/schemas/released/``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from workers.integration_events import EVENT_IDS_NAMESPACE

CHANNEL_UPDATED = "channel.updated"
CHANNEL_DISCONNECTED = "channel.disconnected"
CHANNEL_REGISTRATION_CHANGED = "channel.registration_changed"
ROUTING_VALUE = "sms.routing"

# ``throughput`` and ``carriers`` (issue 31): what the provider says the number may send,
# or which carriers refuse it, changed (the routing value carries the new values).
Change = Literal["active", "agent", "workspace", "capabilities", "throughput", "carriers"]
DisconnectReason = Literal["deleted", "reclaimed", "expired", "released", "failed", "replaced"]


class Published(BaseModel):
    """What every published value shares: camelCase JSON, unknown fields ignored."""

    # Every field is always serialized: the schema lists them all in ``required``.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
        json_schema_serialization_defaults_required=True,
    )

    def value(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


class LifecycleEnvelope(Published):
    """The envelope of every lifecycle event (as ``channel.connected``'s)."""

    event_id: UUID = Field(description="Stable across redeliveries and replays: dedupe on it.")
    schema_version: Literal[1] = 1
    occurred_at: datetime = Field(description="When the fact was recorded (RFC 3339).")
    account_id: str
    workspace_id: str = Field(description="The connection's workspace after the fact.")
    channel_id: UUID = Field(description="The SMS connection's id; also the message key.")
    channel_type: Literal["sms"] = "sms"

    @staticmethod
    def event_id_for(event_type: str, channel_id: UUID, position: int) -> UUID:
        """The id of the ``event_type`` event that the log's fact at ``position`` made
        for ``channel_id`` (the same on every redelivery and replay)."""
        return uuid5(EVENT_IDS_NAMESPACE, f"{event_type}:{channel_id}:{position}")


class ChannelUpdatedV1(LifecycleEnvelope):
    """``channel.updated``: the channel was switched on or off, got another agent, moved to
    another workspace, or its effective capabilities changed (``changes`` says which)."""

    event_type: Literal["channel.updated"] = "channel.updated"
    changes: list[Change] = Field(description="What changed, in this order of kinds.")
    active: bool
    agent_id: str
    ingestion_enabled: bool
    outbound_permitted: bool


class ChannelDisconnectedV1(LifecycleEnvelope):
    """``channel.disconnected``: the number stopped being served, and why."""

    event_type: Literal["channel.disconnected"] = "channel.disconnected"
    reason: DisconnectReason


class ChannelRegistrationChangedV1(LifecycleEnvelope):
    """``channel.registration_changed``: the derived registration status changed (the
    status only: nothing the provider said about it, nothing from the compliance payload)."""

    event_type: Literal["channel.registration_changed"] = "channel.registration_changed"
    registration_status: str
    previous_registration_status: str


class RoutingValueV1(Published):
    """The value of a served number on the compacted routing feed (key: ``phoneNumber``).
    A tombstone (null value) replaces it when the number stops being served."""

    phone_number: str = Field(description="E.164; also the message key.")
    account_id: str
    workspace_id: str
    channel_id: UUID
    agent_id: str
    knowledge_base_id: str | None = Field(
        description="The agent's knowledge base in the directory; null when none resolves."
    )
    active: bool
    ingestion_enabled: bool
    outbound_permitted: bool
    registration_status: str
    version: int = Field(
        description="The event-log position of the latest fact reflected; grows per key."
    )
    updated_at: datetime = Field(description="When the latest fact reflected was recorded.")


class RoutingThroughput(Published):
    """How much the number may send, as the provider reported it (null: unknown)."""

    brand_score: int | None
    tmobile_tier: str | None
    tmobile_daily_cap: int | None
    att_message_class: str | None
    att_tpm: int | None


class RoutingValueV2(RoutingValueV1):
    """Version 2 of the routing value (issue 31): version 1's fields, and what the sender
    of replies needs to respect the carriers: the throughput the provider reported and the
    carriers that refused the registration. A superset of version 1 (a version 1 consumer
    that ignores unknown fields reads it unchanged), so it replaces version 1 on the
    compacted topic (a key holds one value)."""

    throughput: RoutingThroughput
    outbound_not_permitted_on: list[str] = Field(
        description="Carriers (att | tmobile | verizon | uscellular | other) that refused, "
        "suspended or expired the registration: replies to their subscribers are not sent."
    )


ROUTING_VERSION = 2

LifecycleEvent = ChannelUpdatedV1 | ChannelDisconnectedV1 | ChannelRegistrationChangedV1


def headers_of(event_type: str, version: int = 1) -> tuple[tuple[str, bytes], ...]:
    """The headers of a message of ``event_type`` (schema ``version``)."""
    return (
        ("eventType", event_type.encode()),
        ("schemaVersion", str(version).encode()),
        ("contentType", b"application/json"),
    )
