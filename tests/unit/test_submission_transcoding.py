"""A connection's ``Submission`` in a snapshot (``domain.snapshots.SubmissionAsDict``): stored
as its fields, read back equal."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from uuid import uuid4

from domain.sms_connections import Submission
from domain.snapshots import SubmissionAsDict

SUBMISSION = Submission(2, 7, "u1", datetime(2026, 12, 1, tzinfo=UTC), "d" * 64, uuid4(), uuid4())


def test_a_submission_is_stored_as_its_fields_and_read_back_equal() -> None:
    transcoding = SubmissionAsDict()
    encoded = transcoding.encode(SUBMISSION)
    assert encoded == {f.name: getattr(SUBMISSION, f.name) for f in fields(Submission)}
    assert list(encoded) == [f.name for f in fields(Submission)]
    assert transcoding.decode(encoded) == SUBMISSION
