"""The registration half of the Telnyx adapter (US A2P 10DLC, the reference's ``/10dlc``):
brand, campaign, and a number's assignment to the campaign, and the poll of each level.
References: brand = Telnyx's ``brandId``, campaign = ``campaignId``, number =
``<campaignId>/<phone number>`` (Telnyx keys assignments by number).

Brand: ``POST /10dlc/brand`` from ``smsCompliance.brand`` (``mock`` with
``TELNYX_10DLC_MOCK``; ``webhookURL`` the service's webhook when ``PUBLIC_BASE_URL`` is
set). Telnyx keeps no caller reference on a brand, but it keeps the brand's own
``webhookURL``, which is the service's: it carries the step's reference
(``…/providers/telnyx/webhooks?ref=sms-channels:<reference>``), and the account's brands of
that display name are listed to find it before one is made. (Without a webhook URL — only
outside the service, which requires PUBLIC_BASE_URL — a brand whose fields all equal those
sent is taken for it.) A sole proprietor's
brand gets Telnyx's SMS OTP (``POST /10dlc/brand/{id}/smsOtp``, once) and stays
``action_required`` until the owner confirms it.

Campaign: ``POST /10dlc/campaignBuilder`` with ``referenceId`` = ``sms-channels:`` + the
step's reference. Telnyx refuses a second campaign with the same ``referenceId``, so the
create is retried even after a timeout and is looked up (``GET /10dlc/campaign?brandId=``)
before it is made. It waits for an approved brand (RegistrationNotReadyError). The in-place
remedy (``update_campaign``): a campaign Telnyx or a carrier refused (``TELNYX_FAILED``,
``MNO_REJECTED``) is *appealed* (``POST /10dlc/campaign/{id}/appeal``; it returns to
``TCR_ACCEPTED``) instead of a new one being made (a new one costs three months' fees); its
sample messages, the only field Telnyx edits, are updated first when they changed
(``PUT /10dlc/campaign/{id}``); the appeal's text names the rejection's reasons and says
whether the samples changed (the form has no field of its own for it). Its carriers are
read from ``operationStatus`` once the campaign is with them.

Number: ``POST /10dlc/phone_number_campaigns`` (``PUT`` when the number is assigned to
another campaign); ``assignmentStatus`` is the level's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from domain.providers import (
    ProviderRejectedError,
    RegistrationAnswer,
    RegistrationNotReadyError,
    VettingAnswer,
)
from domain.registration_levels import Level
from providers.telnyx.http import (
    NOT_ABOUT_THE_PAYLOAD,
    REFERENCE_PREFIX,
    TelnyxHttp,
    error_code,
    error_detail,
    path_part,
)
from providers.telnyx.statuses import (
    APPEALABLE,
    SOLE_PROPRIETOR,
    assignment_answer,
    assignment_gone,
    brand_answer,
    campaign_answer,
    refused,
    vetting_answer,
)

# The service's vetting providers → TCR's external vetting provider ids.
EVP_IDS: dict[str, str] = {"campaign-verify": "CV", "aegis": "AEGIS"}

OTP_SMS = "@OTP_PIN@ is your code to confirm your business's text messaging registration."
OTP_SUCCESS_SMS = "Thank you: your text messaging registration is confirmed."
APPEAL_TEXT = (
    "The business has addressed the rejection{reasons} and asks for the campaign to be "
    "reviewed again.{samples}"
)


def appeal_text(failure_reasons: str, *, samples_changed: bool) -> str:
    """The appeal's ``appeal_reason``: the rejection it answers and what changed."""
    reasons = f" ({failure_reasons.strip()[:500]})" if failure_reasons.strip() else ""
    samples = " Its sample messages were updated." if samples_changed else ""
    return APPEAL_TEXT.format(reasons=reasons, samples=samples)


class TelnyxRegistrations:
    """Each create is idempotent per ``reference`` (see the module's docstring)."""

    def __init__(self, http: TelnyxHttp) -> None:
        self._http = http

    # --- brand ------------------------------------------------------------------------------

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        webhook = self._http.config.webhook_url
        tagged = f"{webhook}?ref={quote(REFERENCE_PREFIX + reference)}" if webhook else None
        body = brand_body(brand, self._http.config.mock_brands, tagged)
        found = self._find_brand(body)
        if found is None:
            try:
                found = self._http.json("POST", "/10dlc/brand", body=body) or {}
            except ProviderRejectedError as error:
                if error.provider_code in NOT_ABOUT_THE_PAYLOAD:
                    raise
                return refused(REFERENCE_PREFIX + reference, "brand", error.provider_code)
        if found.get("entityType") == SOLE_PROPRIETOR:
            self._send_otp(str(found["brandId"]))
        return brand_answer(found)

    def _find_brand(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The brand of this step among the account's brands of its display name: the
        list answers BrandBasic, so each candidate is read whole for its webhookURL."""
        params = {"displayName": str(body.get("displayName") or "")}
        for record in list(self._http.records("/10dlc/brand", params)):
            brand_id = path_part(str(record.get("brandId") or ""))
            found = self._http.json("GET", f"/10dlc/brand/{brand_id}", missing_ok=True)
            if found is None:
                continue
            if body.get("webhookURL"):
                if found.get("webhookURL") == body["webhookURL"]:
                    return found
            elif all(found.get(k) == v for k, v in body.items() if k not in _NOT_ECHOED):
                return found
        return None

    def _send_otp(self, brand_id: str) -> None:
        """Telnyx's SMS OTP to the owner's mobile phone, unless one was sent already."""
        path = f"/10dlc/brand/{path_part(brand_id)}/smsOtp"
        if self._http.json("GET", path, missing_ok=True) is not None:
            return
        self._http.json("POST", path, body={"pinSms": OTP_SMS, "successSms": OTP_SUCCESS_SMS})

    def vet_brand(
        self, brand_ref: str, *, vetting_provider: str, vetting_id: str | None
    ) -> VettingAnswer:
        """A vetting of the brand (``/10dlc/brand/{id}/externalVetting``): a Campaign
        Verify token is imported (``PUT``, ``evpId`` ``CV``, the token as ``vettingId``);
        secondary vetting is ordered (``POST``, ``evpId`` ``AEGIS``, class ``STANDARD``).
        The brand's vettings are listed first: one of that vetting provider already made is
        answered (once per provider, as Telnyx itself refuses a duplicate order)."""
        evp = EVP_IDS[vetting_provider]
        path = f"/10dlc/brand/{path_part(brand_ref)}/externalVetting"
        for record in self._vettings(path):
            if record.get("evpId") == evp:
                return vetting_answer(brand_ref, record)
        if vetting_provider == "campaign-verify":
            body = {"evpId": evp, "vettingId": vetting_id or ""}
            response = self._http.call("PUT", path, body=body)
        else:
            body = {"evpId": evp, "vettingClass": "STANDARD"}
            response = self._http.call("POST", path, body=body)
        if response.status_code >= 400:
            code = error_code(response) or str(response.status_code)
            if code in NOT_ABOUT_THE_PAYLOAD:
                raise ProviderRejectedError(code)
            return VettingAnswer(f"{brand_ref}/{evp}", "rejected", f"REFUSED:{code}")
        return vetting_answer(brand_ref, response.json())

    def _vettings(self, path: str) -> list[Mapping[str, Any]]:
        found = self._http.call("GET", path)
        if found.status_code == 404:
            return []
        document = found.json() if found.content else []
        return [r for r in document if isinstance(r, Mapping)] if isinstance(document, list) else []

    # --- campaign ---------------------------------------------------------------------------

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        if brand_ref.startswith(REFERENCE_PREFIX):
            raise RegistrationNotReadyError("Telnyx refused the brand: no campaign can follow.")
        mine = REFERENCE_PREFIX + reference
        for found in self._http.records("/10dlc/campaign", {"brandId": brand_ref}):
            if found.get("referenceId") == mine:
                return self._answer(found)
        brand = self._http.json("GET", f"/10dlc/brand/{path_part(brand_ref)}", missing_ok=True)
        status = brand_answer(brand).status if brand else "missing"
        if status != "approved":
            raise RegistrationNotReadyError(
                f"Telnyx registers the campaign once the brand is approved (brand: {status})."
            )
        body = campaign_body(campaign, brand_ref, mine, self._http.config.webhook_url)
        response = self._http.call(
            "POST", "/10dlc/campaignBuilder", body=body, retry_ambiguous=True
        )
        if response.status_code < 400:
            return self._answer(response.json())
        for found in self._http.records("/10dlc/campaign", {"brandId": brand_ref}):
            if found.get("referenceId") == mine:  # made by an attempt whose answer was lost
                return self._answer(found)
        code = error_code(response) or str(response.status_code)
        if code in NOT_ABOUT_THE_PAYLOAD:
            raise ProviderRejectedError(code)
        return refused(mine, "campaign", code, error_detail(response))

    def update_campaign(self, campaign: Mapping[str, Any], *, ref: str) -> RegistrationAnswer:
        """Appeal the refused campaign ``ref`` in place (its samples updated first when
        they changed). Asked again after the appeal went through (a lost answer), the
        campaign is answered as it stands: one appeal."""
        path = f"/10dlc/campaign/{path_part(ref)}"
        found = self._http.json("GET", path, missing_ok=True)
        if found is None:
            raise RegistrationNotReadyError("Telnyx has no such campaign to appeal.")
        if found.get("campaignStatus") not in APPEALABLE:
            return self._answer(found)
        samples = _samples(campaign)
        changed = bool(samples) and any(found.get(k) != v for k, v in samples.items())
        if changed:
            self._http.json("PUT", path, body=samples, retry_ambiguous=True)
        reason = appeal_text(str(found.get("failureReasons") or ""), samples_changed=changed)
        self._http.json("POST", f"{path}/appeal", body={"appeal_reason": reason})
        return self._answer(self._http.json("GET", path) or found)

    def _answer(self, campaign: Mapping[str, Any]) -> RegistrationAnswer:
        operation: Mapping[str, Any] | None = None
        if str(campaign.get("campaignStatus") or "").startswith("MNO_"):
            path = f"/10dlc/campaign/{path_part(str(campaign['campaignId']))}/operationStatus"
            operation = self._http.json("GET", path, missing_ok=True)
        return campaign_answer(campaign, operation)

    # --- number -----------------------------------------------------------------------------

    def register_number(self, phone_number: str, *, campaign_ref: str) -> RegistrationAnswer:
        """Assign the number (a POST, or a PUT when it is in another campaign). Keyed by
        the number, so it is retried after a timeout; a refusal is looked at again (an
        attempt whose answer was lost may have made the assignment)."""
        path = f"/10dlc/phone_number_campaigns/{path_part(phone_number)}"
        found = self._http.json("GET", path, missing_ok=True)
        if found is not None and found.get("campaignId") == campaign_ref:
            return assignment_answer(found)
        body = {"phoneNumber": phone_number, "campaignId": campaign_ref}
        method, target = (
            ("POST", "/10dlc/phone_number_campaigns") if found is None else ("PUT", path)
        )
        response = self._http.call(method, target, body=body, retry_ambiguous=True)
        if response.status_code < 400:
            return assignment_answer(response.json())
        found = self._http.json("GET", path, missing_ok=True)
        if found is not None and found.get("campaignId") == campaign_ref:
            return assignment_answer(found)
        raise ProviderRejectedError(error_code(response) or str(response.status_code))

    # --- the poll ---------------------------------------------------------------------------

    def status(self, level: Level, ref: str) -> RegistrationAnswer:
        if ref.startswith(REFERENCE_PREFIX):  # refused at creation: nothing to ask about
            return RegistrationAnswer(ref=ref, status="rejected", raw_status="REFUSED")
        if level == "number":
            return self._assignment_status(ref)
        kind = "brand" if level == "brand" else "campaign"
        found = self._http.json("GET", f"/10dlc/{kind}/{path_part(ref)}", missing_ok=True)
        if found is None:
            return RegistrationAnswer(ref=ref, status="expired", raw_status="DELETED")
        return brand_answer(found) if level == "brand" else self._answer(found)

    def _assignment_status(self, ref: str) -> RegistrationAnswer:
        campaign_id, _, phone_number = ref.rpartition("/")
        path = f"/10dlc/phone_number_campaigns/{path_part(phone_number)}"
        found = self._http.json("GET", path, missing_ok=True)
        if found is None or found.get("campaignId") != campaign_id:
            return assignment_gone(ref)
        return assignment_answer(found)


# Fields of CreateBrand that a TelnyxBrand does not echo as sent.
_NOT_ECHOED = frozenset({"ipAddress", "webhookFailoverURL", "mock"})
# The form's entity → Telnyx's entityType (the same names).
_ENTITIES = frozenset(
    {"PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "GOVERNMENT", SOLE_PROPRIETOR}
)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def brand_body(brand: Mapping[str, Any], mock: bool, webhook_url: str | None) -> dict[str, Any]:
    """CreateBrand from ``smsCompliance.brand``."""
    entity = str(brand.get("entity") or "")
    if brand.get("brandType") == SOLE_PROPRIETOR:
        entity = SOLE_PROPRIETOR
    sole = entity == SOLE_PROPRIETOR
    body: dict[str, Any] = {
        "entityType": entity if entity in _ENTITIES else "PRIVATE_PROFIT",
        "displayName": _text(brand.get("displayName")),
        "companyName": None if sole else _text(brand.get("companyName")),
        "ein": None if sole else _text(brand.get("registrationNumber")),
        "firstName": _text(brand.get("authorizedRepFirstName")),
        "lastName": _text(brand.get("authorizedRepLastName")),
        "phone": _text(brand.get("contactPhone")),
        "mobilePhone": _text(brand.get("contactPhone")) if sole else None,
        "email": _text(brand.get("contactEmail")),
        "businessContactEmail": _text(brand.get("contactEmail"))
        if entity == "PUBLIC_PROFIT"
        else None,
        "street": _text(brand.get("address")),
        "city": _text(brand.get("city")),
        "state": _text(brand.get("state")),
        "postalCode": _text(brand.get("zipCode")),
        "country": _text(brand.get("country")) or "US",
        "website": _text(brand.get("website")),
        "vertical": _text(brand.get("vertical")),
        "stockSymbol": _text(brand.get("stockSymbol")),
        "stockExchange": _text(brand.get("stockExchange")),
        "webhookURL": webhook_url,
        "mock": True if mock else None,
    }
    return {k: v for k, v in body.items() if v is not None}


def _keywords(value: object) -> str | None:
    """Telnyx's keywords: comma separated, no spaces."""
    words = [w.strip() for w in str(value or "").replace(";", ",").split(",") if w.strip()]
    return ",".join(words) or None


def campaign_body(
    campaign: Mapping[str, Any], brand_id: str, reference_id: str, webhook_url: str | None
) -> dict[str, Any]:
    """CampaignRequest (``/10dlc/campaignBuilder``) from ``smsCompliance.campaign``."""
    body: dict[str, Any] = {
        "brandId": brand_id,
        "referenceId": reference_id,
        "usecase": _text(campaign.get("useCaseType")),
        "description": _text(campaign.get("campaignDescription")),
        "messageFlow": _text(campaign.get("messageFlow")),
        "privacyPolicyLink": _text(campaign.get("privacyPolicyUrl")),
        "termsAndConditions": bool(campaign.get("termsAndConditions", True)),
        "embeddedLink": bool(campaign.get("embeddedLink")),
        "embeddedPhone": bool(campaign.get("embeddedPhone")),
        "numberPool": bool(campaign.get("numberPooling")),
        "ageGated": bool(campaign.get("ageGatedContent")),
        "directLending": bool(campaign.get("directLending")),
        "subscriberOptin": True,
        "subscriberOptout": True,
        "subscriberHelp": True,
        "optinKeywords": _keywords(campaign.get("optInKeywords")),
        "optinMessage": _text(campaign.get("optInMessage")),
        "optoutKeywords": _keywords(campaign.get("optOutKeywords")),
        "optoutMessage": _text(campaign.get("optOutMessage")),
        "helpKeywords": _keywords(campaign.get("helpKeywords")),
        "helpMessage": _text(campaign.get("helpMessage")),
        "webhookURL": webhook_url,
    }
    body.update(_samples(campaign))
    return {k: v for k, v in body.items() if v is not None}


def _samples(campaign: Mapping[str, Any]) -> dict[str, str]:
    """``sample1``…``sample5`` from ``messageSamples`` (the non-empty ones)."""
    samples = [s for s in campaign.get("messageSamples") or [] if isinstance(s, str) and s.strip()]
    return {f"sample{i}": sample for i, sample in enumerate(samples[:5], start=1)}
