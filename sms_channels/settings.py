"""All configuration, from environment variables (the design's configuration table)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_JWT_SECRET_LENGTH = 32


class InsecureSettingsError(RuntimeError):
    """Raised when production (``serve``) would start without a secret it needs."""


# A browser's Origin: scheme, host and optional port, no path (a trailing "/" never matches).
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


def _split(origins: str | None) -> list[str]:
    return [o.strip() for o in (origins or "").split(",") if o.strip()]


class Settings(BaseSettings):
    """Service settings. Every field maps to the upper-case environment variable."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str | None = None
    # A read replica (streaming standby) of DATABASE_URL for the queries (the read models'
    # pages, single reads, exports); commands, readiness, idempotency and rate limits stay
    # on the primary. ``waitFor`` waits for the replica's own tracking position.
    database_read_url: str | None = None
    data_dir: Path = Path(".data")
    # The console's built bundle (``ui/dist``), served under /app/ (api.console); unset: the
    # ui/dist beside this checkout.
    console_dir: Path | None = None
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    # Rotation: keys still accepted for verification (JSON lists), never used to sign.
    jwt_previous_secrets: list[SecretStr] = Field(default_factory=list)
    jwt_previous_public_keys: list[str] = Field(default_factory=list)
    # Checked when set: the token's ``iss`` / ``aud`` must match (401 otherwise).
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Tokens valid for longer than this (exp - iat; exp - now without iat) are refused.
    jwt_max_lifetime_seconds: int = Field(default=24 * 3600, ge=60)
    cipher_key: SecretStr | None = None
    # Rotation: keys that still decrypt older events (JSON list); CIPHER_KEY encrypts.
    cipher_previous_keys: list[SecretStr] = Field(default_factory=list)
    # HMAC key of brand registration ids (>= 32 characters; never change it: the ids of
    # brands registered under it are derived from it). Unset: the first, unkeyed ids.
    registration_id_key: SecretStr | None = None
    # Signs `audit checkpoint` documents (Ed25519 private key: base64 of 32 random bytes).
    audit_signing_key: SecretStr | None = None
    sms_provider: Literal["sandbox", "twilio", "telnyx"] = "sandbox"
    kafka_bootstrap_servers: str | None = None
    analytics_topic: str = "channel.connected"
    # Lifecycle events for analytics, and the compacted routing feed for ingestion.
    channel_events_topic: str = "channel.events"
    routing_topic: str = "sms.routing"
    # Where the provider sends inbound messages of the numbers this service buys or hosts
    # (unset: numbers are left as the provider set them, and /readyz says so).
    inbound_sms_webhook_url: str | None = None
    agents_topic: str = "agents"
    host: str = "127.0.0.1"
    # Behind a load balancer: the addresses whose X-Forwarded-For / X-Forwarded-Proto are
    # believed (comma-separated, or *), so that the per-address webhook limit keys on the
    # client, not on the balancer.
    forwarded_allow_ips: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # "memory" keeps events in process: for unit tests only, never for a running service.
    persistence: Literal["postgres", "memory"] = "postgres"
    create_tables: bool = False
    postgres_pool_size: int = Field(default=5, ge=2)
    postgres_max_overflow: int = Field(default=10, ge=0)
    # How long a request waits for a database connection. A failed read or write is tried
    # twice (sms_channels/fail_fast_recorder.py), so while PostgreSQL is down a request
    # answers 503 after about twice this; a healthy server connects in milliseconds.
    postgres_connect_timeout: int = Field(default=1, ge=1, le=30)
    # Group commit: saves that arrive while another is being written are written together,
    # in one transaction (sms_channels/group_commit.py). Off: one transaction per save.
    event_store_group_commit: bool = True
    # Read-your-writes: how long a query with ?waitFor= waits for its projection, and how
    # many such waits one account may hold at once (more answer at once, without waiting).
    read_wait_seconds: float = Field(default=2.0, ge=0, le=30)
    wait_for_max_per_account: int = Field(default=20, ge=1)
    # /docs and /redoc (the Swagger UI assets are served by the service, never a CDN).
    docs_enabled: bool = True
    # Readiness fails when a projection is this many notifications behind the log.
    projection_max_lag: int = Field(default=1000, ge=1)
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    projection_batch_size: int = Field(default=1000, ge=1, le=100_000)
    # SMS provider adapters (SMS_PROVIDER chooses). The sandbox signs its webhooks with
    # SANDBOX_WEBHOOK_SECRET; without one, sandbox webhooks are refused (403).
    sandbox_webhook_secret: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    # The secret of a Twilio webhook SharedKey: webhooks carrying
    # X-Twilio-Webhooks-Signature-Settings are verified with it (HMAC-SHA1 or -SHA256).
    twilio_webhook_shared_key: SecretStr | None = None
    twilio_base_url: str = "https://api.twilio.com"
    twilio_numbers_base_url: str = "https://numbers.twilio.com"
    twilio_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    twilio_max_attempts: int = Field(default=3, ge=1, le=10)
    # Who signs bring-your-own-number hosting orders at Twilio (address, email, phone).
    twilio_hosting_address_sid: str | None = None
    twilio_hosting_email: str | None = None
    twilio_hosting_contact_phone: str | None = None
    # US A2P 10DLC at Twilio: the Messaging and TrustHub hosts, test brands (``Mock``: no
    # fees, no carrier review), the email Twilio writes to about each business's TrustHub
    # profiles (unset: the brand's contact email), and the ISV's own approved primary
    # customer profile (assigned to each secondary profile when set).
    twilio_messaging_base_url: str = "https://messaging.twilio.com"
    twilio_trusthub_base_url: str = "https://trusthub.twilio.com"
    twilio_a2p_mock: bool = False
    twilio_profile_email: str | None = None
    twilio_primary_profile_sid: str | None = None
    # Telnyx (SMS_PROVIDER=telnyx): the API key (a secret), the public key its webhooks are
    # signed with (Ed25519: base64 of 32 bytes as the portal shows it, or a PEM), the
    # messaging profile every number joins (its inbound webhook is where messages go),
    # test brands (``mock``: no fees, no TCR review), and how long a purchase waits for
    # its number order. The base URL is for tests (the fake Telnyx).
    telnyx_api_key: SecretStr | None = None
    telnyx_public_key: str | None = None
    telnyx_messaging_profile_id: str | None = None
    telnyx_base_url: str = "https://api.telnyx.com/v2"
    telnyx_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    telnyx_max_attempts: int = Field(default=3, ge=1, le=10)
    telnyx_10dlc_mock: bool = False
    telnyx_order_wait_seconds: float = Field(default=10.0, ge=0, le=120)
    # The public URL the provider calls (Twilio signs the URL it called): set it behind a
    # proxy that rewrites the scheme or host. Unset → the URL of the request as received.
    public_base_url: str | None = None
    # Signed webhooks whose timestamp is further than this from now are refused (replays).
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # The reconcile worker: how often it polls the provider, and how long a request may
    # stay without a provider outcome before it is finished or failed.
    reconcile_interval_seconds: float = Field(default=60.0, gt=0)
    reconcile_pending_after_seconds: float = Field(default=300.0, gt=0)
    # The registration worker: how often it looks for provider steps to take.
    registration_interval_seconds: float = Field(default=2.0, gt=0)
    # The sandbox provider approves each registration object this long after it was made
    # (``approve``; demos only): otherwise submissions stay pending until told.
    sandbox_registration_auto: Literal["off", "approve"] = "off"
    sandbox_registration_auto_seconds: float = Field(default=5.0, ge=0)
    # Per-account token buckets on the routes that cost money at the provider (0 = off).
    rate_limit_search_per_minute: int = Field(default=60, ge=0)
    rate_limit_connect_per_minute: int = Field(default=10, ge=0)
    # Per-account token buckets on connection settings (PATCH) and the compliance PUT.
    rate_limit_settings_per_minute: int = Field(default=60, ge=0)
    rate_limit_compliance_per_minute: int = Field(default=30, ge=0)
    # Audit trail file exports (format=ndjson|csv): how many run at once per account and per
    # API process (429 beyond), and when one is cut off: its client read nothing for the
    # send timeout, or it ran longer than the deadline.
    audit_exports_per_account: int = Field(default=2, ge=1)
    audit_exports_max: int = Field(default=8, ge=1)
    audit_export_send_timeout_seconds: float = Field(default=30.0, gt=0)
    audit_export_max_seconds: float = Field(default=900.0, gt=0)
    # Provider webhooks, per source address (they carry no token to key on).
    rate_limit_webhooks_per_minute: int = Field(default=600, ge=0)
    # Webhooks refused for their signature, per source address: their own bucket, checked
    # after the signature, so that they never spend the signed deliveries' tokens.
    rate_limit_refused_webhooks_per_minute: int = Field(default=60, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_query_bytes: int = Field(default=8 * 1024, ge=256)
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    # Origins of the channels UI allowed to call the API from a browser (comma-separated,
    # e.g. "https://app.example.com,http://localhost:3000"). Unset → no CORS headers.
    cors_allow_origins: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    @field_validator("cors_allow_origins")
    @classmethod
    def _origins_are_origins(cls, value: str | None) -> str | None:
        for origin in _split(value):
            if not _ORIGIN.fullmatch(origin):
                msg = f"CORS_ALLOW_ORIGINS: {origin!r} is not an origin (scheme://host[:port])"
                raise ValueError(msg)
        return value

    @field_validator("inbound_sms_webhook_url")
    @classmethod
    def _inbound_is_an_http_url(cls, value: str | None) -> str | None:
        """Empty is unset (docker-compose passes ``${INBOUND_SMS_WEBHOOK_URL:-}``)."""
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
            msg = "INBOUND_SMS_WEBHOOK_URL must be an http(s) URL"
            raise ValueError(msg)
        return value

    @field_validator("telnyx_public_key")
    @classmethod
    def _telnyx_key_is_ed25519(cls, value: str | None) -> str | None:
        """Refused at start-up rather than by every webhook."""
        if not value:
            return None
        from providers.telnyx.webhooks import load_public_key  # noqa: PLC0415

        try:
            load_public_key(value)
        except ValueError as error:
            msg = f"TELNYX_PUBLIC_KEY: {error}"
            raise ValueError(msg) from None
        return value

    @property
    def cors_origins(self) -> list[str]:
        """``CORS_ALLOW_ORIGINS`` as a list (empty: CORS off)."""
        return _split(self.cors_allow_origins)

    @field_validator("jwt_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            msg = f"JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters"
            raise ValueError(msg)
        return value

    @field_validator("registration_id_key")
    @classmethod
    def _registration_key_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            msg = f"REGISTRATION_ID_KEY must be at least {MIN_JWT_SECRET_LENGTH} characters"
            raise ValueError(msg)
        return value

    @field_validator("jwt_previous_secrets")
    @classmethod
    def _previous_secrets_are_long_enough(cls, value: list[SecretStr]) -> list[SecretStr]:
        if any(len(s.get_secret_value()) < MIN_JWT_SECRET_LENGTH for s in value):
            msg = f"JWT_PREVIOUS_SECRETS must be at least {MIN_JWT_SECRET_LENGTH} characters each"
            raise ValueError(msg)
        return value

    def require_production_secrets(self) -> None:
        """Refuse to serve without a database, a token key and a cipher key."""
        missing = []
        if not self.database_url:
            missing.append("DATABASE_URL")
        if self.jwt_secret is None and not self.jwt_public_key:
            missing.append("JWT_SECRET or JWT_PUBLIC_KEY")
        if self.cipher_key is None:
            missing.append("CIPHER_KEY")
        if self.registration_id_key is None:
            missing.append("REGISTRATION_ID_KEY")
        if self.persistence != "postgres":
            missing.append("PERSISTENCE=postgres")
        missing += self.missing_for_provider()
        if missing:
            raise InsecureSettingsError("serve refuses to start without: " + ", ".join(missing))

    def missing_for_provider(self) -> list[str]:
        """What the provider needs and nothing can stand in for (``serve`` and ``run`` alike
        refuse to start without it; ``run`` generates only secrets of its own)."""
        missing = []
        if self.sms_provider == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token
        ):
            missing.append("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if self.sms_provider == "twilio" and not self.public_base_url:
            # Twilio signs the public URL it calls: behind a proxy this service cannot know
            # it, and every webhook would be refused.
            missing.append("PUBLIC_BASE_URL")
        if self.sms_provider == "telnyx":
            # Without the key nothing can be bought; without the public key every webhook
            # would be refused; without the profile numbers could not send or receive.
            missing += [
                name
                for name, value in (
                    ("TELNYX_API_KEY", self.telnyx_api_key),
                    ("TELNYX_PUBLIC_KEY", self.telnyx_public_key),
                    ("TELNYX_MESSAGING_PROFILE_ID", self.telnyx_messaging_profile_id),
                )
                if not value
            ]
            if not self.public_base_url:
                # Telnyx sends each brand's and campaign's status updates to the URL it was
                # created with (and the brand's URL carries the service's reference).
                missing.append("PUBLIC_BASE_URL")
        return missing
