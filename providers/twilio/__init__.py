"""The Twilio adapter (``SMS_PROVIDER=twilio``): numbers, bring-your-own numbers and US A2P
10DLC over Twilio's REST API, and Twilio's signed webhooks. See ``provider`` (numbers, and
the port's registration steps), ``brands`` (TrustHub and BrandRegistrations), ``campaigns``
(Messaging Services and their ``Compliance/Usa2p`` campaign), ``statuses`` (every status
map: what Twilio reports, in the domain's words), ``webhooks`` (signature and delivery id)
and ``http`` (retries, errors).

Why httpx and not Twilio's SDK (``twilio``): the safe-retry rule
(``providers.http_calls.SafeRetryingHttp``, shared with Telnyx) decides per request, and
the SDK does not let us. A create that may have reached Twilio (a timeout after sending) is
repeated only when the caller says a repeat is harmless (a purchase, which Twilio refuses
the second time; never a TrustHub bundle or a Messaging Service, which would be made
twice), while GETs and DELETEs always are; the SDK's HTTP client takes one ``max_retries``
for every call it makes (urllib3's, mounted on its session), no decision per call. The rule
also keeps the outage memory that ``check_available`` reads without a network call
(honouring ``Retry-After``), the time budget of each call, the credentials alarm (a 401
logged at most once a minute, never with the token), and the very same transport in the
fake Twilio the tests run against. One rule for both providers, one dependency fewer at
run time, and no SDK release that changes retries or logging under us. (The SDK is a test
dependency only: ``tests/unit/test_twilio_differential.py`` checks the webhook signature
against its ``RequestValidator``.)

This package re-exports what its importers use.
"""

from providers.twilio.http import TwilioConfig
from providers.twilio.provider import TwilioProvider
from providers.twilio.webhooks import (
    HMAC_SHA1,
    HMAC_SHA256,
    PROVIDER_NAME,
    SIGNATURE_HEADER,
    TwilioWebhookVerifier,
    compute_signature,
    signature_is_valid,
)

__all__ = [
    "HMAC_SHA1",
    "HMAC_SHA256",
    "PROVIDER_NAME",
    "SIGNATURE_HEADER",
    "TwilioConfig",
    "TwilioProvider",
    "TwilioWebhookVerifier",
    "compute_signature",
    "signature_is_valid",
]
