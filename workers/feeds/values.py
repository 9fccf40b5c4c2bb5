"""What the feeds say about one connection: its ``channel.connected``, its routing value and
its lifecycle events, built from the aggregate as it stood at the fact (so a replay builds
the same message). Every decision about serving comes from ``domain.serving.assess`` (the
rule the API and the channels table use): nothing here decides capabilities again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.agent_directory import AgentInfo, DirectoryAgent, directory_agent_id
from domain.application import SmsChannels
from domain.serving import Serving, assess, facts_of_connection
from domain.sms_connections import HOLDING_STATES, SmsConnection
from workers.feeds.contracts import (
    ChannelConnectedV1,
    ChannelDisconnectedV1,
    ChannelRegistrationChangedV1,
    ChannelUpdatedV1,
    LifecycleEnvelope,
    RoutingThroughput,
    RoutingValueV1,
    RoutingValueV2,
)

# Connection event → the reason a fact of it disconnects the channel (a reclaim: its own).
DISCONNECTING: Final[dict[type[Any], str]] = {
    SmsConnection.ConnectionDeleted: "deleted",
    SmsConnection.ProvisioningFailed: "failed",
    SmsConnection.Replaced: "replaced",
}


def registration_status_of(connection: SmsConnection) -> str:
    """The connection's registration status as the feeds publish it (the one place that
    reads it: how it is derived may change without touching the feeds)."""
    return connection.registration_status


@dataclass(frozen=True)
class DirectoryEntry:
    """The directory's current entry for an agent (``info`` None: unknown or deleted)."""

    info: AgentInfo | None
    modified_on: datetime | None


def channel_connected(
    application: SmsChannels, originator_id: Any, version: int
) -> ChannelConnectedV1:
    """The integration event for a connection's ``NumberConnected`` at ``version``, built
    from the aggregate as it stood then (so a replay builds the same message)."""
    connection: SmsConnection = application.repository.get(originator_id, version=version)
    return connected_event(connection, version)


def connected_event(connection: SmsConnection, version: int) -> ChannelConnectedV1:
    """The integration event of ``connection`` as it stood at ``version`` (its connect)."""
    return ChannelConnectedV1(
        **event_fields(connection, ChannelConnectedV1.event_id_for(connection.id, version)),
        mode=connection.mode,
        country=connection.country,
        agent_id=connection.agent_id,
    )


def directory_entry(application: SmsChannels, account_id: str, agent_id: str) -> DirectoryEntry:
    try:
        agent: DirectoryAgent = application.repository.get(directory_agent_id(account_id, agent_id))
    except AggregateNotFoundError:
        return DirectoryEntry(None, None)
    return DirectoryEntry(None if agent.deleted else agent.info, agent.modified_on)


def is_served(connection: SmsConnection) -> bool:
    """A number is served (has a routing value) while its connection holds it."""
    return connection.status in HOLDING_STATES


def routing_value(
    connection: SmsConnection, entry: DirectoryEntry, position: int
) -> RoutingValueV2:
    """The routing value of a served ``connection`` whose agent's entry is ``entry``, as of
    the log's ``position``."""
    serving = assess(facts_of_connection(connection), entry.info)
    times = [connection.modified_on, *([entry.modified_on] if entry.modified_on else [])]
    return RoutingValueV2(
        phone_number=connection.phone_number,
        account_id=connection.account_id,
        workspace_id=connection.workspace_id,
        channel_id=connection.id,
        agent_id=connection.agent_id,
        knowledge_base_id=serving.names.knowledge_base_id,
        active=connection.active,
        ingestion_enabled=serving.capabilities.ingestion.allowed,
        outbound_permitted=serving.capabilities.outbound_replies.allowed,
        registration_status=registration_status_of(connection),
        version=position,
        updated_at=max(times),
        throughput=RoutingThroughput(**connection.registration_throughput.as_dict()),
        outbound_not_permitted_on=list(connection.not_permitted_on),
    )


def digest(value: RoutingValueV1) -> str:
    """What identifies a value's content (not its ``version`` nor ``updatedAt``)."""
    content = value.model_dump_json(by_alias=True, exclude={"version", "updated_at"})
    return hashlib.sha256(content.encode()).hexdigest()


def event_fields(
    connection: SmsConnection, event_id: UUID, occurred_at: datetime | None = None
) -> dict[str, object]:
    """The fields every event of ``connection`` opens with (``channel.connected`` and the
    lifecycle events alike): its ``event_id``, when it occurred (the connection's last fact;
    ``occurred_at`` when the fact is not the connection's own, a directory fact), and
    whose it is."""
    return {
        "event_id": event_id,
        "occurred_at": connection.modified_on if occurred_at is None else occurred_at,
        "account_id": connection.account_id,
        "workspace_id": connection.workspace_id,
        "channel_id": connection.id,
    }


def _lifecycle_fields(
    event_type: str,
    connection: SmsConnection,
    position: int,
    occurred_at: datetime | None = None,
) -> dict[str, object]:
    """``event_fields`` of the ``event_type`` event a fact at ``position`` made for
    ``connection``."""
    event_id = LifecycleEnvelope.event_id_for(event_type, connection.id, position)
    return event_fields(connection, event_id, occurred_at)


def disconnected(
    kind: type[Any], connection: SmsConnection, position: int
) -> ChannelDisconnectedV1 | None:
    """``channel.disconnected`` for a fact of event class ``kind`` (None: the fact
    disconnects nothing)."""
    reclaimed = kind is SmsConnection.NumberReclaimed
    reason = connection.reclaim_reason if reclaimed else DISCONNECTING.get(kind)
    if reason is None:
        return None
    return ChannelDisconnectedV1(
        **_lifecycle_fields("channel.disconnected", connection, position),
        reason=reason,
    )


def changes_between(
    before: SmsConnection, after: SmsConnection, was: Serving, now: Serving
) -> list[str]:
    """What ``channel.updated`` reports of a change from ``before`` to ``after``."""
    changes = []
    if before.active != after.active:
        changes.append("active")
    if before.agent_id != after.agent_id:
        changes.append("agent")
    if before.workspace_id != after.workspace_id:
        changes.append("workspace")
    if allowed(was) != allowed(now):
        changes.append("capabilities")
    if before.registration_throughput != after.registration_throughput:
        changes.append("throughput")
    if before.not_permitted_on != after.not_permitted_on:
        changes.append("carriers")
    return changes


def allowed(serving: Serving) -> tuple[bool, bool]:
    """(ingestion enabled, outbound replies permitted)."""
    return serving.capabilities.ingestion.allowed, serving.capabilities.outbound_replies.allowed


def updated(
    connection: SmsConnection,
    changes: list[str],
    serving: Serving,
    position: int,
    occurred_at: datetime | None = None,
) -> ChannelUpdatedV1:
    """``channel.updated`` for the fact at ``position``; ``occurred_at`` as in
    ``event_fields`` (the directory fact's time when the directory caused it)."""
    ingestion, outbound = allowed(serving)
    return ChannelUpdatedV1(
        **_lifecycle_fields("channel.updated", connection, position, occurred_at),
        changes=changes,
        active=connection.active,
        agent_id=connection.agent_id,
        ingestion_enabled=ingestion,
        outbound_permitted=outbound,
    )


def registration_changed(
    before: SmsConnection, after: SmsConnection, position: int
) -> ChannelRegistrationChangedV1 | None:
    previous, current = registration_status_of(before), registration_status_of(after)
    if previous == current:
        return None
    return ChannelRegistrationChangedV1(
        **_lifecycle_fields("channel.registration_changed", after, position),
        registration_status=current,
        previous_registration_status=previous,
    )
