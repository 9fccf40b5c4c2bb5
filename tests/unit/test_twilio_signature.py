"""X-Twilio-Signature: Twilio's published test vectors, tampering, URL variants, and the
webhook verifier reading hosted-number-order callbacks."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from domain.providers import HostingCompleted, HostingFailed, Unrecognised, WebhookRejectedError
from domain.providers import WebhookRequest as Request
from providers.twilio import (
    HMAC_SHA256,
    TwilioWebhookVerifier,
    compute_signature,
    signature_is_valid,
)

# Twilio's published vector (the request-validation docs and the twilio-python/-php/-csharp
# RequestValidator tests): auth token 12345, this URL and these POST parameters.
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
# The same libraries' vector for a repeated parameter (values sorted, duplicates once).
REPEATED = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
REPEATED_SIGNATURE = "IK+Dwps556ElfBT0I3Rgjkr1wJU="

WEBHOOK_URL = "https://sms.example.com/providers/twilio/webhooks"
FORM = "application/x-www-form-urlencoded"


def test_the_published_vector_is_reproduced() -> None:
    assert compute_signature(TOKEN, URL, PARAMS) == SIGNATURE


def test_the_order_of_the_parameters_does_not_matter() -> None:
    assert compute_signature(TOKEN, URL, list(reversed(PARAMS))) == SIGNATURE


def test_the_published_repeated_parameter_vector_is_reproduced() -> None:
    assert compute_signature(TOKEN, URL, [*REPEATED, ("Digits", "1234")]) == REPEATED_SIGNATURE


def test_the_published_signature_is_valid() -> None:
    assert signature_is_valid(TOKEN, URL, PARAMS, SIGNATURE)


@pytest.mark.parametrize(
    ("token", "url", "params"),
    [
        ("54321", URL, PARAMS),
        (TOKEN, URL + "&extra=1", PARAMS),
        (TOKEN, URL.replace("https", "http"), PARAMS),
        (TOKEN, URL, [*PARAMS[:2], ("Digits", "9999"), *PARAMS[3:]]),
        (TOKEN, URL, [*PARAMS, ("Extra", "1")]),
    ],
    ids=["wrong-token", "changed-url", "changed-scheme", "tampered-param", "added-param"],
)
def test_any_change_makes_the_signature_invalid(
    token: str, url: str, params: list[tuple[str, str]]
) -> None:
    assert not signature_is_valid(token, url, params, SIGNATURE)


def test_the_default_port_may_be_added_or_dropped_by_a_proxy() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert signature_is_valid(TOKEN, with_port, PARAMS, SIGNATURE)
    signed_with_port = compute_signature(TOKEN, with_port, PARAMS)
    assert signature_is_valid(TOKEN, URL, PARAMS, signed_with_port)


def test_a_json_body_is_signed_through_its_body_hash() -> None:
    body = b'{"property": "value", "boolean": true}'
    url = URL + "&bodySHA256=" + hashlib.sha256(body).hexdigest()
    signature = compute_signature(TOKEN, url, [])
    assert signature_is_valid(TOKEN, url, [], signature, body)
    assert not signature_is_valid(TOKEN, url, [], signature, body + b" ")


def signed(params: list[tuple[str, str]], headers: dict[str, str] | None = None) -> Request:
    signature = compute_signature(TOKEN, WEBHOOK_URL, params)
    all_headers = {"x-twilio-signature": signature, "content-type": FORM, **(headers or {})}
    return Request(WEBHOOK_URL, all_headers, urlencode(params).encode())


COMPLETED = [
    ("Sid", "HR" + "a" * 32),
    ("Status", "completed"),
    ("PhoneNumber", "+14153608311"),
    ("IncomingPhoneNumberSid", "PN" + "1" * 32),
]


def test_the_verifier_reads_a_completed_hosting_order() -> None:
    event = TwilioWebhookVerifier(TOKEN).verify(signed(COMPLETED))
    assert event.fact == HostingCompleted("+14153608311", "HR" + "a" * 32, "PN" + "1" * 32)


def test_the_verifier_reads_a_failed_hosting_order() -> None:
    form = [*COMPLETED[:1], ("Status", "failed"), COMPLETED[2], ("FailureReason", "LOA refused")]
    event = TwilioWebhookVerifier(TOKEN).verify(signed(form))
    assert event.fact == HostingFailed("+14153608311", "HR" + "a" * 32, "LOA refused")


def test_other_signed_callbacks_are_unrecognised() -> None:
    event = TwilioWebhookVerifier(TOKEN).verify(signed([("MessageSid", "SM1"), ("Body", "hi")]))
    assert isinstance(event.fact, Unrecognised)


def test_a_fresh_idempotency_token_does_not_make_a_new_delivery() -> None:
    # The token is not signed: a replay may carry any. The delivery id is the signed content.
    verifier = TwilioWebhookVerifier(TOKEN)
    first = verifier.verify(signed(COMPLETED, {"i-twilio-idempotency-token": "tok-1"}))
    replay = verifier.verify(signed(COMPLETED, {"i-twilio-idempotency-token": "tok-2"}))
    assert first.event_id == replay.event_id


def test_the_same_request_through_another_port_form_is_the_same_delivery() -> None:
    verifier = TwilioWebhookVerifier(TOKEN)
    request = signed(COMPLETED)
    with_port = Request(request.url.replace(".com/", ".com:443/"), request.headers, request.body)
    assert verifier.verify(request).event_id == verifier.verify(with_port).event_id


@pytest.mark.parametrize(
    "replayed_body",
    [
        urlencode([*COMPLETED, COMPLETED[1]]),  # a pair repeated
        urlencode(COMPLETED) + "&=",  # an empty pair added
        urlencode(COMPLETED) + "&&",  # empty separators
        urlencode(list(reversed(COMPLETED))),  # the pairs reordered
    ],
)
def test_a_replay_that_keeps_the_signature_valid_is_the_same_delivery(
    replayed_body: str,
) -> None:
    verifier = TwilioWebhookVerifier(TOKEN)
    original = signed(COMPLETED)
    replay = Request(original.url, original.headers, replayed_body.encode())
    assert replay.body != original.body
    assert verifier.verify(replay).event_id == verifier.verify(original).event_id


def test_the_hmac_sha256_scheme_of_a_shared_key_is_verified() -> None:
    shared = "shared-key-secret"
    signature = compute_signature(shared, WEBHOOK_URL, COMPLETED, HMAC_SHA256)
    headers = {
        "x-twilio-signature": signature,
        "content-type": FORM,
        "x-twilio-webhooks-signature-settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
    }
    request = Request(WEBHOOK_URL, headers, urlencode(COMPLETED).encode())
    assert isinstance(TwilioWebhookVerifier(TOKEN, shared).verify(request).fact, HostingCompleted)
    with pytest.raises(WebhookRejectedError):  # not with the Auth Token
        TwilioWebhookVerifier(TOKEN).verify(request)
    unknown = {**headers, "x-twilio-webhooks-signature-settings": "algorithm=HMAC_MD5"}
    with pytest.raises(WebhookRejectedError):
        TwilioWebhookVerifier(TOKEN, shared).verify(Request(WEBHOOK_URL, unknown, request.body))


def test_without_a_token_the_same_request_gets_the_same_event_id() -> None:
    verifier = TwilioWebhookVerifier(TOKEN)
    assert (
        verifier.verify(signed(COMPLETED)).event_id == verifier.verify(signed(COMPLETED)).event_id
    )


def test_a_request_without_a_signature_is_rejected() -> None:
    request = Request(WEBHOOK_URL, {"content-type": FORM}, urlencode(COMPLETED).encode())
    with pytest.raises(WebhookRejectedError):
        TwilioWebhookVerifier(TOKEN).verify(request)


def test_a_request_signed_with_another_token_is_rejected() -> None:
    with pytest.raises(WebhookRejectedError):
        TwilioWebhookVerifier("another-token").verify(signed(COMPLETED))


def test_a_tampered_body_is_rejected() -> None:
    request = signed(COMPLETED)
    tampered = Request(request.url, request.headers, request.body.replace(b"completed", b"failed"))
    with pytest.raises(WebhookRejectedError):
        TwilioWebhookVerifier(TOKEN).verify(tampered)


def test_without_an_auth_token_every_webhook_is_rejected() -> None:
    with pytest.raises(WebhookRejectedError):
        TwilioWebhookVerifier(None).verify(signed(COMPLETED))


def test_a_json_body_without_its_hash_in_the_signed_url_is_refused() -> None:
    """Only the URL would be signed: a forged Event Streams body must not be read."""
    body = b'[{"type": "com.twilio.messaging.compliance.brand-registration.brand-registered"}]'
    verifier = TwilioWebhookVerifier(TOKEN)
    headers = {"x-twilio-signature": compute_signature(TOKEN, WEBHOOK_URL, [])}
    unsigned_body = Request(WEBHOOK_URL, {**headers, "content-type": "application/json"}, body)
    with pytest.raises(WebhookRejectedError, match="bodySHA256"):
        verifier.verify(unsigned_body)
    url = WEBHOOK_URL + "?bodySHA256=" + hashlib.sha256(body).hexdigest()
    signed_body = Request(
        url,
        {
            "x-twilio-signature": compute_signature(TOKEN, url, []),
            "content-type": "application/json",
        },
        body,
    )
    assert verifier.verify(signed_body).event_id


def test_an_event_streams_report_carries_the_cloudevents_time() -> None:
    """Provider time orders reports delivered out of order (issue 28)."""
    event = {
        "type": "com.twilio.messaging.compliance.brand-registration.brand-registered",
        "time": "2020-03-01T12:00:00.000Z",
        "data": {"brandsid": "BN" + "1" * 32},
    }
    body = json.dumps([event]).encode()
    url = WEBHOOK_URL + "?bodySHA256=" + hashlib.sha256(body).hexdigest()
    headers = {
        "x-twilio-signature": compute_signature(TOKEN, url, []),
        "content-type": "application/json",
    }
    read = TwilioWebhookVerifier(TOKEN).verify(Request(url, headers, body))
    assert read.occurred_at == datetime(2020, 3, 1, 12, 0, tzinfo=UTC)
