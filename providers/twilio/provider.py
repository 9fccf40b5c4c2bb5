"""The Twilio adapter of the provider port: numbers and bring-your-own numbers, and the US A2P
10DLC steps delegated to ``providers.twilio.brands`` and ``providers.twilio.campaigns``.

Numbers (Twilio's public OpenAPI, ``api_v2010`` and ``numbers_v2``):
``GET /2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{ISO}/Local.json`` (search),
``POST …/IncomingPhoneNumbers.json`` (purchase), ``GET …/IncomingPhoneNumbers.json`` (status
lookup and the reconcile sweep), ``DELETE …/IncomingPhoneNumbers/{PN sid}.json`` (release),
``POST/GET/DELETE https://numbers.twilio.com/v2/HostedNumber/Orders[/{HR sid}]`` (bring your
own number). A number bought or hosted while ``INBOUND_SMS_WEBHOOK_URL`` is set gets it as
its ``SmsUrl`` (until it joins a Messaging Service, whose ``InboundRequestUrl`` applies).

Registration references: brand ``BN…`` (or the ``BU…`` profile that stopped at its
evaluation), campaign ``MG…`` (its Messaging Service), number ``MG…/PN…``. Each create is
idempotent per ``reference`` (see ``brands`` and ``campaigns``).

Failures: timeouts, transport errors, 5xx and 429 are retried with exponential backoff
(honouring ``Retry-After``), then raised as ProviderUnavailableError; the adapter then
reports itself unavailable (``check_available``) until the Retry-After has passed, so that
connects during a known outage record nothing. A purchase is retried even after an
ambiguous failure (a timeout after sending): a number can be bought once, so a retry of a
purchase that went through answers 21422, and the application recognises its own purchase
by the reference kept in ``FriendlyName``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import phonenumbers

from domain.providers import (
    AvailableNumber,
    ComplianceRestrictedError,
    HeldNumber,
    HostingOrder,
    HostingStatus,
    ProvisionedNumber,
    RegistrationAnswer,
    RegistrationNotReadyError,
    VettingAnswer,
    VettingProvider,
)
from domain.registration_levels import Level
from providers.twilio.brands import TwilioBrands
from providers.twilio.campaigns import TwilioCampaigns
from providers.twilio.http import (
    REFERENCE_PREFIX,
    TwilioConfig,
    TwilioHttp,
    path_part,
    raise_for_error,
)
from providers.twilio.statuses import hosting_order_gone, hosting_order_open
from providers.twilio.statuses import hosting_status as order_status
from providers.twilio.webhooks import PROVIDER_NAME


class TwilioProvider:
    """The NumberProvider on Twilio's REST API. Thread-safe (httpx.Client is)."""

    name = PROVIDER_NAME

    def __init__(
        self,
        config: TwilioConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._config = config
        self._http = TwilioHttp(config, client=client, sleep=sleep, clock=clock, jitter=jitter)
        account = path_part(config.account_sid)
        self._account_url = f"{config.base_url.rstrip('/')}/2010-04-01/Accounts/{account}"
        self._orders_url = f"{config.numbers_base_url.rstrip('/')}/v2/HostedNumber/Orders"
        self._brands = TwilioBrands(self._http, self._account_url)
        self._campaigns = TwilioCampaigns(self._http)

    # --- the port ----------------------------------------------------------------------

    def check_available(self) -> None:
        """ProviderUnavailableError while the last call's outage has not yet passed its
        Retry-After (no network call)."""
        self._http.check_available()

    @property
    def credentials_refused(self) -> bool:
        """True while Twilio refuses the account SID / auth token (for /readyz)."""
        return self._http.credentials_refused

    def search(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]:
        params: dict[str, str | int] = {"SmsEnabled": "true", "PageSize": limit}
        if area_code:
            params["AreaCode"] = area_code
        if contains:
            params["Contains"] = contains
        url = f"{self._account_url}/AvailablePhoneNumbers/{path_part(country)}/Local.json"
        response = self._call("GET", url, params=params)
        if response.status_code == 404:
            return []  # Twilio has no inventory in that country
        self._raise_for_error(response)
        offers = response.json().get("available_phone_numbers") or []
        return [_available(offer, country) for offer in offers][:limit]

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        response = self._call(
            "POST",
            f"{self._account_url}/IncomingPhoneNumbers.json",
            data={
                "PhoneNumber": phone_number,
                "FriendlyName": REFERENCE_PREFIX + reference,
                "SmsUrl": self._config.inbound_url,
            },
            retry_ambiguous=True,
        )
        self._raise_for_error(response)
        return ProvisionedNumber(self.name, str(response.json()["sid"]))

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        """An open (or completed) hosting order for the number if there is one, else a new
        one. Creating is not retried after an ambiguous failure: the caller's next attempt
        finds the order if it was created."""
        existing = self._open_order(phone_number)
        if existing is not None:
            return HostingOrder(self.name, existing)
        config = self._config
        if not (
            config.hosting_address_sid and config.hosting_email and config.hosting_contact_phone
        ):
            raise ComplianceRestrictedError(
                "hosting a number needs an address, an email and a contact number on file"
            )
        response = self._call(
            "POST",
            self._orders_url,
            data={
                "PhoneNumber": phone_number,
                "SmsCapability": "true",
                "FriendlyName": REFERENCE_PREFIX + reference,
                "AddressSid": config.hosting_address_sid,
                "Email": config.hosting_email,
                "ContactPhoneNumber": config.hosting_contact_phone,
                "SmsUrl": config.inbound_url,
            },
        )
        self._raise_for_error(response)
        return HostingOrder(self.name, str(response.json()["sid"]))

    def release(self, ref: str) -> None:
        """DELETE the number (``PN…``) or the hosting order (``HR…``); 404 is success."""
        if ref.startswith("HR"):
            url = f"{self._orders_url}/{path_part(ref)}"
        else:
            url = f"{self._account_url}/IncomingPhoneNumbers/{path_part(ref)}.json"
        response = self._call("DELETE", url, retry_ambiguous=True)
        if response.status_code != 404:
            self._raise_for_error(response)

    def holding(self, phone_number: str) -> HeldNumber | None:
        response = self._call(
            "GET",
            f"{self._account_url}/IncomingPhoneNumbers.json",
            params={"PhoneNumber": phone_number, "PageSize": 20},
        )
        self._raise_for_error(response)
        for item in response.json().get("incoming_phone_numbers") or []:
            if item.get("phone_number") == phone_number:
                return _held(item)
        return None

    def held_numbers(self) -> Iterator[HeldNumber]:
        """Every number on the account, page by page (``next_page_uri``)."""
        url: str | None = f"{self._account_url}/IncomingPhoneNumbers.json"
        params: dict[str, str | int] | None = {"PageSize": 1000}
        while url is not None:
            response = self._call("GET", url, params=params)
            self._raise_for_error(response)
            page = response.json()
            for item in page.get("incoming_phone_numbers") or []:
                if item.get("phone_number") and item.get("sid"):
                    yield _held(item)
            next_uri = page.get("next_page_uri")
            url = self._config.base_url.rstrip("/") + next_uri if next_uri else None
            params = None  # the next page's URI carries its own query

    def hosting_status(self, order_ref: str) -> HostingStatus:
        response = self._call("GET", f"{self._orders_url}/{path_part(order_ref)}")
        if response.status_code == 404:
            return hosting_order_gone()
        self._raise_for_error(response)
        return order_status(response.json())

    # --- registration (US A2P 10DLC): providers/twilio/brands.py, campaigns.py --------------

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

    def vet_brand(
        self,
        brand_ref: str,
        *,
        vetting_provider: VettingProvider,
        vetting_id: str | None,
        reference: str,
    ) -> VettingAnswer:
        return self._brands.vet(brand_ref, vetting_provider=vetting_provider, vetting_id=vetting_id)

    def update_campaign(
        self,
        campaign: Mapping[str, Any],
        *,
        ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        return self._campaigns.update(campaign, service_sid=service_ref or ref)

    def register_number(
        self,
        phone_number: str,
        number_ref: str,
        *,
        campaign_ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        return self._campaigns.register_number(number_ref, service_sid=service_ref or campaign_ref)

    def registration_status(self, level: Level, ref: str) -> RegistrationAnswer:
        if level == "brand":
            return self._brands.status(ref)
        if level == "campaign":
            return self._campaigns.campaign_status(ref)
        return self._campaigns.number_status(ref)

    def close(self) -> None:
        self._http.close()

    # --- mechanics -----------------------------------------------------------------------

    def _open_order(self, phone_number: str) -> str | None:
        response = self._call(
            "GET", self._orders_url, params={"PhoneNumber": phone_number, "PageSize": 20}
        )
        self._raise_for_error(response)
        for order in response.json().get("items") or []:
            if order.get("phone_number") == phone_number and hosting_order_open(order):
                return str(order["sid"])
        return None

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Mapping[str, str | None] | None = None,
        retry_ambiguous: bool = False,
    ) -> httpx.Response:
        return self._http.call(
            method, url, params=params, data=data, retry_ambiguous=retry_ambiguous
        )

    @staticmethod
    def _raise_for_error(response: httpx.Response) -> None:
        raise_for_error(response)


def _available(offer: Mapping[str, Any], country: str) -> AvailableNumber:
    phone_number = str(offer["phone_number"])
    capabilities = offer.get("capabilities") or {}
    return AvailableNumber(
        phone_number=phone_number,
        country=str(offer.get("iso_country") or country),
        area_code=_area_code(phone_number),
        locality=offer.get("locality"),
        region=offer.get("region"),
        capabilities={k: bool(capabilities.get(k)) for k in ("sms", "mms", "voice")},
    )


def _area_code(phone_number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(phone_number, None)
    except phonenumbers.NumberParseException:
        return None
    length = phonenumbers.length_of_geographical_area_code(parsed)
    return phonenumbers.national_significant_number(parsed)[:length] if length else None


def _held(item: Mapping[str, Any]) -> HeldNumber:
    friendly = str(item.get("friendly_name") or "")
    reference = (
        friendly.removeprefix(REFERENCE_PREFIX) if friendly.startswith(REFERENCE_PREFIX) else None
    )
    inbound = str(item.get("sms_url") or "") or None
    return HeldNumber(str(item["phone_number"]), str(item["sid"]), reference, inbound)
