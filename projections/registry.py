"""Every read model's projection, by name."""

from __future__ import annotations

from projections.agent_directory import AgentDirectoryProjection
from projections.audit_trail import AuditTrailProjection
from projections.base import Projection
from projections.channels_table import ChannelsTableProjection
from projections.sms_requests import SmsRequestsProjection

PROJECTIONS: dict[str, type[Projection]] = {
    p.name: p
    for p in (
        ChannelsTableProjection,
        SmsRequestsProjection,
        AgentDirectoryProjection,
        AuditTrailProjection,
    )
}
