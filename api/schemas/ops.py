"""The readiness answer (camelCase on the wire): what ``/readyz`` says of the service and of
the workers running in its process. A worker's last error is its class name only (an
error's text can hold data)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class WorkerStateOut(_Out):
    name: str = Field(description="e.g. projection:channels_table, relay:channel_feeds_relay.")
    state: Literal["running", "retrying", "restarting", "stopped"] = Field(
        description="retrying: waiting out a database or broker error; restarting: it crashed"
        " and is started again after a backoff."
    )
    since: datetime = Field(description="When it entered this state (UTC).")
    last_error: str | None = Field(description="The class of its last error (never its text).")


class ReadinessOut(_Out):
    status: Literal["ready"]
    position: int = Field(description="The event log's head.")
    workers: list[WorkerStateOut] | None = Field(
        default=None,
        description="The workers of this process (``sms-channels run``); absent when none run"
        " here. The 503 answer carries the same list.",
    )
    notes: list[str] | None = Field(
        default=None, description="What a ready service still wants an operator to know."
    )
