"""The answer when the event store fails after a connect recorded its request
(``RecordedRequestUnavailableError``): a 503 that names the recorded connection
(``Location``, ``connectionId``), says what to do in words, and when to retry."""

from __future__ import annotations

from uuid import uuid4

from api.errors import _domain_problem
from domain.errors import RecordedRequestUnavailableError

WORDS = (
    "The database became unavailable after the request was recorded; read the connection "
    "at Location, or retry with the same Idempotency-Key to resume it."
)


def test_the_answer_names_the_recorded_connection_and_when_to_retry() -> None:
    connection_id = uuid4()
    problem = _domain_problem(RecordedRequestUnavailableError(connection_id))
    assert (problem.status, problem.code, problem.detail) == (503, "service_unavailable", WORDS)
    assert problem.headers["Retry-After"] == "2"
    assert problem.headers["Location"].endswith(str(connection_id))
    assert problem.extensions == {"connectionId": str(connection_id)}


def test_the_retry_delay_is_the_one_given() -> None:
    error = RecordedRequestUnavailableError(uuid4(), retry_after_seconds=7)
    assert error.retry_after_seconds == 7
    assert _domain_problem(error).headers["Retry-After"] == "7"
