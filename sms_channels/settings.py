"""All configuration, from environment variables (the design's configuration table)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_JWT_SECRET_LENGTH = 32


class InsecureSettingsError(RuntimeError):
    """Raised when production (``serve``) would start without a secret it needs."""


class Settings(BaseSettings):
    """Service settings. Every field maps to the upper-case environment variable."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str | None = None
    data_dir: Path = Path(".data")
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    cipher_key: SecretStr | None = None
    sms_provider: Literal["sandbox", "twilio"] = "sandbox"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # "memory" keeps events in process: for unit tests only, never for a running service.
    persistence: Literal["postgres", "memory"] = "postgres"
    create_tables: bool = False
    postgres_pool_size: int = Field(default=5, ge=2)
    postgres_max_overflow: int = Field(default=10, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    @field_validator("jwt_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            msg = f"JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters"
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
        if self.persistence != "postgres":
            missing.append("PERSISTENCE=postgres")
        if missing:
            raise InsecureSettingsError("serve refuses to start without: " + ", ".join(missing))
