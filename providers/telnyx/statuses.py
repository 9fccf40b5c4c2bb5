"""What Telnyx reports, in the domain's words: every status of a 10DLC brand (``status`` and
``identityStatus``), a campaign (all twelve ``campaignStatus`` values, and ``status``
``EXPIRED``), a number's campaign assignment (``assignmentStatus``), a messaging hosted
number order and its numbers; a campaign's ``operationStatus`` per carrier network as the
campaign's per-carrier states (``telnyx_operation_status``).

A status Telnyx adds later is recorded as ``pending`` beside its raw value
(``domain.registration_levels.provider_status``), never guessed. Pure functions of
Telnyx's JSON: the adapter and the webhook verifier call them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, cast

from domain.carriers import Carrier, CarrierState, CarrierStatus, carriers_of
from domain.providers import HostingStatus, RegistrationAnswer, VettingAnswer
from domain.remedies import APPEAL_CODE

# --- carriers -----------------------------------------------------------------------------

# TCR's network ids (MNO ids), as Telnyx's ``operationStatus`` keys them.
TCR_NETWORKS: Final[dict[str, Carrier]] = {
    "10017": "att",
    "10035": "tmobile",
    "10037": "verizon",
    "10038": "uscellular",
}
# Telnyx's per-MNO operation statuses, in the service's words.
TELNYX_OPERATION: Final[dict[str, CarrierStatus]] = {
    "APPROVED": "approved",
    "REGISTERED": "approved",
    "REVIEW": "pending",
    "PENDING": "pending",
    "REJECTED": "rejected",
    "SUSPENDED": "suspended",
    "DEACTIVATED": "expired",
}


def telnyx_operation_status(answer: Mapping[str, Any]) -> tuple[CarrierState, ...]:
    """Telnyx's ``GET /10dlc/campaign/{id}/operationStatus`` (``{"10017": "APPROVED",
    "10035": "REVIEW"}``, TCR network ids): one state per carrier it names."""
    return cast(
        tuple[CarrierState, ...],
        carriers_of(
            {
                "carrier": TCR_NETWORKS.get(str(network), "other"),
                "status": TELNYX_OPERATION.get(str(status).upper(), "pending"),
            }
            for network, status in answer.items()
        ),
    )


# --- brands -------------------------------------------------------------------------------

# TelnyxBrand ``status``.
BRAND_STATUSES: dict[str, str] = {
    "REGISTRATION_PENDING": "pending",
    "REGISTRATION_FAILED": "rejected",
    "OK": "approved",  # registered at TCR; the identity status decides what it allows
}
# BrandIdentityStatus: a registered (OK) brand whose identity TCR did not verify cannot
# run campaigns until it is vetted or revetted: action required of the operator.
VERIFIED_IDENTITIES = frozenset({"VERIFIED", "VETTED_VERIFIED", "SELF_DECLARED"})
SOLE_PROPRIETOR = "SOLE_PROPRIETOR"
OTP_REASON: Mapping[str, Any] = {
    "code": "otp_required",
    "description": "The sole proprietor must confirm the one-time password Telnyx sent by SMS"
    " to the brand's mobile phone (PUT /10dlc/brand/{brandId}/smsOtp, or Telnyx's portal).",
    "fields": ["brand.contactPhone"],
}
UNVERIFIED_REASON: Mapping[str, Any] = {
    "code": "identity_unverified",
    "description": "TCR could not verify the brand's identity (see GET"
    " /10dlc/brand/feedback/{brandId}); correct the brand and resubmit, or order a vetting.",
    "fields": ["brand.companyName", "brand.registrationNumber"],
}

# --- campaigns ----------------------------------------------------------------------------

# TelnyxCampaign_CSP ``campaignStatus`` (all twelve).
CAMPAIGN_STATUSES: dict[str, str] = {
    "TCR_PENDING": "pending",  # submitted to TCR
    "TCR_ACCEPTED": "pending",  # TCR accepted; Telnyx's review next (also after an appeal)
    "TCR_FAILED": "rejected",
    "TCR_SUSPENDED": "suspended",
    "TCR_EXPIRED": "expired",
    "TELNYX_ACCEPTED": "pending",  # Telnyx accepted; carriers' review next
    "TELNYX_FAILED": "rejected",  # appealable
    "MNO_PENDING": "pending",  # with the carriers (operationStatus says which)
    "MNO_ACCEPTED": "pending",  # accepted; provisioning next
    "MNO_REJECTED": "rejected",  # appealable
    "MNO_PROVISIONED": "approved",
    "MNO_PROVISIONING_FAILED": "rejected",
}
# Statuses ``POST /10dlc/campaign/{id}/appeal`` accepts: the in-place remedy (the campaign
# returns to TCR_ACCEPTED for Telnyx's review; no new campaign, no new fee).
APPEALABLE = frozenset({"TELNYX_FAILED", "MNO_REJECTED"})
# The reason an appealable campaign carries (``domain.remedies.APPEAL_CODE``): its
# resubmission is the appeal, in place.
APPEAL_REASON: Mapping[str, Any] = {
    "code": APPEAL_CODE,
    "description": "Telnyx or a carrier refused the campaign: resubmit to appeal it in place.",
    "fields": [],
}

# --- numbers in campaigns -----------------------------------------------------------------

# PhoneNumberCampaign ``assignmentStatus`` (all five).
ASSIGNMENT_STATUSES: dict[str, str] = {
    "PENDING_ASSIGNMENT": "pending",
    "ASSIGNED": "approved",
    "FAILED_ASSIGNMENT": "rejected",
    "PENDING_UNASSIGNMENT": "expired",  # leaving the campaign
    "FAILED_UNASSIGNMENT": "approved",  # the unassignment failed: still in the campaign
}

# --- messaging hosted number orders -------------------------------------------------------

# MessagingHostedNumberOrder ``status`` (all twelve): the pending ones say what they wait
# for; ``successful`` completes; the failed ones carry their reason.
HOSTING_PENDING: dict[str, str] = {
    "pending": "Telnyx received the hosting order; the number's documents are checked next.",
    "provisioning": "Telnyx is moving the number's messaging to this account.",
    "loa_file_successful": "The letter of authorization was accepted; provisioning comes next.",
    "incomplete_documentation": "Telnyx needs the letter of authorization and a bill "
    "(POST …/messaging_hosted_number_orders/{id}/actions/file_upload).",
    "incorrect_billing_information": "The bill uploaded does not match the number's carrier "
    "account: upload a current one.",
    "loa_file_invalid": "The letter of authorization was refused: upload a signed, current one.",
}
HOSTING_FAILED: dict[str, str] = {
    "failed": "Hosting failed.",
    "deleted": "The hosting order was deleted.",
    "carrier_rejected": "The number's carrier refused to move its messaging.",
    "compliance_review_failed": "Telnyx's compliance review refused the hosting order.",
    "ineligible_carrier": "The number's carrier does not allow hosted messaging.",
}
HOSTING_COMPLETED = "successful"
# HostedNumber ``status`` (a number of the order): why it failed, when it did.
HOSTED_NUMBER_FAILURES: dict[str, str] = {
    "failed": "The number could not be hosted.",
    "failed_activation": "The number could not be activated for messaging.",
    "failed_carrier_rejected": "The number's carrier refused to move its messaging.",
    "failed_ineligible_carrier": "The number's carrier does not allow hosted messaging.",
    "failed_number_already_hosted": "The number is already hosted elsewhere.",
    "failed_number_not_found": "The number was not found at its carrier.",
    "failed_ownership_verification": "The number's ownership could not be verified.",
    "failed_timeout": "The hosting order timed out.",
    "deleted": "The number was removed from the order.",
}


def brand_answer(brand: Mapping[str, Any]) -> RegistrationAnswer:
    """A TelnyxBrand. A sole proprietor's brand waits for its owner's OTP until its
    identity is ``VERIFIED``; another registered brand TCR could not verify needs action."""
    raw = str(brand.get("status") or "") or None
    identity = str(brand.get("identityStatus") or "") or None
    status = BRAND_STATUSES.get(raw or "")
    found = failure_reasons(brand.get("failureReasons")) if raw == "REGISTRATION_FAILED" else ()
    sole = brand.get("entityType") == SOLE_PROPRIETOR
    if sole and raw != "REGISTRATION_FAILED" and identity != "VERIFIED":
        status, found = "action_required", (OTP_REASON, *found)
    elif status == "approved" and identity not in VERIFIED_IDENTITIES:
        status, found = "action_required", (UNVERIFIED_REASON,)
    return RegistrationAnswer(
        ref=str(brand["brandId"]),
        status=status,
        raw_status=raw,
        reasons=found,
        identity_status=identity,
    )


def campaign_answer(
    campaign: Mapping[str, Any], operation: Mapping[str, Any] | None = None
) -> RegistrationAnswer:
    """A TelnyxCampaign_CSP; ``operation``: its ``operationStatus`` (``{"10017":
    "APPROVED", "10035": "REVIEW"}``), read as the per-carrier states of the campaign
    (``domain.carriers``; None: not asked, the carriers are not reported)."""
    raw = str(campaign.get("campaignStatus") or "") or None
    status = CAMPAIGN_STATUSES.get(raw or "")
    if str(campaign.get("status") or "") == "EXPIRED":
        status, raw = "expired", "EXPIRED"
    found = list(failure_reasons(campaign.get("failureReasons"))) if status == "rejected" else []
    if raw in APPEALABLE:
        found.append(APPEAL_REASON)
    return RegistrationAnswer(
        ref=str(campaign["campaignId"]),
        status=status,
        raw_status=raw,
        reasons=tuple(found),
        carriers=telnyx_operation_status(operation) if operation is not None else None,
    )


def vetting_answer(brand_id: str, record: Mapping[str, Any]) -> VettingAnswer:
    """An ExternalVetting: done once it has a ``vettedDate`` (Telnyx lists only valid
    records), pending until then; its ref ``<brandId>/<evpId>`` (one per vetting provider;
    never the ``vettingId``: for Campaign Verify that is the token, a compliance secret)."""
    evp = str(record.get("evpId") or "")
    vetted = bool(record.get("vettedDate"))
    return VettingAnswer(
        ref=f"{brand_id}/{evp}",
        status="approved" if vetted else "pending",
        raw_status="VETTED" if vetted else "PENDING",
        vetting_class=str(record.get("vettingClass") or "") or None,
    )


def assignment_ref(campaign_id: str, phone_number: str) -> str:
    """A number's registration: ``<campaign id>/<phone number>`` (Telnyx keys assignments
    by number; the campaign tells a later assignment elsewhere from this one)."""
    return f"{campaign_id}/{phone_number}"


def assignment_answer(assignment: Mapping[str, Any]) -> RegistrationAnswer:
    """A PhoneNumberCampaign (``assignment_ref`` its reference)."""
    raw = str(assignment.get("assignmentStatus") or "") or None
    status = ASSIGNMENT_STATUSES.get(raw or "")
    found = (
        failure_reasons(assignment.get("failureReasons"))
        if raw in ("FAILED_ASSIGNMENT", "FAILED_UNASSIGNMENT")
        else ()
    )
    ref = assignment_ref(str(assignment["campaignId"]), str(assignment["phoneNumber"]))
    return RegistrationAnswer(ref=ref, status=status, raw_status=raw, reasons=found)


def assignment_gone(ref: str) -> RegistrationAnswer:
    """The number is no longer assigned to the campaign."""
    return RegistrationAnswer(
        ref=ref,
        status="expired",
        raw_status="UNASSIGNED",
        reasons=(
            {
                "code": "404",
                "description": "The number is no longer assigned to the campaign.",
                "fields": [],
            },
        ),
    )


def refused(ref: str, what: str, code: str, detail: str = "") -> RegistrationAnswer:
    """Telnyx refused to create ``what`` (a 4xx about its content): rejected with the code,
    so that the operator sees it and a changed resubmission starts a new attempt."""
    description = f"Telnyx refused to create the {what}." + (f" {detail}" if detail else "")
    return RegistrationAnswer(
        ref=ref,
        status="rejected",
        raw_status="REFUSED",
        reasons=({"code": code, "description": description, "fields": []},),
    )


def hosting_status(order: Mapping[str, Any]) -> HostingStatus:
    """A messaging hosted number order: ``successful`` → completed with its number's ref
    (the order: releasing it gives the number back), a failed status → failed with its
    reason (the number's own when it says more), any other → pending with what it waits
    for."""
    status = str(order.get("status") or "")
    if status == HOSTING_COMPLETED:
        return HostingStatus("completed", number_ref=order_ref(str(order["id"])))
    if status in HOSTING_FAILED:
        return HostingStatus("failed", reason=_hosting_failure(order, status))
    reason = HOSTING_PENDING.get(status, f"Telnyx reports the order as {status or 'unknown'}.")
    return HostingStatus("pending", reason=reason)


def _hosting_failure(order: Mapping[str, Any], status: str) -> str:
    for number in order.get("phone_numbers") or []:
        if isinstance(number, Mapping) and number.get("status") in HOSTED_NUMBER_FAILURES:
            return HOSTED_NUMBER_FAILURES[str(number["status"])]
    return HOSTING_FAILED[status]


ORDER_PREFIX = "hosted:"


def order_ref(order_id: str) -> str:
    """A hosting order's (and its hosted number's) ref: ``hosted:<order id>``; a bought
    number's ref is its phone number id (``release`` tells them apart by the prefix)."""
    return ORDER_PREFIX + order_id


def failure_reasons(text: object) -> tuple[Mapping[str, Any], ...]:
    """Telnyx's ``failureReasons`` (a string; several joined with ``;`` or newlines)."""
    if not isinstance(text, str) or not text.strip():
        return ()
    parts = [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]
    found: list[Mapping[str, Any]] = []
    for part in parts:
        coded = _CODED.fullmatch(part)
        code, description = (coded.group(1), coded.group(2)) if coded else ("", part)
        found.append({"code": code, "description": description, "fields": []})
    return tuple(found)


# "1011: Website not reachable" / "1011 - …": TCR's reason code first.
_CODED = re.compile(r"([0-9]{3,6})\s*[:\-]\s*(.+)", re.DOTALL)
