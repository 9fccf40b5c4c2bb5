"""The Telnyx adapter of the provider port: numbers and bring-your-own numbers over Telnyx's
API v2 (``providers.telnyx.http``), 10DLC delegated to ``providers.telnyx.registrations``.

Numbers (the reference ``telnyx-v2-numbers-10dlc.yml``): ``GET /available_phone_numbers``
(search, SMS-capable only), ``POST /number_orders`` with the account's messaging profile and
``customer_reference`` = the service's reference, then ``GET /number_orders/{id}`` until
``success`` (purchase), ``DELETE /phone_numbers/{id}`` (release). The account's numbers are
read from ``GET /phone_numbers`` (Telnyx's list of the account's numbers, with
``filter[phone_number]``; outside the reference subset, its items the reference's
``PhoneNumberDetailed``). Bring your own number: ``POST/GET/DELETE
/messaging_hosted_number_orders[/{id}]`` with the messaging profile; a hosting order's ref
(and its hosted number's, once ``successful``) is ``hosted:<order id>``, a bought number's its
phone number id. Inbound messages of every number go where the messaging profile's webhook
says (set in Telnyx's portal to ``INBOUND_SMS_WEBHOOK_URL``): Telnyx has no per-number URL.

Idempotency: a number order is retried even after an ambiguous failure (a timeout after
sending) — a number can be bought once, so a retry of an order that went through is refused
as unavailable, and the application recognises its own purchase by the reference
(``customer_reference``, read back by ``holding``). A hosting order is looked up by its
number before one is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import phonenumbers

from domain.providers import (
    AvailableNumber,
    BadAreaCodeError,
    ComplianceRestrictedError,
    HeldNumber,
    HostingOrder,
    HostingStatus,
    NumberUnavailableError,
    ProviderUnavailableError,
    ProvisionedNumber,
    RegistrationAnswer,
    VettingAnswer,
    VettingProvider,
)
from domain.registration_levels import Level
from providers.telnyx.http import (
    REFERENCE_PREFIX,
    TelnyxConfig,
    TelnyxHttp,
    error_pointer,
    path_part,
    raise_for_error,
    unavailable_or_error,
)
from providers.telnyx.registrations import TelnyxRegistrations
from providers.telnyx.statuses import HOSTING_FAILED, ORDER_PREFIX, order_ref
from providers.telnyx.statuses import hosting_status as order_status

PROVIDER_NAME = "telnyx"


class TelnyxProvider:
    """The NumberProvider on Telnyx's API v2. Thread-safe (httpx.Client is)."""

    name = PROVIDER_NAME

    def __init__(
        self,
        config: TelnyxConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._config = config
        self._http = TelnyxHttp(config, client=client, sleep=sleep, clock=clock, jitter=jitter)
        self._registrations = TelnyxRegistrations(self._http)

    @property
    def credentials_refused(self) -> bool:
        return self._http.credentials_refused

    # --- the port ----------------------------------------------------------------------

    def check_available(self) -> None:
        self._http.check_available()

    def search(
        self, country: str, area_code: str | None, contains: str | None, limit: int
    ) -> list[AvailableNumber]:
        params: dict[str, str | int] = {
            "filter[country_code]": country,
            "filter[features][]": "sms",
            "filter[limit]": limit,
        }
        if area_code:
            params["filter[national_destination_code]"] = area_code
        if contains:
            params["filter[phone_number][contains]"] = contains
        response = self._http.call("GET", "/available_phone_numbers", params=params)
        if (
            response.status_code in (400, 422)
            and area_code
            and ("national_destination_code" in error_pointer(response))
        ):
            raise BadAreaCodeError()
        raise_for_error(response)
        offers = response.json().get("data") or []
        return [_available(offer, country) for offer in offers if _sms(offer)][:limit]

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        """Order the number with the messaging profile; wait for the order's ``success``
        (at most ``order_wait_seconds``: then ProviderUnavailableError, the order goes on
        and the reconcile worker finds the number by its reference)."""
        response = self._http.call(
            "POST",
            "/number_orders",
            body={
                "phone_numbers": [{"phone_number": phone_number}],
                "messaging_profile_id": self._config.messaging_profile_id,
                "customer_reference": REFERENCE_PREFIX + reference,
            },
            retry_ambiguous=True,
        )
        if response.status_code >= 400:
            raise unavailable_or_error(response)
        order = response.json().get("data") or {}
        order = self._settled(order)
        status = str(order.get("status") or "")
        if status == "failure":
            raise NumberUnavailableError()
        if status != "success":
            if order.get("requirements_met") is False:
                raise ComplianceRestrictedError(
                    "Telnyx needs regulatory documents for numbers in this country "
                    f"(number order {order.get('id')})"
                )
            raise ProviderUnavailableError(self._config.default_retry_after_seconds)
        held = self.holding(phone_number)
        if held is None:  # the order succeeded; the number shows a moment later
            raise ProviderUnavailableError(self._config.default_retry_after_seconds)
        return ProvisionedNumber(self.name, held.ref)

    def start_hosting(self, country: str, phone_number: str, *, reference: str) -> HostingOrder:
        """The open hosting order of this number, or a new one with the messaging profile.
        Creating is not retried after an ambiguous failure: the caller's next attempt finds
        the order if it was made."""
        existing = self._open_order(phone_number)
        if existing is not None:
            return HostingOrder(self.name, order_ref(existing))
        created = self._http.data(
            "POST",
            "/messaging_hosted_number_orders",
            body={
                "phone_numbers": [phone_number],
                "messaging_profile_id": self._config.messaging_profile_id,
            },
        )
        return HostingOrder(self.name, order_ref(str((created or {})["id"])))

    def release(self, ref: str) -> None:
        """DELETE the number, or the hosting order (and the number it hosts); 404 is
        success."""
        if ref.startswith(ORDER_PREFIX):
            path = f"/messaging_hosted_number_orders/{path_part(ref.removeprefix(ORDER_PREFIX))}"
        else:
            path = f"/phone_numbers/{path_part(ref)}"
        response = self._http.call("DELETE", path)
        if response.status_code != 404:
            raise_for_error(response)

    def holding(self, phone_number: str) -> HeldNumber | None:
        params = {"filter[phone_number]": phone_number}
        for item in self._http.pages("/phone_numbers", params):
            if item.get("phone_number") == phone_number and _active(item):
                return _held(item)
        for order in self._http.pages("/messaging_hosted_number_orders"):
            if phone_number in _order_numbers(order) and order.get("status") == "successful":
                return HeldNumber(phone_number, order_ref(str(order["id"])), None)
        return None

    def held_numbers(self) -> Iterator[HeldNumber]:
        """Every number on the account (bought, then hosted), page by page."""
        for item in self._http.pages("/phone_numbers"):
            if item.get("phone_number") and item.get("id") and _active(item):
                yield _held(item)
        for order in self._http.pages("/messaging_hosted_number_orders"):
            if order.get("status") == "successful":
                for number in _order_numbers(order):
                    yield HeldNumber(number, order_ref(str(order["id"])), None)

    def hosting_status(self, order_ref_: str) -> HostingStatus:
        order_id = order_ref_.removeprefix(ORDER_PREFIX)
        found = self._http.data(
            "GET", f"/messaging_hosted_number_orders/{path_part(order_id)}", missing_ok=True
        )
        if found is None:
            return HostingStatus("failed", reason="Telnyx has no such hosting order.")
        return order_status(found)

    # --- registration (US A2P 10DLC): providers/telnyx/registrations.py ----------------

    def create_brand(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        return self._registrations.create_brand(brand, reference=reference)

    def create_campaign(
        self, campaign: Mapping[str, Any], *, brand_ref: str, reference: str
    ) -> RegistrationAnswer:
        return self._registrations.create_campaign(
            campaign, brand_ref=brand_ref, reference=reference
        )

    def update_campaign(
        self,
        campaign: Mapping[str, Any],
        *,
        ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        """The in-place resubmission at Telnyx: the refused campaign's appeal."""
        return self._registrations.update_campaign(campaign, ref=ref)

    def vet_brand(
        self,
        brand_ref: str,
        *,
        vetting_provider: VettingProvider,
        vetting_id: str | None,
        reference: str,
    ) -> VettingAnswer:
        return self._registrations.vet_brand(
            brand_ref, vetting_provider=vetting_provider, vetting_id=vetting_id
        )

    def register_number(
        self,
        phone_number: str,
        number_ref: str,
        *,
        campaign_ref: str,
        service_ref: str | None,
        reference: str,
    ) -> RegistrationAnswer:
        return self._registrations.register_number(phone_number, campaign_ref=campaign_ref)

    def registration_status(self, level: Level, ref: str) -> RegistrationAnswer:
        return self._registrations.status(level, ref)

    def close(self) -> None:
        self._http.close()

    # --- mechanics -----------------------------------------------------------------------

    def _settled(self, order: Mapping[str, Any]) -> Mapping[str, Any]:
        """The number order once it left ``pending`` (or as it is when the wait is over)."""
        deadline = self._http.clock() + self._config.order_wait_seconds
        while order.get("status") == "pending" and order.get("id"):
            if self._http.clock() >= deadline:
                break
            self._http.sleep(self._config.order_poll_seconds)
            path = f"/number_orders/{path_part(str(order['id']))}"
            order = self._http.data("GET", path) or order
        return order

    def _open_order(self, phone_number: str) -> str | None:
        for order in self._http.pages("/messaging_hosted_number_orders"):
            if phone_number in _order_numbers(order) and order.get("status") not in (
                HOSTING_FAILED
            ):
                return str(order["id"])
        return None


def _order_numbers(order: Mapping[str, Any]) -> list[str]:
    return [
        str(n.get("phone_number"))
        for n in order.get("phone_numbers") or []
        if isinstance(n, Mapping) and n.get("phone_number")
    ]


def _sms(offer: Mapping[str, Any]) -> bool:
    return any(f.get("name") == "sms" for f in offer.get("features") or [] if isinstance(f, dict))


def _available(offer: Mapping[str, Any], country: str) -> AvailableNumber:
    phone_number = str(offer["phone_number"])
    regions = {
        str(r.get("region_type")): str(r.get("region_name"))
        for r in offer.get("region_information") or []
        if isinstance(r, dict)
    }
    features = {str(f.get("name")) for f in offer.get("features") or [] if isinstance(f, dict)}
    return AvailableNumber(
        phone_number=phone_number,
        country=regions.get("country_code") or country,
        area_code=_area_code(phone_number),
        locality=regions.get("location") or regions.get("rate_center"),
        region=regions.get("state"),
        capabilities={k: k in features for k in ("sms", "mms", "voice")},
    )


def _area_code(phone_number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(phone_number, None)
    except phonenumbers.NumberParseException:
        return None
    length = phonenumbers.length_of_geographical_area_code(parsed)
    return phonenumbers.national_significant_number(parsed)[:length] if length else None


# PhoneNumberDetailed ``status`` values of a number the account no longer (or not yet) holds.
_NOT_HELD = frozenset({"purchase-failed", "port-failed", "deleted", "ported-out"})


def _active(item: Mapping[str, Any]) -> bool:
    return str(item.get("status") or "") not in _NOT_HELD


def _held(item: Mapping[str, Any]) -> HeldNumber:
    customer = str(item.get("customer_reference") or "")
    reference = (
        customer.removeprefix(REFERENCE_PREFIX) if customer.startswith(REFERENCE_PREFIX) else None
    )
    return HeldNumber(str(item["phone_number"]), str(item["id"]), reference)
