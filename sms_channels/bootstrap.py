"""Wiring: settings → provider → application. Every entry point and every test calls this."""

from __future__ import annotations

from domain.application import SmsChannels
from domain.providers import NumberProvider
from providers.sandbox import SandboxProvider
from sms_channels.database import eventsourcing_env
from sms_channels.settings import Settings


def build_provider(settings: Settings) -> NumberProvider:
    """The configured SMS provider adapter."""
    if settings.sms_provider == "sandbox":
        return SandboxProvider()
    msg = f"SMS provider {settings.sms_provider!r} is not available in this build"
    raise NotImplementedError(msg)


def build_application(settings: Settings, provider: NumberProvider | None = None) -> SmsChannels:
    """The write-side application on the configured event store."""
    return SmsChannels(provider or build_provider(settings), env=eventsourcing_env(settings))
