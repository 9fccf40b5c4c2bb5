"""The entry points: the ``sms-channels`` command (``main.app``), its sub-commands, and what
only they start (the embedded PostgreSQL and Kafka broker, the in-process worker stack).
Nothing outside this package imports it; only entry points import ``api``."""

from __future__ import annotations

from sms_channels.cli.main import app

__all__ = ["app"]
