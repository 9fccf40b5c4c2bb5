"""Integration events: what other systems read from us. Separate from the domain events
(those are our storage format; these are a published contract)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

CHANNEL_CONNECTED = "channel.connected"
SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("schemas") / "channel.connected.v1.json"
EVENT_IDS_NAMESPACE = UUID("5d2b1f0e-7c43-4e0b-a1f9-3e6c8d7b2a90")


class ChannelConnectedV1(BaseModel):
    """``channel.connected``, schema version 1: an SMS connection reached ``connected``.

    Published at least once, keyed by ``channelId``; consumers dedupe on ``eventId``, which
    is the same on every redelivery. It carries no phone number and nothing from the
    compliance payload. Versioning: fields may be added in version 1 (consumers ignore
    unknown fields); removing, renaming or retyping a field makes version 2, published
    beside version 1 until consumers have moved.
    """

    # Unknown fields are ignored: that is what lets version 1 grow (see the class doc).
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
        # Every field is always sent: the schema says so in ``required``.
        json_schema_serialization_defaults_required=True,
    )

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

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("eventType", CHANNEL_CONNECTED.encode()),
            ("schemaVersion", str(SCHEMA_VERSION).encode()),
            ("contentType", b"application/json"),
        ]

    def value(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of version 1 (committed at ``SCHEMA_FILE``; a test keeps them equal)."""
    schema = ChannelConnectedV1.model_json_schema(by_alias=True, mode="serialization")
    schema["$id"] = "urn:sms-channels:schema:channel.connected:v1"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
