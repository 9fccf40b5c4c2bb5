"""The Telnyx adapter (``SMS_PROVIDER=telnyx``): numbers, bring-your-own numbers and US A2P
10DLC over Telnyx's API v2, and Telnyx's Ed25519-signed webhooks. See ``provider``
(numbers), ``registrations`` (10DLC), ``statuses`` (every status map), ``webhooks``
(signature and facts) and ``http`` (retries, errors, and why httpx rather than the SDK)."""

from providers.telnyx.http import TelnyxConfig
from providers.telnyx.provider import PROVIDER_NAME, TelnyxProvider
from providers.telnyx.webhooks import TelnyxWebhookVerifier, load_public_key, sign

__all__ = [
    "PROVIDER_NAME",
    "TelnyxConfig",
    "TelnyxProvider",
    "TelnyxWebhookVerifier",
    "load_public_key",
    "sign",
]
