"""The published contracts of the feeds: ``channel.connected`` on ``ANALYTICS_TOPIC``, the
lifecycle events for analytics on ``CHANNEL_EVENTS_TOPIC`` and the routing value on
``ROUTING_TOPIC``. Separate from the domain events (those are our storage format; these are
a published contract).

``channel.connected`` is published at least once, keyed by ``channelId``; consumers dedupe
on ``eventId``, the same on every redelivery (derived from the stored event). It carries no
phone number and nothing from the compliance payload. Lifecycle events share
``channel.connected``'s envelope (``eventId``, ``eventType``, ``schemaVersion``,
``occurredAt``, ``accountId``, ``workspaceId``, ``channelId``, ``channelType``), are keyed
by ``channelId`` and carry ids, states and reasons: never a phone number, never a
compliance value. ``eventId`` is derived from the fact's position in the event log, so a
redelivery or a replay carries the same id. The routing value is operational data for
ingestion: it carries the phone number (its key), never a compliance value.

Every message travels in one envelope, built by ``envelope_of`` for all three: its key
(``channelId``, or the number for a routing value) and the headers ``eventType`` (the
event type, or ``sms.routing``), ``schemaVersion`` and ``contentType: application/json``;
a routing tombstone (``tombstone_envelope``) carries the number and ``schemaVersion`` 1.

Versioning: fields may be added in version 1 (consumers ignore unknown fields); removing,
renaming or retyping a field makes version 2, published beside version 1 until consumers
have moved. The committed schemas (``workers/feeds/schemas/``) are checked against the
released ones (``workers/feeds/schemas/released/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

CHANNEL_CONNECTED = "channel.connected"
SCHEMA_FILE = Path(__file__).with_name("schemas") / "channel.connected.v1.json"
EVENT_IDS_NAMESPACE = UUID("5d2b1f0e-7c43-4e0b-a1f9-3e6c8d7b2a90")
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


class ChannelConnectedV1(Published):
    """``channel.connected``, schema version 1: an SMS connection reached ``connected``.

    Published at least once, keyed by ``channelId``; consumers dedupe on ``eventId``, which
    is the same on every redelivery. It carries no phone number and nothing from the
    compliance payload. Versioning: fields may be added in version 1 (consumers ignore
    unknown fields); removing, renaming or retyping a field makes version 2, published
    beside version 1 until consumers have moved.
    """

    event_id: UUID = Field(description="Stable across redeliveries: dedupe on it.")
    event_type: Literal["channel.connected"] = "channel.connected"
    schema_version: Literal[1] = 1
    occurred_at: datetime = Field(description="When the number was connected (RFC 3339).")
    account_id: str
    workspace_id: str
    channel_id: UUID = Field(description="The SMS connection's id; also the message key.")
    channel_type: Literal["sms"] = "sms"
    mode: Literal["new", "byon"]
    country: str = Field(description="ISO 3166 alpha-2 country of the number.")
    agent_id: str = Field(description="The agent assigned when the number connected.")

    @staticmethod
    def event_id_for(channel_id: UUID, connected_version: int) -> UUID:
        """The event id of a connection's ``channel.connected``: derived from the stored
        event, so every redelivery carries the same id."""
        return uuid5(EVENT_IDS_NAMESPACE, f"{channel_id}:{connected_version}")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of version 1 (committed at ``SCHEMA_FILE``; a test keeps them equal)."""
    schema = ChannelConnectedV1.model_json_schema(by_alias=True, mode="serialization")
    schema["$id"] = "urn:sms-channels:schema:channel.connected:v1"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


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

    # Its header ``schemaVersion`` (not a field: the value carries no envelope fields).
    SCHEMA_VERSION: ClassVar[int] = 1

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

    SCHEMA_VERSION: ClassVar[int] = 2
    throughput: RoutingThroughput
    outbound_not_permitted_on: list[str] = Field(
        description="Carriers (att | tmobile | verizon | uscellular | other) that refused, "
        "suspended or expired the registration: replies to their subscribers are not sent."
    )


ROUTING_VERSION = RoutingValueV2.SCHEMA_VERSION

LifecycleEvent = ChannelUpdatedV1 | ChannelDisconnectedV1 | ChannelRegistrationChangedV1
# Everything the relays publish as a value (a routing tombstone has none).
PublishedValue = ChannelConnectedV1 | LifecycleEvent | RoutingValueV1


@dataclass(frozen=True)
class Envelope:
    """What a published message carries around its value: its key and its headers."""

    key: bytes
    headers: tuple[tuple[str, bytes], ...]


def envelope_of(value: PublishedValue) -> Envelope:
    """The one envelope of everything published: ``channel.connected`` and the lifecycle
    events keyed by ``channelId`` with their ``eventType`` and ``schemaVersion``, a routing
    value keyed by its number with ``sms.routing`` and its model's version."""
    if isinstance(value, RoutingValueV1):
        key, event_type, version = value.phone_number, ROUTING_VALUE, value.SCHEMA_VERSION
    else:
        key, event_type, version = str(value.channel_id), value.event_type, value.schema_version
    return Envelope(key.encode(), headers_of(event_type, version))


def tombstone_envelope(phone_number: str) -> Envelope:
    """The envelope of the tombstone that removes ``phone_number`` from the routing feed
    (``schemaVersion`` 1, as tombstones always carried)."""
    return Envelope(phone_number.encode(), headers_of(ROUTING_VALUE))


def headers_of(event_type: str, version: int = 1) -> tuple[tuple[str, bytes], ...]:
    """The headers of a message of ``event_type`` (schema ``version``)."""
    return (
        ("eventType", event_type.encode()),
        ("schemaVersion", str(version).encode()),
        ("contentType", b"application/json"),
    )
