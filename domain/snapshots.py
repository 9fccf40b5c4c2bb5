"""Snapshots of ``SmsConnection``: loading a connection reads its newest snapshot and the
events after it, never more than ``SNAPSHOT_INTERVAL`` of them, however long its history.

The eventsourcing library's own support: the application's ``snapshotting_intervals``
takes a ``Snapshot`` (the aggregate's state at that version) after every save that reaches a
multiple of the interval, into the ``<app>_snapshots`` table, through the same mapper as the
events (encrypted and compressed as configured). Snapshots only shorten loads: the
compliance history and the hash-chain verification read the stored events themselves
(``domain.service.compliance_history``, ``domain.service.audit_verify``), and a connection
without a snapshot (every one recorded before, e.g. the fixtures in ``tests/data``) loads
from its events.

A connection's state holds value objects no event holds (its submission, its registration
levels with their reasons, each carrier's decision and the throughput): their transcodings
are here, restoring the exact
types (tuples stay tuples). Changing a field of these classes or of ``SmsConnection`` state
needs ``SmsConnection.class_version`` and an upcast for older snapshots, as for events.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.carriers import CarrierState, Throughput
from domain.registration_levels import LevelState, Reason
from domain.sms_connections import Submission

# At most this many events are replayed on top of the newest snapshot.
SNAPSHOT_INTERVAL = 50


class SubmissionAsDict(Transcoding):
    """``Submission`` as its fields (its UUIDs and time are transcoded by the library)."""

    type = Submission
    name = "sms_submission"

    def encode(self, obj: Submission) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in fields(Submission)}

    def decode(self, data: dict[str, Any]) -> Submission:
        return Submission(**data)


class LevelStateAsDict(Transcoding):
    """``LevelState`` as its fields, its reasons and carriers lists (tuples again when
    read)."""

    type = LevelState
    name = "sms_level_state"

    def encode(self, obj: LevelState) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in fields(LevelState)} | {
            "reasons": list(obj.reasons),
            "carriers": None if obj.carriers is None else list(obj.carriers),
        }

    def decode(self, data: dict[str, Any]) -> LevelState:
        carriers = data.get("carriers")  # absent from snapshots taken before issue 31
        return LevelState(
            **(
                data
                | {
                    "reasons": tuple(data["reasons"]),
                    "carriers": None if carriers is None else tuple(carriers),
                }
            )
        )


class ReasonAsDict(Transcoding):
    """``Reason`` as its fields, its field names a list (a tuple again when read)."""

    type = Reason
    name = "sms_reason"

    def encode(self, obj: Reason) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Reason:
        return Reason(data["code"], data["description"], tuple(data["fields"]))


class CarrierStateAsDict(Transcoding):
    """``CarrierState`` as its fields, its reasons a list of dicts (a tuple again when read)."""

    type = CarrierState
    name = "sms_carrier_state"

    def encode(self, obj: CarrierState) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> CarrierState:
        return CarrierState(data["carrier"], data["status"], tuple(data["reasons"]))


class ThroughputAsDict(Transcoding):
    """``Throughput`` as its fields."""

    type = Throughput
    name = "sms_throughput"

    def encode(self, obj: Throughput) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Throughput:
        return Throughput(**data)


SNAPSHOT_TRANSCODINGS: tuple[Transcoding, ...] = (
    SubmissionAsDict(),
    LevelStateAsDict(),
    ReasonAsDict(),
    CarrierStateAsDict(),
    ThroughputAsDict(),
)
