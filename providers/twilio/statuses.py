"""What Twilio reports, in the domain's words: every Twilio status map is here. The statuses
of brand registrations, campaigns (``Compliance/Usa2p``), numbers in a Messaging Service,
brand vettings, TrustHub bundles and their evaluations, and hosted-number orders (polled,
and their status callbacks); Twilio's ``errors[]`` as coded reasons; a brand's score and a
campaign's ``rate_limits`` as throughput; and the A2P events of Event Streams
(``com.twilio.messaging.compliance.brand-registration.*``, ``campaign-registration.*``).

Every status of the reference enums is mapped (``BRAND_STATUSES``, ``CAMPAIGN_STATUSES``,
``BUNDLE_STATUSES``, ``HOSTING_STATUSES``); a status Twilio adds later is recorded as
``pending`` beside its raw value (``domain.registration_levels.provider_status``), never
guessed. The adapter's decisions that hang on one status (a campaign waits for an
``APPROVED`` brand, only a ``FAILED`` campaign is resubmitted in place, a ``failed`` hosting
order is not reused) ask this module (``brand_approved``, ``campaign_resubmittable``,
``hosting_order_open``).

Pure functions of Twilio's JSON (and form callbacks): the adapter and the webhook verifier
call them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from domain.carriers import Throughput, throughput_of
from domain.providers import (
    HostingCompleted,
    HostingFailed,
    HostingStatus,
    ProviderFact,
    RegistrationAnswer,
    RegistrationReported,
    Unrecognised,
    VettingAnswer,
)
from domain.remedies import remedy_of

# BrandRegistrations ``status`` (brand_registrations_enum_status).
BRAND_STATUSES: dict[str, str] = {
    "PENDING": "pending",
    "IN_REVIEW": "pending",
    "APPROVED": "approved",
    "FAILED": "rejected",
    "SUSPENDED": "suspended",
    # Twilio is deleting the brand (asked by the account or by TCR): no longer usable.
    "DELETION_PENDING": "expired",
    "DELETION_FAILED": "expired",
}
# ``Compliance/Usa2p`` ``campaign_status`` (the reference's examples, and TCR's others).
CAMPAIGN_STATUSES: dict[str, str] = {
    "PENDING": "pending",
    "IN_PROGRESS": "pending",
    "VERIFIED": "approved",
    "FAILED": "rejected",
    "SUSPENDED": "suspended",
    "EXPIRED": "expired",
}
# The brand status a campaign waits for, and the one campaign status the in-place update
# resubmits (Twilio reviews any other again by itself).
BRAND_APPROVED = "APPROVED"
CAMPAIGN_REFUSED = "FAILED"
# TrustHub customer profiles and trust products (customer_profile_enum_status,
# trust_product_enum_status): how a brand that stopped at its bundle (``BU…``) reads.
BUNDLE_DRAFT = "draft"  # being assembled, or evaluated noncompliant: the operator acts
BUNDLE_SUBMITTED = "pending-review"  # what the brand step sets once the bundle is compliant
BUNDLE_STATUSES: dict[str, str] = {
    BUNDLE_DRAFT: "action_required",
    BUNDLE_SUBMITTED: "action_required",
    "in-review": "action_required",
    "twilio-rejected": "rejected",
    # An approved bundle is not an approved brand: no brand registration exists yet (the
    # brand step makes it on the next submission), so it reads pending.
    "twilio-approved": "pending",
}
# A bundle's evaluation (customer_profile_evaluation_enum_status): compliant or not.
EVALUATION_COMPLIANT = "compliant"
EVALUATION_NONCOMPLIANT = "noncompliant"
# Hosted-number orders (hosted_number_order_enum_status): what a pending order waits for.
HOSTING_STATUSES: dict[str, str] = {
    "received": "Twilio received the hosting order.",
    "twilio-processing": "Twilio is processing the hosting order.",
    "pending-verification": "Waiting for the number's ownership to be verified.",
    "verified": "Ownership verified; the letter of authorization comes next.",
    "pending-loa": "Waiting for the letter of authorization to be signed.",
    "carrier-processing": "The carrier is moving the number's messaging to Twilio.",
    "testing": "Twilio is testing the hosted number.",
    "action-required": "Twilio needs action on the hosting order (see the Twilio Console).",
    "completed": "The number is hosted.",
    "failed": "Hosting failed.",
}
HOSTING_COMPLETED = "completed"
HOSTING_FAILED = "failed"
# Event Streams A2P event types (the suffix after the product prefix) → raw status.
BRAND_EVENTS: dict[str, str] = {
    "brand-registered": "APPROVED",
    "brand-failure": "FAILED",
    "brand-unverified": "PENDING",
    "brand-suspended": "SUSPENDED",
    "brand-deleted": "DELETION_PENDING",
    "brand-secondary-vetting-failure": "FAILED",
}
CAMPAIGN_EVENTS: dict[str, str] = {
    "campaign-submitted": "IN_PROGRESS",
    "campaign-approved": "VERIFIED",
    "campaign-failure": "FAILED",
    "campaign-suspended": "SUSPENDED",
    "campaign-deleted": "EXPIRED",
}
EVENT_PREFIX = "com.twilio.messaging.compliance."
SOLE_PROPRIETOR = "SOLE_PROPRIETOR"
OTP_REASON: Mapping[str, Any] = {
    "code": "otp_required",
    "description": "The sole proprietor must confirm the one-time password Twilio sent by SMS"
    " to the contact phone (Twilio resends it on POST …/BrandRegistrations/{sid}/SmsOtp).",
    "fields": ["brand.contactPhone"],
}
# Twilio's names of registration fields → the compliance form's (reasons name fields only).
FIELDS: dict[str, str] = {
    "brand_contact_email": "brand.contactEmail",
    "business_name": "brand.companyName",
    "business_registration_number": "brand.registrationNumber",
    "website_url": "brand.website",
    "phone_number": "brand.contactPhone",
    "email": "brand.contactEmail",
    "stock_ticker": "brand.stockSymbol",
    "stock_exchange": "brand.stockExchange",
    "description": "campaign.campaignDescription",
    "message_flow": "campaign.messageFlow",
    "message_samples": "campaign.messageSamples",
    "opt_in_message": "campaign.optInMessage",
    "opt_out_message": "campaign.optOutMessage",
    "help_message": "campaign.helpMessage",
    "privacy_policy_url": "campaign.privacyPolicyUrl",
    "us_app_to_person_usecase": "campaign.useCaseType",
}


def reasons(errors: object) -> tuple[Mapping[str, Any], ...]:
    """Twilio's ``errors[]`` (``code``/``error_code``, ``description``/``message``,
    ``fields``) as the port's reasons, each with its Twilio code."""
    found: list[Mapping[str, Any]] = []
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, int | str):
            found.append({"code": str(item), "description": "", "fields": []})
            continue
        if not isinstance(item, Mapping):
            continue
        code = item.get("code", item.get("error_code", item.get("registrationerrorcode")))
        description = (
            item.get("description")
            or item.get("message")
            or item.get("registrationerrordescription")
            or ""
        )
        names = item.get("fields") or item.get("registrationerrorfields") or []
        fields = [FIELDS[n] for n in names if isinstance(n, str) and n in FIELDS]
        found.append({"code": str(code or ""), "description": str(description), "fields": fields})
    return tuple(found)


def brand_answer(brand: Mapping[str, Any]) -> RegistrationAnswer:
    """A BrandRegistrations resource. A sole proprietor's ``PENDING`` brand waits for the
    OTP the owner must confirm: ``action_required`` with that reason."""
    raw = str(brand.get("status") or "") or None
    status = BRAND_STATUSES.get(raw or "")
    found = reasons(brand.get("errors"))
    if raw == "PENDING" and brand.get("brand_type") == SOLE_PROPRIETOR:
        status, found = "action_required", (OTP_REASON, *found)
    if not found and raw == "FAILED" and brand.get("failure_reason"):
        found = ({"code": "", "description": str(brand["failure_reason"]), "fields": []},)
    return RegistrationAnswer(
        ref=str(brand["sid"]),
        status=status,
        raw_status=raw,
        reasons=(*found, *brand_feedback(brand.get("brand_feedback"))),
        identity_status=brand.get("identity_status"),
        throughput=twilio_throughput(brand_score=brand.get("brand_score")),
    )


def brand_feedback(feedback: object) -> tuple[Mapping[str, Any], ...]:
    """Twilio's ``brand_feedback`` (``TAX_ID``, ``STOCK_SYMBOL``, ``NONPROFIT``,
    ``GOVERNMENT_ENTITY``, ``OTHERS``: how to improve the brand score) as reasons, each
    with the form's fields its remedy names (``domain.remedies``)."""
    found: list[Mapping[str, Any]] = []
    for item in feedback if isinstance(feedback, list) else []:
        code = str(item).strip().upper()
        if not code:
            continue
        remedy = remedy_of(code)
        found.append(
            {
                "code": code,
                "description": f"Twilio's brand feedback: {code} limits the brand score.",
                "fields": list(remedy.fields) if remedy else [],
            }
        )
    return tuple(found)


def campaign_answer(service_sid: str, campaign: Mapping[str, Any]) -> RegistrationAnswer:
    """A ``Compliance/Usa2p`` resource; its reference is the Messaging Service's sid (one
    campaign per service: the service is what Event Streams and the numbers name)."""
    raw = str(campaign.get("campaign_status") or "") or None
    return RegistrationAnswer(
        ref=service_sid,
        status=CAMPAIGN_STATUSES.get(raw or ""),
        raw_status=raw,
        reasons=reasons(campaign.get("errors")),
        service_ref=service_sid,
        throughput=twilio_throughput(rate_limits=_mapping(campaign.get("rate_limits"))),
    )


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def number_answer(
    service_sid: str, number_sid: str, campaign: Mapping[str, Any] | None
) -> RegistrationAnswer:
    """A number in a campaign's Messaging Service: registered with the campaign once the
    campaign is verified (Twilio registers a service's numbers to its campaign)."""
    raw_campaign = str((campaign or {}).get("campaign_status") or "")
    status = CAMPAIGN_STATUSES.get(raw_campaign, "pending")
    raw = {"approved": "REGISTERED"}.get(status, raw_campaign or "PENDING")
    return RegistrationAnswer(
        ref=f"{service_sid}/{number_sid}",
        status=status,
        raw_status=raw,
        reasons=reasons((campaign or {}).get("errors")) if status == "rejected" else (),
    )


def refused(ref: str, what: str, code: str) -> RegistrationAnswer:
    """Twilio refused to create ``what`` (a 4xx with ``code``): rejected, the code kept, so
    that the operator sees it and a changed resubmission starts a new attempt."""
    return RegistrationAnswer(
        ref=ref,
        status="rejected",
        raw_status="REFUSED",
        reasons=(
            {"code": code, "description": f"Twilio refused to create the {what}.", "fields": []},
        ),
    )


def gone(ref: str) -> RegistrationAnswer:
    """Twilio has no such brand registration or campaign (a 404): no longer usable."""
    return RegistrationAnswer(ref=ref, status="expired", raw_status="DELETED")


def number_gone(service_sid: str, number_sid: str) -> RegistrationAnswer:
    """The number is no longer in the campaign's Messaging Service."""
    return RegistrationAnswer(
        ref=f"{service_sid}/{number_sid}",
        status="expired",
        raw_status="REMOVED",
        reasons=(
            {
                "code": "20404",
                "description": "The number is no longer in the campaign's Messaging Service.",
                "fields": [],
            },
        ),
    )


def hosting_status(order: Mapping[str, Any]) -> HostingStatus:
    """A hosted-number order: ``completed`` with its number, ``failed`` with Twilio's
    reason, any other of the ten statuses ``pending`` with what it waits for."""
    status = str(order.get("status") or "")
    if status == HOSTING_COMPLETED and order.get("incoming_phone_number_sid"):
        return HostingStatus("completed", number_ref=str(order["incoming_phone_number_sid"]))
    if status == HOSTING_FAILED:
        return HostingStatus("failed", reason=order.get("failure_reason") or "Hosting failed.")
    reason = HOSTING_STATUSES.get(status, f"Twilio reports the order as {status or 'unknown'}.")
    if status == "action-required" and order.get("failure_reason"):
        reason = f"{reason} {order['failure_reason']}"
    return HostingStatus("pending", reason=reason)


def hosting_order_gone() -> HostingStatus:
    """Twilio has no such hosting order (a 404)."""
    return HostingStatus("failed", reason="Twilio has no such hosting order.")


def hosting_order_open(order: Mapping[str, Any]) -> bool:
    """A hosting order the number's next hosting reuses: any but a ``failed`` one."""
    return order.get("status") != HOSTING_FAILED


def hosting_callback_fact(form: Mapping[str, str]) -> ProviderFact:
    """A hosted-number-order status callback (``Sid``/``HostedNumberOrderSid`` of an
    ``HR…`` order, ``Status``, ``PhoneNumber``, ``IncomingPhoneNumberSid``,
    ``FailureReason``) → a hosting fact; anything else → Unrecognised."""
    order = form.get("HostedNumberOrderSid") or form.get("Sid") or ""
    status = form.get("Status", "")
    phone_number = form.get("PhoneNumber", "")
    if not order.startswith("HR") or not phone_number:
        return Unrecognised("twilio_callback")
    if status == HOSTING_COMPLETED and form.get("IncomingPhoneNumberSid"):
        return HostingCompleted(phone_number, order, form["IncomingPhoneNumberSid"])
    if status == HOSTING_FAILED:
        return HostingFailed(phone_number, order, form.get("FailureReason") or "Hosting failed.")
    return Unrecognised(f"hosted_number_order.{status or 'unknown'}")


# --- brands and campaigns: the adapter's decisions ---------------------------------------


def brand_approved(brand: Mapping[str, Any] | None) -> bool:
    """Whether a campaign may be registered under ``brand`` (None: Twilio has no such
    brand)."""
    return brand is not None and brand.get("status") == BRAND_APPROVED


def campaign_resubmittable(campaign: Mapping[str, Any]) -> bool:
    """Whether the in-place update posts the campaign again: only when Twilio refused it
    (any other status is a campaign Twilio already reviews)."""
    return campaign.get("campaign_status") == CAMPAIGN_REFUSED


def bundle_answer(ref: str, bundle: Mapping[str, Any] | None) -> RegistrationAnswer:
    """A brand that stopped at its customer profile or trust product (``BU…``):
    ``action_required`` unless Twilio decided (``BUNDLE_STATUSES``)."""
    raw = str((bundle or {}).get("status") or BUNDLE_DRAFT)
    return RegistrationAnswer(
        ref=ref, status=BUNDLE_STATUSES.get(raw, "action_required"), raw_status=raw
    )


def evaluation_answer(
    bundle_sid: str, evaluation: Mapping[str, Any] | None
) -> RegistrationAnswer | None:
    """A bundle's evaluation: None when compliant (the bundle is submitted next); else
    the bundle ``action_required`` with Twilio's evaluation failures as reasons (codes
    kept)."""
    raw = (evaluation or {}).get("status")
    if raw == EVALUATION_COMPLIANT:
        return None
    return RegistrationAnswer(
        ref=bundle_sid,
        status="action_required",
        raw_status=str(raw or EVALUATION_NONCOMPLIANT),
        reasons=evaluation_reasons(evaluation or {}),
    )


def evaluation_reasons(evaluation: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """The failed results of an evaluation (each invalid item's ``error_code`` and
    ``failure_reason``, else the result's), as reasons."""
    found: list[Mapping[str, Any]] = []
    for result in evaluation.get("results") or []:
        if result.get("passed"):
            continue
        invalid = result.get("invalid") or [{}]
        for item in invalid:
            found.append(
                {
                    "code": str(item.get("error_code") or result.get("error_code") or ""),
                    "description": str(
                        item.get("failure_reason") or result.get("failure_reason") or ""
                    ),
                    "fields": [],
                }
            )
    return tuple(found) or (
        {"code": "", "description": "Twilio found the profile noncompliant.", "fields": []},
    )


# --- throughput ----------------------------------------------------------------------------


def twilio_throughput(
    *, brand_score: object = None, rate_limits: Mapping[str, Any] | None = None
) -> Throughput | None:
    """Throughput from Twilio's answers: a brand registration's ``brand_score``, a
    campaign's ``rate_limits`` (``{"att": {"mps": 600, "msg_class": "A"}, "tmobile":
    {"brand_tier": "TOP"}}``). AT&T's ``mps`` is read as messages a second (times 60 for
    ``attTpm``); a ``tpm`` there is taken as is. None when Twilio said none of it."""
    att = _mapping((rate_limits or {}).get("att")) or {}
    tmobile = _mapping((rate_limits or {}).get("tmobile")) or {}
    tpm = att.get("tpm")
    mps = att.get("mps")
    if tpm is None and isinstance(mps, (int, float)) and not isinstance(mps, bool):
        tpm = mps * 60
    found = throughput_of(
        {
            "brand_score": brand_score,
            "tmobile_tier": tmobile.get("brand_tier"),
            "tmobile_daily_cap": tmobile.get("daily_cap"),
            "att_message_class": att.get("msg_class"),
            "att_tpm": tpm,
        }
    )
    return found if found is not None and found.known else None


# --- Event Streams ---------------------------------------------------------------------


def event_stream_fact(body: bytes) -> ProviderFact:
    """An Event Streams delivery (a CloudEvent, or a JSON array of them, as a webhook
    sink sends): the first A2P brand or campaign event as a RegistrationReported; anything
    else Unrecognised."""
    return event_stream_event(body)[0]


def event_stream_event(body: bytes) -> tuple[ProviderFact, datetime | None]:
    """``event_stream_fact`` with the CloudEvent's ``time`` (when Twilio says the change
    happened; None when absent or unreadable), which orders reports delivered out of
    order."""
    try:
        parsed = json.loads(body or b"null")
    except ValueError:
        return Unrecognised("twilio_event_stream"), None
    events: Iterable[Any] = parsed if isinstance(parsed, list) else [parsed]
    for event in events:
        if isinstance(event, Mapping):
            fact = _a2p_fact(event)
            if fact is not None:
                return fact, _time(event.get("time"))
    return Unrecognised("twilio_event_stream"), None


def _time(value: object) -> datetime | None:
    """A CloudEvent ``time`` (RFC 3339), or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _a2p_fact(event: Mapping[str, Any]) -> ProviderFact | None:
    kind = str(event.get("type") or "")
    data = event.get("data")
    if not kind.startswith(EVENT_PREFIX) or not isinstance(data, Mapping):
        return None
    product, _, name = kind.removeprefix(EVENT_PREFIX).partition(".")
    if product == "brand-registration" and name in BRAND_EVENTS and data.get("brandsid"):
        raw = BRAND_EVENTS[name]
        found = reasons(data.get("brandregistrationerrors"))
        return RegistrationReported(
            "brand",
            str(data["brandsid"]),
            BRAND_STATUSES[raw],
            raw,
            found,
            data.get("identitystatus"),
        )
    if (
        product == "campaign-registration"
        and name in CAMPAIGN_EVENTS
        and data.get("messagingservicesid")
    ):
        raw = CAMPAIGN_EVENTS[name]
        code = data.get("errorcode")
        found = (
            ({"code": str(code), "description": "", "fields": []},)
            if code and raw in ("FAILED", "SUSPENDED")
            else ()
        )
        return RegistrationReported(
            "campaign", str(data["messagingservicesid"]), CAMPAIGN_STATUSES[raw], raw, found
        )
    return Unrecognised(f"twilio_event.{product}.{name}")


# A brand vetting's ``vetting_status`` (the reference: PENDING, SUCCESS or FAILED).
VETTING_STATUSES: dict[str, str] = {
    "PENDING": "pending",
    "SUCCESS": "approved",
    "FAILED": "rejected",
}


def vetting_answer(vetting: Mapping[str, Any]) -> VettingAnswer:
    """A ``Vettings`` resource (never its ``vetting_id``: a Campaign Verify token)."""
    raw = str(vetting.get("vetting_status") or "") or None
    return VettingAnswer(
        ref=str(vetting.get("brand_vetting_sid") or ""),
        status=VETTING_STATUSES.get(raw or ""),
        raw_status=raw,
        vetting_class=vetting.get("vetting_class"),
    )
