"""The sandbox provider: a deterministic stand-in for Twilio, and the default.

Inventory (``inventory``): for each supported country and area code, a fixed list of valid
fictional numbers (NANP: 555-0100…0199 of the area code; GB: Ofcom's drama ranges), offered
in a stable order minus what is held. A purchase accepts any valid number of the country
that is not held (tests buy unique numbers); a bought number is no longer offered, and of
two buyers of one number exactly one wins.

State (held numbers, hosting orders) lives in a ledger (``ledger``): in memory for unit
tests, or in two small PostgreSQL tables (``postgres_ledger``). The tables are the default
whenever the service runs on PostgreSQL, because the sandbox plays an *external* system:
its state must survive an API restart, be the same for every API process, the reconcile
worker and the ``sms-channels sandbox`` CLI (the worker polls it; the CLI reclaims numbers
in it), and stay independent of the event log, since a purchase the service crashed before
recording must still be visible there. Registrations (brands, campaigns, numbers) are kept
beside it (``registrations``).

Failures are configurable (``SandboxFailures``, with the provider in ``provider``):
restricted countries, area codes without stock, and an outage. Webhooks are signed with
HMAC-SHA256 (``X-Sandbox-Signature``, ``webhooks``).

This package re-exports what its importers use.
"""

from __future__ import annotations

from providers.sandbox.ledger import MemoryLedger, SandboxLedger, SandboxOrder
from providers.sandbox.postgres_ledger import PostgresLedger
from providers.sandbox.provider import SandboxError, SandboxFailures, SandboxProvider
from providers.sandbox.webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    PROVIDER_NAME,
    SIGNATURE_HEADER,
    SandboxWebhook,
    SandboxWebhookSender,
    SandboxWebhookVerifier,
    sign,
)

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "PROVIDER_NAME",
    "SIGNATURE_HEADER",
    "MemoryLedger",
    "PostgresLedger",
    "SandboxError",
    "SandboxFailures",
    "SandboxLedger",
    "SandboxOrder",
    "SandboxProvider",
    "SandboxWebhook",
    "SandboxWebhookSender",
    "SandboxWebhookVerifier",
    "sign",
]
