"""A 10DLC campaign at Twilio and the numbers registered to it (``messaging_v1``): one
Messaging Service per campaign (``POST /v1/Services``, its ``InboundRequestUrl`` the
service's ``INBOUND_SMS_WEBHOOK_URL``), its ``Compliance/Usa2p`` campaign built from the
compliance payload, and each number added to the service
(``POST /v1/Services/{MG}/PhoneNumbers``), which registers it with the campaign.

The campaign's reference is the Messaging Service's sid (``MG…``): a service holds one
campaign, and the service is what Event Streams' campaign events and the numbers name. A
number's registration is ``MG…/PN…``.

Idempotency: the service carries the registration's reference in its ``FriendlyName`` and
is looked up (through every page of ``GET /v1/Services``) before one is made; the campaign
is looked up in its service; a number already in the service is not added again. A
campaign waits for an approved brand: ``RegistrationNotReadyError`` until Twilio says
``APPROVED``. Twilio refusing the campaign itself (a 4xx about its content) is the answer
``rejected`` with Twilio's code, not an error the worker would retry forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.providers import ProviderRejectedError, RegistrationAnswer, RegistrationNotReadyError
from providers.twilio.http import (
    NOT_ABOUT_THE_PAYLOAD,
    REFERENCE_PREFIX,
    Form,
    TwilioHttp,
    path_part,
)
from providers.twilio.statuses import (
    brand_approved,
    campaign_answer,
    campaign_resubmittable,
    gone,
    number_answer,
    number_gone,
    refused,
)

ALREADY_IN_SERVICE = "21710"


class TwilioCampaigns:
    """Creates (or finds) a campaign's Messaging Service and campaign, and adds numbers."""

    def __init__(self, http: TwilioHttp) -> None:
        self._http = http
        self._services = http.config.messaging_base_url.rstrip("/") + "/v1/Services"

    def create(
        self, campaign: Mapping[str, Any], *, brand: Mapping[str, Any] | None, reference: str
    ) -> RegistrationAnswer:
        """``brand``: the brand registration as Twilio has it now (None: no such brand)."""
        if brand is None or not brand_approved(brand):
            status = (brand or {}).get("status")
            raise RegistrationNotReadyError(
                f"Twilio registers the campaign once the brand is approved (brand: {status})."
            )
        service_sid = self._service(REFERENCE_PREFIX + reference)
        existing = self._campaign(service_sid)
        if existing is None:
            form = _campaign_form(campaign, str(brand["sid"]))
            try:
                existing = self._http.json("POST", self._usa2p(service_sid), data=form) or {}
            except ProviderRejectedError as error:
                if error.provider_code in NOT_ABOUT_THE_PAYLOAD:
                    raise
                return refused(service_sid, "campaign", error.provider_code)
        return campaign_answer(service_sid, existing)

    def update(self, campaign: Mapping[str, Any], *, service_sid: str) -> RegistrationAnswer:
        """Resubmit the service's refused campaign in place (``POST
        …/Compliance/Usa2p/{QE…}``: the fields Twilio's update takes, ``domain.remedies``).
        Idempotent: a campaign Twilio already reviews again (not ``FAILED``) is not posted
        a second time."""
        existing = self._campaign(service_sid)
        if existing is None:
            raise RegistrationNotReadyError("Twilio holds no campaign in this service.")
        if not campaign_resubmittable(existing):
            return campaign_answer(service_sid, existing)
        url = f"{self._usa2p(service_sid)}/{path_part(str(existing['sid']))}"
        try:
            updated = self._http.json("POST", url, data=_update_form(campaign)) or {}
        except ProviderRejectedError as error:
            if error.provider_code in NOT_ABOUT_THE_PAYLOAD:
                raise
            return refused(service_sid, "campaign update", error.provider_code)
        return campaign_answer(service_sid, updated)

    def register_number(self, number_sid: str, *, service_sid: str) -> RegistrationAnswer:
        url = f"{self._services}/{path_part(service_sid)}/PhoneNumbers"
        if self._http.json("GET", f"{url}/{path_part(number_sid)}", missing_ok=True) is None:
            try:
                self._http.json("POST", url, data={"PhoneNumberSid": number_sid})
            except ProviderRejectedError as error:
                if error.provider_code != ALREADY_IN_SERVICE:
                    raise
        return number_answer(service_sid, number_sid, self._campaign(service_sid))

    def campaign_status(self, service_sid: str) -> RegistrationAnswer:
        found = self._campaign(service_sid)
        if found is None:
            return gone(service_sid)
        return campaign_answer(service_sid, found)

    def number_status(self, ref: str) -> RegistrationAnswer:
        service_sid, _, number_sid = ref.partition("/")
        url = f"{self._services}/{path_part(service_sid)}/PhoneNumbers/{path_part(number_sid)}"
        if self._http.json("GET", url, missing_ok=True) is None:
            return number_gone(service_sid, number_sid)
        return number_answer(service_sid, number_sid, self._campaign(service_sid))

    # --- mechanics -----------------------------------------------------------------------

    def _service(self, name: str) -> str:
        for item in self._http.list_items(self._services, "services"):
            if item.get("friendly_name") == name:
                return str(item["sid"])
        inbound = self._http.config.inbound_url
        form: Form = {
            "FriendlyName": name,
            "InboundRequestUrl": inbound,
            "InboundMethod": "POST" if inbound else None,
            # The service's inbound URL applies to its numbers, not the numbers' own.
            "UseInboundWebhookOnNumber": "false",
        }
        return str((self._http.json("POST", self._services, data=form) or {})["sid"])

    def _campaign(self, service_sid: str) -> Mapping[str, Any] | None:
        found = self._http.json("GET", self._usa2p(service_sid), missing_ok=True) or {}
        campaigns = found.get("compliance") or []
        return campaigns[0] if campaigns else None

    def _usa2p(self, service_sid: str) -> str:
        return f"{self._services}/{path_part(service_sid)}/Compliance/Usa2p"


def _flag(value: object) -> str | None:
    return None if value is None else ("true" if value else "false")


def _keywords(value: object) -> list[str] | None:
    words = [w.strip() for w in str(value or "").replace(";", ",").split(",") if w.strip()]
    return words or None


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value.strip() else None


def _campaign_form(campaign: Mapping[str, Any], brand_sid: str) -> Form:
    """``Compliance/Usa2p`` create parameters from ``smsCompliance.campaign``."""
    samples = [s for s in campaign.get("messageSamples") or [] if isinstance(s, str) and s.strip()]
    return {
        "BrandRegistrationSid": brand_sid,
        "Description": _text(campaign.get("campaignDescription")),
        "MessageFlow": _text(campaign.get("messageFlow")),
        "MessageSamples": samples,
        "UsAppToPersonUsecase": _text(campaign.get("useCaseType")),
        "HasEmbeddedLinks": _flag(bool(campaign.get("embeddedLink"))),
        "HasEmbeddedPhone": _flag(bool(campaign.get("embeddedPhone"))),
        "OptInMessage": _text(campaign.get("optInMessage")),
        "OptOutMessage": _text(campaign.get("optOutMessage")),
        "HelpMessage": _text(campaign.get("helpMessage")),
        "OptInKeywords": _keywords(campaign.get("optInKeywords")),
        "OptOutKeywords": _keywords(campaign.get("optOutKeywords")),
        "HelpKeywords": _keywords(campaign.get("helpKeywords")),
        "SubscriberOptIn": "true",
        "AgeGated": _flag(campaign.get("ageGatedContent")),
        "DirectLending": _flag(campaign.get("directLending")),
        "PrivacyPolicyUrl": _text(campaign.get("privacyPolicyUrl")),
    }


def _update_form(campaign: Mapping[str, Any]) -> Form:
    """Campaign update parameters (the seven Twilio requires, and the two URLs)."""
    created = _campaign_form(campaign, "")
    return {
        "HasEmbeddedLinks": created["HasEmbeddedLinks"],
        "HasEmbeddedPhone": created["HasEmbeddedPhone"],
        "MessageSamples": created["MessageSamples"],
        "MessageFlow": created["MessageFlow"],
        "Description": created["Description"],
        "AgeGated": _flag(bool(campaign.get("ageGatedContent"))),
        "DirectLending": _flag(bool(campaign.get("directLending"))),
        "PrivacyPolicyUrl": created["PrivacyPolicyUrl"],
    }
