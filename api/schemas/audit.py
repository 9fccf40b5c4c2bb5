"""Response models of the account trail (``GET /audit/events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from api.schemas.connections import WireModel
from domain.actors import PROVIDER_ACTOR, ActorType
from projections.audit_trail import actor_type


class TrailEntry(WireModel):
    """One fact of one connection: who, when, what kind, which compliance fields (names)."""

    connection_id: UUID
    version: int
    recorded_at: datetime
    actor: str = Field(description="The user id who acted, or `provider` for provider facts.")
    actor_type: ActorType = Field(
        description="`user` (a token's subject: `actor` is its sub) or `provider` (a fact "
        "the provider reported). Derived from the kind of fact, never from `actor`: a token "
        "whose sub is `provider` is a `user`."
    )
    type: str = Field(
        description="connection.requested, hosting.started, hosting.progressed, "
        "connection.connected, "
        "connection.failed, agent.assigned, workspace.changed, active.changed, "
        "compliance.updated, registration.submitted, registration.changed, "
        "registration.vetting_requested, number.reclaimed, "
        "connection.replaced, "
        "connection.deleted"
    )
    changed_fields: list[str] = Field(
        description="For compliance.updated: the names of the fields that changed (no values)."
    )


class TrailPage(WireModel):
    items: list[TrailEntry]
    next_cursor: str | None


def trail_entry(row: dict[str, Any]) -> TrailEntry:
    return TrailEntry.model_validate(trail_entry_wire(row))


def trail_entry_wire(row: dict[str, Any]) -> dict[str, Any]:
    """An ``audit_trail`` row in its wire form as plain values, for ``orjson.dumps``: the
    JSON page is serialised without a model per entry (B7). Same shape as ``TrailEntry``
    (tests compare the two)."""
    return {
        "connectionId": row["connection_id"],
        "version": row["version"],
        "recordedAt": row["recorded_at"],
        "actor": row["actor"] or PROVIDER_ACTOR,
        "actorType": actor_type(row["type"]),
        "type": row["type"],
        "changedFields": list(row["changed_fields"]),
    }


CSV_HEADER = (
    "connectionId",
    "version",
    "recordedAt",
    "actor",
    "actorType",
    "type",
    "changedFields",
)


def csv_values(entry: dict[str, Any]) -> list[Any]:
    """An entry (wire form) as a CSV row: changedFields joined by ``;``."""
    return [
        ";".join(entry[name]) if name == "changedFields" else entry[name] for name in CSV_HEADER
    ]
