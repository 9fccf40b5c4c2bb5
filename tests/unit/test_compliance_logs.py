"""Log redaction: no compliance value reaches a log line, whatever a developer logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from uuid import uuid4

import pytest
import structlog

from domain.compliance.shape import ComplianceDraft, check_compliance
from domain.errors import ComplianceInvalidError, ConnectionNotFoundError
from domain.sms_connections import SmsConnection
from sms_channels.logs import configure_logging, reset_logging
from tests.support.compliance_payloads import marked_payload

CANARY = "Qcanary-5e1f"
PAYLOAD = {"brand": {"displayName": CANARY}, "campaign": {"messageSamples": [CANARY]}}


@pytest.fixture(params=["json", "console"])
def captured(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Logging configured as the service configures it, written into a buffer."""
    buffer = io.StringIO()
    configure_logging("debug", request.param, stream=buffer, cache=False)
    yield buffer
    reset_logging()


log = structlog.get_logger("tests.redaction")


def test_a_logged_request_body_is_redacted(captured: io.StringIO) -> None:
    log.info("request", body={"smsCompliance": PAYLOAD, "mode": "new"})
    assert CANARY not in captured.getvalue()
    assert "new" in captured.getvalue()


def test_a_logged_compliance_payload_under_any_key_is_redacted(captured: io.StringIO) -> None:
    log.info("saved", data=PAYLOAD, items=[PAYLOAD["brand"]])
    assert CANARY not in captured.getvalue()


def test_a_raw_json_body_as_bytes_or_text_is_redacted(captured: io.StringIO) -> None:
    raw = json.dumps(PAYLOAD)
    log.info("raw", body=raw.encode(), text=raw)
    assert CANARY not in captured.getvalue()


def test_a_field_logged_under_its_own_name_is_redacted(captured: io.StringIO) -> None:
    log.info("field", display_name=CANARY, helpMessage=CANARY, zip_code=CANARY)
    assert CANARY not in captured.getvalue()


def test_a_payload_formatted_into_the_message_is_redacted(captured: io.StringIO) -> None:
    log.info(f"saving {PAYLOAD} for displayName={CANARY}")
    assert CANARY not in captured.getvalue()


def test_a_logged_aggregate_is_redacted(captured: io.StringIO) -> None:
    connection = SmsConnection.request(
        connection_id=uuid4(),
        account_id="acc",
        workspace_id="ws",
        agent_id="agent",
        mode="new",
        country="US",
        area_code=None,
        phone_number="+14155552671",
        requested_by="u",
    )
    connection.update_compliance(PAYLOAD, by="u")
    log.info("connection", connection=connection)
    assert CANARY not in captured.getvalue()


def test_a_logged_model_or_dataclass_is_redacted(captured: io.StringIO) -> None:
    log.info("model", model=ComplianceDraft.model_validate(PAYLOAD))
    assert CANARY not in captured.getvalue()


def test_a_validation_exception_shows_its_type_and_frames_but_not_its_message(
    captured: io.StringIO,
) -> None:
    try:
        ComplianceDraft.model_validate({"brand": {"displayName": CANARY * 20}})
    except ValueError:
        log.exception("failed")
    output = captured.getvalue()
    assert CANARY not in output
    assert "ValidationError" in output
    assert "test_compliance_logs.py" in output


def test_an_exception_passed_as_a_value_is_redacted(captured: io.StringIO) -> None:
    log.error("failed", error=ValueError(f"bad value {CANARY}"))
    assert CANARY not in captured.getvalue()


def test_a_domain_errors_message_is_kept(captured: io.StringIO) -> None:
    connection_id = uuid4()
    try:
        raise ConnectionNotFoundError(connection_id)
    except ConnectionNotFoundError:
        log.exception("failed")
    assert f"Connection {connection_id} was not found." in captured.getvalue()


def test_standard_library_logging_is_redacted_too(captured: io.StringIO) -> None:
    logging.getLogger("some.library").warning("body %s", json.dumps(PAYLOAD))
    try:
        check_compliance({"brand": {"vertical": CANARY}})
    except ComplianceInvalidError:
        logging.getLogger("some.library").exception("failed")
    output = captured.getvalue()
    assert "some.library" in output
    assert CANARY not in output


def test_every_compliance_field_is_redacted_by_name(captured: io.StringIO) -> None:
    payload, markers = marked_payload()
    log.info("fields", **payload["brand"], **payload["campaign"])
    assert not [m for m in markers if m in captured.getvalue()]


def test_ids_codes_and_statuses_are_kept(captured: io.StringIO) -> None:
    connection_id = uuid4()
    log.info("request", connection_id=connection_id, status=412, code="version_conflict")
    output = captured.getvalue()
    assert str(connection_id) in output
    assert "version_conflict" in output


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError(CANARY)


def test_an_object_whose_repr_fails_is_logged_by_its_type(captured: io.StringIO) -> None:
    log.info("odd", thing=BrokenRepr())
    assert "<BrokenRepr>" in captured.getvalue()
    assert CANARY not in captured.getvalue()
