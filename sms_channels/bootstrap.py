"""Wiring: settings → provider → application. Every entry point and every test calls this."""

from __future__ import annotations

from domain.application import SmsChannels
from domain.providers import NumberProvider, WebhookVerifier
from providers.sandbox import PostgresLedger, SandboxProvider, SandboxWebhookVerifier
from providers.telnyx import TelnyxConfig, TelnyxProvider, TelnyxWebhookVerifier
from providers.twilio import TwilioConfig, TwilioProvider, TwilioWebhookVerifier
from sms_channels.database import eventsourcing_env
from sms_channels.settings import Settings


def build_provider(settings: Settings) -> NumberProvider:
    """The configured SMS provider adapter (``SMS_PROVIDER``).

    The sandbox keeps its account in PostgreSQL whenever the service does (so that every
    process, the reconcile worker and the sandbox CLI see one account, across restarts), and
    in memory otherwise. With ``create_tables`` (``sms-channels migrate``) its tables are
    created here, once."""
    if settings.sms_provider == "twilio":
        return TwilioProvider(twilio_config(settings))
    if settings.sms_provider == "telnyx":
        return TelnyxProvider(telnyx_config(settings))
    auto = auto_approve_after(settings)
    inbound = settings.inbound_sms_webhook_url
    if settings.persistence == "postgres" and settings.database_url:
        if settings.create_tables:
            PostgresLedger.create_tables(settings.database_url)
        return SandboxProvider(
            PostgresLedger(settings.database_url), auto_approve_after=auto, inbound_url=inbound
        )
    return SandboxProvider(auto_approve_after=auto, inbound_url=inbound)


def auto_approve_after(settings: Settings) -> float | None:
    """Seconds after which the sandbox approves a registration object by itself
    (``SANDBOX_REGISTRATION_AUTO=approve``), None when it waits to be told."""
    if settings.sandbox_registration_auto != "approve":
        return None
    return settings.sandbox_registration_auto_seconds


def registration_poll_seconds(settings: Settings) -> float:
    """How often the registration worker polls levels in flight: the reconcile interval,
    or as often as the sandbox's auto-approval can change them."""
    auto = auto_approve_after(settings)
    interval = settings.reconcile_interval_seconds
    return interval if auto is None else min(interval, max(auto, 1.0))


def twilio_config(settings: Settings) -> TwilioConfig:
    """The Twilio adapter's configuration; ValueError without credentials."""
    if not settings.twilio_account_sid or settings.twilio_auth_token is None:
        msg = "SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        raise ValueError(msg)
    return TwilioConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        base_url=settings.twilio_base_url,
        numbers_base_url=settings.twilio_numbers_base_url,
        timeout_seconds=settings.twilio_timeout_seconds,
        max_attempts=settings.twilio_max_attempts,
        hosting_address_sid=settings.twilio_hosting_address_sid,
        hosting_email=settings.twilio_hosting_email,
        hosting_contact_phone=settings.twilio_hosting_contact_phone,
        messaging_base_url=settings.twilio_messaging_base_url,
        trusthub_base_url=settings.twilio_trusthub_base_url,
        inbound_url=settings.inbound_sms_webhook_url,
        a2p_mock=settings.twilio_a2p_mock,
        profile_email=settings.twilio_profile_email,
        primary_profile_sid=settings.twilio_primary_profile_sid,
    )


def telnyx_config(settings: Settings) -> TelnyxConfig:
    """The Telnyx adapter's configuration; ValueError without the API key. Brand and
    campaign status updates are sent to this service's webhook when PUBLIC_BASE_URL is set
    (otherwise the registration worker's poll reads them)."""
    if settings.telnyx_api_key is None:
        msg = "SMS_PROVIDER=telnyx needs TELNYX_API_KEY"
        raise ValueError(msg)
    public = settings.public_base_url
    return TelnyxConfig(
        api_key=settings.telnyx_api_key.get_secret_value(),
        messaging_profile_id=settings.telnyx_messaging_profile_id,
        base_url=settings.telnyx_base_url,
        webhook_url=f"{public.rstrip('/')}/providers/telnyx/webhooks" if public else None,
        mock_brands=settings.telnyx_10dlc_mock,
        timeout_seconds=settings.telnyx_timeout_seconds,
        max_attempts=settings.telnyx_max_attempts,
        order_wait_seconds=settings.telnyx_order_wait_seconds,
    )


def build_webhook_verifier(settings: Settings) -> WebhookVerifier:
    """The signature check of the configured provider's webhooks. Without its secret it
    refuses every webhook (fail closed)."""
    if settings.sms_provider == "twilio":
        token = settings.twilio_auth_token
        shared = settings.twilio_webhook_shared_key
        return TwilioWebhookVerifier(
            token.get_secret_value() if token else None,
            shared.get_secret_value() if shared else None,
        )
    if settings.sms_provider == "telnyx":
        return TelnyxWebhookVerifier(
            settings.telnyx_public_key, tolerance_seconds=settings.webhook_tolerance_seconds
        )
    secret = settings.sandbox_webhook_secret
    return SandboxWebhookVerifier(
        secret.get_secret_value() if secret else None,
        tolerance_seconds=settings.webhook_tolerance_seconds,
    )


def build_application(settings: Settings, provider: NumberProvider | None = None) -> SmsChannels:
    """The write-side application on the configured event store."""
    return SmsChannels(provider or build_provider(settings), env=eventsourcing_env(settings))
