"""``python -m sms_channels.cli``: the ``sms-channels`` command."""

from __future__ import annotations

from sms_channels.cli.main import app

app()
