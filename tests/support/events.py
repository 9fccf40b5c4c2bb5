"""Writing many realistic events fast (for catch-up tests and benchmarks): aggregates are
built in memory and saved many per transaction, as a busy service would have written them
over time."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from domain.agent_directory import AgentInfo, DirectoryAgent
from domain.application import SmsChannels
from domain.providers import NumberProvider
from domain.sms_connections import SmsConnection


def write_connection_history(
    application: SmsChannels, account: str, numbers: list[str], chunk: int = 250
) -> int:
    """Five events per number (requested, connected, agent, active, compliance) and one
    directory entry for each of the ten agents. Returns the number of events written."""
    written = 0
    for start in range(0, len(numbers), chunk):
        aggregates: list[SmsConnection | DirectoryAgent] = []
        for index, number in enumerate(numbers[start : start + chunk], start):
            agent = f"agent_{index % 10}"
            connection = SmsConnection.request(
                connection_id=uuid4(),
                account_id=account,
                workspace_id="ws",
                agent_id="seed",
                mode="new",
                country="US",
                area_code=None,
                phone_number=number,
                requested_by="u",
            )
            connection.mark_connected("sandbox", f"PN{index}")
            connection.assign_agent(agent, by="u")
            connection.activate(by="u")
            connection.update_compliance({"brand": {"displayName": f"Brand {index}"}}, by="u")
            aggregates.append(connection)
            if index < 10:  # one directory entry per agent
                info = AgentInfo("ws", "Workspace", f"Agent {index}", f"kb_{index}", "KB")
                aggregates.append(DirectoryAgent.create(account, agent, info))
        written += len(application.save(*aggregates))
    return written


def application_with_stored_events(
    provider: NumberProvider, stored: Path, env: dict[str, str] | None = None
) -> SmsChannels:
    """An in-memory application whose log holds exactly the events in ``stored`` (a JSON
    list of records captured from a previous version of the code); ``env`` adds settings."""
    application = SmsChannels(
        provider, env={"PERSISTENCE_MODULE": "eventsourcing.popo", **(env or {})}
    )
    records = json.loads(stored.read_text())
    application.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(r["originator_id"]),
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=r["state"].encode(),
            )
            for r in records
        ]
    )
    return application
