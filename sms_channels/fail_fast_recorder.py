"""The event store's recorder, failing fast while PostgreSQL is away.

eventsourcing's PostgreSQL recorder retries every read and write 10 times (0.2 s apart, each
attempt waiting up to the connect timeout for a connection): during an outage a request
hangs for many seconds before it fails. An API should answer 503 with ``Retry-After`` within
a couple of seconds instead and let the client retry, so this subclass makes the same calls
with ``ATTEMPTS`` tries. Chosen by ``APPLICATION_RECORDER_TOPIC`` (``sms_channels.database``);
the snapshots' recorder (``domain.snapshots``) is the factory's aggregate recorder, so
``FailFastFactory`` (``PERSISTENCE_MODULE``) gives it the same fewer tries.
The undecorated methods are the library's own (``__wrapped__`` of its ``retry``), so
nothing of what they do changes but the number of tries.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import retry

ATTEMPTS = 2
WAIT_SECONDS = 0.1


def _fewer_tries(method: Any) -> Any:
    undecorated = method.__wrapped__
    return retry((InterfaceError, OperationalError), max_attempts=ATTEMPTS, wait=WAIT_SECONDS)(
        undecorated
    )


class FailFastRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` with ``ATTEMPTS`` tries per call instead of 10."""

    insert_events = _fewer_tries(PostgresApplicationRecorder.insert_events)
    select_events = _fewer_tries(PostgresApplicationRecorder.select_events)
    select_notifications = _fewer_tries(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _fewer_tries(PostgresApplicationRecorder.max_notification_id)


class FailFastSnapshotRecorder(PostgresAggregateRecorder):
    """``PostgresAggregateRecorder`` (the snapshots' table) with ``ATTEMPTS`` tries per call."""

    insert_events = _fewer_tries(PostgresAggregateRecorder.insert_events)
    select_events = _fewer_tries(PostgresAggregateRecorder.select_events)


class FailFastFactory(PostgresFactory):
    """The library's PostgreSQL factory, whose aggregate recorders (snapshots) fail fast."""

    aggregate_recorder_class = FailFastSnapshotRecorder
