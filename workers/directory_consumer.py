"""Agents-topic consumer: feeds the agent directory from Kafka.

Contract of the agents topic (JSON values, key = agent id so one agent's messages keep
their order in one partition):

    {"type": "agent.upserted", "eventId": "...", "occurredAt": "RFC 3339",
     "accountId": "...", "agentId": "...", "workspaceId": "...", "workspaceName": "...",
     "name": "...", "knowledgeBaseId": "..." | null, "knowledgeBaseName": "..." | null}
    {"type": "agent.deleted", "eventId": "...", "occurredAt": "...",
     "accountId": "...", "agentId": "..."}

Guarantees: auto-commit is off and an offset is committed only after the message's
directory event is saved, so a crash redelivers instead of losing (redelivery is harmless:
an unchanged agent records nothing). A message that is not valid JSON or breaks the
contract can never succeed: it is copied to ``<topic>.dlq`` with the reason, and only then
committed past, so one bad message does not stop the directory.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
import structlog
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.errors import InvalidTextError
from workers.outage import Backoff, current_status, is_transient

log = structlog.get_logger("workers.directory_consumer")
GROUP_ID = "sms-channels-agent-directory"
# A database or broker back from an outage is found within this many seconds.
MAX_BACKOFF_SECONDS = 5.0
Text = Annotated[str, Field(min_length=1, max_length=200)]


class _Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)

    event_id: Text
    occurred_at: datetime
    account_id: Text
    agent_id: Text


class AgentUpserted(_Message):
    type: Literal["agent.upserted"]
    workspace_id: Text
    workspace_name: Text
    name: Text
    knowledge_base_id: Annotated[str, Field(max_length=200)] | None = None
    knowledge_base_name: Annotated[str, Field(max_length=200)] | None = None


class AgentDeleted(_Message):
    type: Literal["agent.deleted"]


class AgentMessage(BaseModel):
    """One message of the agents topic."""

    message: Annotated[AgentUpserted | AgentDeleted, Field(discriminator="type")]


def apply_message(application: SmsChannels, value: bytes) -> int | None:
    """Record one agents-topic message in the directory. Raises ValueError for a message
    that breaks the contract; returns the event-log position (None: nothing changed)."""
    try:
        message = AgentMessage.model_validate({"message": orjson.loads(value)}).message
    except (orjson.JSONDecodeError, ValidationError) as error:
        raise ValueError(str(error)) from None
    try:
        if isinstance(message, AgentDeleted):
            return application.remove_agent(message.account_id, message.agent_id)
        info = AgentInfo(
            message.workspace_id,
            message.workspace_name,
            message.name,
            message.knowledge_base_id,
            message.knowledge_base_name,
        )
        return application.upsert_agent(message.account_id, message.agent_id, info)
    except InvalidTextError as error:
        # The text rule: a NUL, control character or look-alike id is the message's fault.
        raise ValueError(f"{error.field}: {error.rule}") from None


class DirectoryConsumer:
    """Consumes the agents topic into the directory until stopped."""

    def __init__(
        self,
        application: SmsChannels,
        bootstrap_servers: str,
        topic: str,
        **consumer_options: Any,
    ) -> None:
        self.application = application
        self.topic = topic
        self.consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap_servers,
            group_id=GROUP_ID,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **consumer_options,
        )
        self.dead_letters = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Process what one poll returns, committing after each message's write."""
        handled = 0
        for messages in self.consumer.poll(timeout_ms=timeout_ms).values():
            for message in messages:
                partition = TopicPartition(message.topic, message.partition)
                try:
                    apply_message(self.application, message.value)
                except ValueError as error:
                    log.warning(
                        "agent_message_rejected", offset=message.offset, partition=message.partition
                    )
                    self.dead_letters.send(
                        self.topic + ".dlq",
                        key=message.key,
                        value=message.value,
                        headers=[("error", str(error)[:500].encode())],
                    ).get(timeout=30)
                except Exception:
                    # Not the message's fault (database down?): read it again next time.
                    self.consumer.seek(partition, message.offset)
                    raise
                # Commit exactly this message (not the whole poll: later ones are not done).
                self.consumer.commit({partition: OffsetAndMetadata(message.offset + 1, "", -1)})
                handled += 1
        return handled

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop``. The database or the broker away (``workers.outage``) is
        waited out with a jittered backoff, from the message that failed; any other
        failure (not the message's: a bug) is raised, and the supervisor restarts the
        consumer from that message after its own backoff."""
        backoff = Backoff(cap=MAX_BACKOFF_SECONDS)
        status = current_status()
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception as error:
                if not is_transient(error):
                    raise
                delay = backoff.next()
                log.warning(
                    "agent_message_retry", error_type=type(error).__name__, retry_in=round(delay, 2)
                )
                status.retrying(error)
                stop.wait(delay)
                continue
            backoff.reset()
            status.running()

    def close(self) -> None:
        self.consumer.close()
        self.dead_letters.close()
