"""The registration half of the Twilio adapter (US A2P 10DLC): brand, campaign and number
steps and the poll of each level, over ``providers.twilio_brands`` and
``providers.twilio_campaigns``. References: brand ``BN…`` (or the ``BU…`` profile that
stopped at its evaluation), campaign ``MG…`` (its Messaging Service), number ``MG…/PN…``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.providers import RegistrationAnswer, RegistrationNotReadyError, VettingAnswer
from domain.registration_levels import Level
from providers.twilio_brands import TwilioBrands
from providers.twilio_campaigns import TwilioCampaigns
from providers.twilio_http import TwilioHttp


class TwilioRegistrations:
    """Each create is idempotent per ``reference`` (see the modules it delegates to)."""

    def __init__(self, http: TwilioHttp, account_url: str) -> None:
        self._brands = TwilioBrands(http, account_url)
        self._campaigns = TwilioCampaigns(http)

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        return self._brands.create(brand, reference=reference)

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        if not brand_ref.startswith("BN"):
            raise RegistrationNotReadyError(
                "Twilio registers the campaign once the brand's profile is compliant."
            )
        brand = self._brands.fetch(brand_ref)
        return self._campaigns.create(campaign, brand=brand, reference=reference)

    def update_campaign(
        self, campaign: Mapping[str, Any], *, service_ref: str
    ) -> RegistrationAnswer:
        return self._campaigns.update(campaign, service_sid=service_ref)

    def vet_brand(
        self, brand_ref: str, *, vetting_provider: str, vetting_id: str | None
    ) -> VettingAnswer:
        return self._brands.vet(brand_ref, vetting_provider=vetting_provider, vetting_id=vetting_id)

    def register_number(self, number_sid: str, *, service_ref: str) -> RegistrationAnswer:
        return self._campaigns.register_number(number_sid, service_sid=service_ref)

    def status(self, level: Level, ref: str) -> RegistrationAnswer:
        if level == "brand":
            return self._brands.status(ref)
        if level == "campaign":
            return self._campaigns.campaign_status(ref)
        return self._campaigns.number_status(ref)
