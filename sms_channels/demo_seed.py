"""The demo directory that ``sms-channels run`` seeds on the embedded default (never in
production): two workspaces of account ``acc_demo``, agents with knowledge bases, and one
agent without a knowledge base, so that the console can show a degraded row.

Idempotent: an agent the directory already knows (also one changed since) is left as it is;
only agents it has never heard of, or that were deleted, are written.
"""

from __future__ import annotations

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels

DEMO_ACCOUNT = "acc_demo"

DEMO_AGENTS: dict[str, AgentInfo] = {
    "agent_1": AgentInfo("ws_1", "Support", "Ava", "kb_1", "Help center"),
    "agent_2": AgentInfo("ws_1", "Support", "Max", "kb_2", "Returns policy"),
    "agent_3": AgentInfo("ws_2", "Sales", "Sol", "kb_3", "Pricing"),
    "agent_4": AgentInfo("ws_2", "Sales", "Nova", None, None),
}


def seed_demo_directory(application: SmsChannels, account_id: str = DEMO_ACCOUNT) -> list[str]:
    """Write the demo agents the directory lacks; return their ids (empty: nothing to do)."""
    written = []
    for agent_id, info in DEMO_AGENTS.items():
        if application.find_agent(account_id, agent_id) is None:
            application.upsert_agent(account_id, agent_id, info)
            written.append(agent_id)
    return written
