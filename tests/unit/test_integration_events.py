"""The published contract of channel.connected."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import orjson

from workers.feeds.contracts import SCHEMA_FILE, ChannelConnectedV1, json_schema


def test_the_committed_json_schema_matches_the_model() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


def test_the_event_id_is_the_same_for_the_same_stored_event() -> None:
    channel = uuid.uuid4()
    assert ChannelConnectedV1.event_id_for(channel, 2) == ChannelConnectedV1.event_id_for(
        channel, 2
    )
    assert ChannelConnectedV1.event_id_for(channel, 2) != ChannelConnectedV1.event_id_for(
        channel, 3
    )


def test_consumers_of_version_1_ignore_fields_added_later() -> None:
    event = ChannelConnectedV1(event_id=uuid.uuid4(), occurred_at=datetime.now(UTC),
                               account_id="a", workspace_id="w", channel_id=uuid.uuid4(),
                               mode="new", country="US", agent_id="ag")  # fmt: skip
    grown = orjson.loads(event.value()) | {"addedInAMinorRelease": True}
    assert ChannelConnectedV1.model_validate(grown) == event
    assert "phoneNumber" not in json_schema()["properties"]
