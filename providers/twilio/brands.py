"""A 10DLC brand at Twilio: the TrustHub identity a brand registration needs, then the
``BrandRegistrations`` object (Twilio's public OpenAPI, ``trusthub_v1`` and
``messaging_v1``).

Standard (and low-volume standard) brands: a *secondary customer profile* (the business)
with its business-information and authorized-representative end users and its address
(a supporting document over an Address), all assigned to it, evaluated and submitted; an
*A2P messaging profile* trust product (company type, stock symbol and exchange) with the
customer profile assigned, evaluated and submitted; then ``POST /v1/a2p/BrandRegistrations``
with both bundles (``Mock=true`` with ``TWILIO_A2P_MOCK``). Sole proprietors follow
Twilio's sole-proprietor flow: a *starter* customer profile and trust product, and a brand
of type ``SOLE_PROPRIETOR`` that waits for the owner's OTP (``action_required``).

Idempotency: every object carries the registration's reference in its ``FriendlyName``
(``sms-channels:<registration id>.<attempt>`` and a one-letter suffix), and every step
looks its object up before creating it; the brand registration is found by its customer
profile bundle. A step that timed out after Twilio made its object therefore finds it on
the next attempt instead of making a second one.

Twilio refusing a part of the brand (a 4xx about its content, after the customer profile
exists) is the answer ``rejected`` with Twilio's code on the profile (``BU…``). An
evaluation that Twilio finds noncompliant stops the brand before any fee is incurred:
the answer is the customer profile (``BU…``), ``action_required``, with Twilio's
evaluation failures as reasons (codes kept); a resubmission with a changed brand starts a
new attempt (a new reference, new objects).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from domain.providers import ProviderRejectedError, RegistrationAnswer, VettingAnswer
from providers.twilio.http import (
    NOT_ABOUT_THE_PAYLOAD,
    REFERENCE_PREFIX,
    Form,
    TwilioHttp,
    path_part,
)
from providers.twilio.statuses import (
    BUNDLE_DRAFT,
    BUNDLE_SUBMITTED,
    brand_answer,
    bundle_answer,
    evaluation_answer,
    gone,
    refused,
    vetting_answer,
)

# Twilio's published TrustHub policies for A2P 10DLC.
SECONDARY_PROFILE_POLICY = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_PROFILE_POLICY = "RNb0d4771c2c98518d916a3d4cd70a8f8b"
STARTER_PROFILE_POLICY = "RN806dd6cd175f314e1f96a9727ee271f4"
SOLE_PROPRIETOR_PROFILE_POLICY = "RN670d5d2e282a6130ae063b234b6019c8"

# The form's entity → Twilio's business type and A2P company type.
COMPANY_TYPES = {
    "PRIVATE_PROFIT": "private",
    "PUBLIC_PROFIT": "public",
    "NON_PROFIT": "non-profit",
    "GOVERNMENT": "government",
}
# The form's vertical → TrustHub's business industry (same name where not listed).
INDUSTRIES = {
    "COMMUNICATION": "TELECOMMUNICATIONS",
    "ENTERTAINMENT": "MEDIA",
    "GAMBLING": "ONLINE",
    "HUMAN_RESOURCES": "PROFESSIONAL_SERVICES",
    "NGO": "NOT_FOR_PROFIT",
    "POLITICAL": "NOT_FOR_PROFIT",
    "POSTAL": "TRANSPORTATION",
    "PROFESSIONAL": "PROFESSIONAL_SERVICES",
}


class TwilioBrands:
    """Creates (or finds) a brand's TrustHub objects and its brand registration."""

    def __init__(self, http: TwilioHttp, account_url: str) -> None:
        self._http = http
        config = http.config
        self._trusthub = config.trusthub_base_url.rstrip("/") + "/v1"
        self._a2p = config.messaging_base_url.rstrip("/") + "/v1/a2p/BrandRegistrations"
        self._addresses = f"{account_url}/Addresses.json"

    # --- the brand step ---------------------------------------------------------------------

    def create(self, brand: Mapping[str, Any], *, reference: str) -> RegistrationAnswer:
        name = REFERENCE_PREFIX + reference
        sole = brand.get("entity") == "SOLE_PROPRIETOR" or brand.get("brandType") == (
            "SOLE_PROPRIETOR"
        )
        email = self._http.config.profile_email or str(brand.get("contactEmail") or "")
        profile_sid = name  # until Twilio gave the profile its sid: our reference
        try:
            profile = self._bundle(
                "CustomerProfiles",
                name,
                email,
                STARTER_PROFILE_POLICY if sole else SECONDARY_PROFILE_POLICY,
            )
            profile_sid = str(profile["sid"])
            return self._complete(brand, name, email, profile, sole)
        except ProviderRejectedError as error:
            if error.provider_code in NOT_ABOUT_THE_PAYLOAD:
                raise
            return refused(profile_sid, "brand", error.provider_code)

    def _complete(
        self,
        brand: Mapping[str, Any],
        name: str,
        email: str,
        profile: Mapping[str, Any],
        sole: bool,
    ) -> RegistrationAnswer:
        """The brand's objects after its customer profile ``profile``."""
        profile_sid = str(profile["sid"])
        end_users: dict[str, str] | None = None  # FriendlyName → sid, listed once if needed
        if profile.get("status") == BUNDLE_DRAFT:
            end_users = self._end_users()
            objects = self._profile_objects(brand, name, sole, end_users)
            stopped = self._assemble("CustomerProfiles", profile, objects)
            if stopped is not None:
                return stopped
        product = self._bundle(
            "TrustProducts",
            name + "/m",
            email,
            SOLE_PROPRIETOR_PROFILE_POLICY if sole else A2P_PROFILE_POLICY,
        )
        if product.get("status") == BUNDLE_DRAFT:
            end_users = self._end_users() if end_users is None else end_users
            messaging = self._end_user(
                name + "/p", _messaging_type(sole), _messaging(brand, sole), end_users
            )
            stopped = self._assemble("TrustProducts", product, [messaging, profile_sid])
            if stopped is not None:
                return stopped
        return brand_answer(self._registration(profile_sid, str(product["sid"]), brand, sole))

    def status(self, ref: str) -> RegistrationAnswer:
        """A brand registration (``BN…``), or a customer profile or trust product that
        stopped at its evaluation (``BU…``: ``action_required`` unless Twilio decided)."""
        if ref.startswith("BU"):
            bundle = self._http.json(
                "GET", f"{self._trusthub}/CustomerProfiles/{path_part(ref)}", missing_ok=True
            ) or self._http.json(
                "GET", f"{self._trusthub}/TrustProducts/{path_part(ref)}", missing_ok=True
            )
            return bundle_answer(ref, bundle)
        found = self.fetch(ref)
        if found is None:
            return gone(ref)
        return brand_answer(found)

    def vet(self, ref: str, *, vetting_provider: str, vetting_id: str | None) -> VettingAnswer:
        """The brand's vetting by ``vetting_provider`` (``GET …/Vettings?VettingProvider=``,
        made with ``POST …/Vettings`` when there is none: idempotent)."""
        url = f"{self._a2p}/{path_part(ref)}/Vettings"
        listed = self._http.json("GET", url, params={"VettingProvider": vetting_provider}) or {}
        found = next(
            (
                item
                for item in listed.get("data") or []
                if item.get("vetting_provider") in (None, vetting_provider)
            ),
            None,
        )
        if found is None:
            form: Form = {"VettingProvider": vetting_provider, "VettingId": vetting_id}
            found = self._http.json("POST", url, data=form) or {}
        return vetting_answer(found)

    def fetch(self, ref: str) -> Mapping[str, Any] | None:
        """The brand registration ``ref`` (None if Twilio has none)."""
        return self._http.json("GET", f"{self._a2p}/{path_part(ref)}", missing_ok=True)

    # --- TrustHub ---------------------------------------------------------------------------

    def _bundle(self, kind: str, name: str, email: str, policy: str) -> Mapping[str, Any]:
        """The customer profile or trust product named ``name``, made if missing."""
        listed = self._http.json(
            "GET", f"{self._trusthub}/{kind}", params={"FriendlyName": name, "PageSize": 20}
        )
        for item in (listed or {}).get("results") or []:
            if item.get("friendly_name") == name:
                return dict(item)
        form: dict[str, str | None] = {
            "FriendlyName": name,
            "Email": email,
            "PolicySid": policy,
        }
        return self._http.json("POST", f"{self._trusthub}/{kind}", data=form) or {}

    def _profile_objects(
        self, brand: Mapping[str, Any], name: str, sole: bool, end_users: dict[str, str]
    ) -> list[str]:
        """The sids to assign to the customer profile (made if missing)."""
        if sole:
            person = _person(brand, representative=False)
            return [
                self._end_user(
                    name + "/s", "starter_customer_profile_information", person, end_users
                )
            ]
        objects = [
            self._end_user(
                name + "/b", "customer_profile_business_information", _business(brand), end_users
            ),
            self._end_user(
                name + "/r", "authorized_representative_1", _representative(brand), end_users
            ),
            self._address_document(brand, name + "/a"),
        ]
        if self._http.config.primary_profile_sid:
            objects.append(self._http.config.primary_profile_sid)
        return objects

    def _assemble(
        self, kind: str, bundle: Mapping[str, Any], objects: list[str]
    ) -> RegistrationAnswer | None:
        """Assign ``objects`` to the bundle (those not yet assigned), evaluate it, and
        submit it when compliant. The action_required answer when it is not."""
        sid = path_part(str(bundle["sid"]))
        url = f"{self._trusthub}/{kind}/{sid}"
        assigned = {
            str(a.get("object_sid")) for a in self._http.list_items(f"{url}/EntityAssignments")
        }
        for object_sid in objects:
            if object_sid not in assigned:
                self._http.json("POST", f"{url}/EntityAssignments", data={"ObjectSid": object_sid})
        evaluation = self._http.json(
            "POST", f"{url}/Evaluations", data={"PolicySid": str(bundle["policy_sid"])}
        )
        stopped = evaluation_answer(str(bundle["sid"]), evaluation)
        if stopped is None:
            self._http.json("POST", url, data={"Status": BUNDLE_SUBMITTED})
        return stopped

    def _end_users(self) -> dict[str, str]:
        """The account's end users by FriendlyName (one listing for a whole brand step)."""
        return {
            str(item.get("friendly_name")): str(item["sid"])
            for item in self._http.list_items(f"{self._trusthub}/EndUsers")
        }

    def _end_user(
        self, name: str, kind: str, attributes: Mapping[str, Any], known: dict[str, str]
    ) -> str:
        """The end user named ``name`` in ``known`` (``_end_users``), made if missing (and
        then added to ``known``)."""
        if name not in known:
            form = {"FriendlyName": name, "Type": kind, "Attributes": json.dumps(attributes)}
            created = self._http.json("POST", f"{self._trusthub}/EndUsers", data=form) or {}
            known[name] = str(created["sid"])
        return known[name]

    def _address_document(self, brand: Mapping[str, Any], name: str) -> str:
        """A supporting document (``customer_profile_address``) over the business's
        Address (api_v2010 ``Addresses.json``, outside the reference subset)."""
        for item in self._http.list_items(f"{self._trusthub}/SupportingDocuments"):
            if item.get("friendly_name") == name:
                return str(item["sid"])
        address_sid = self._address(brand, name)
        form = {
            "FriendlyName": name,
            "Type": "customer_profile_address",
            "Attributes": json.dumps({"address_sids": address_sid}),
        }
        created = self._http.json("POST", f"{self._trusthub}/SupportingDocuments", data=form)
        return str((created or {})["sid"])

    def _address(self, brand: Mapping[str, Any], name: str) -> str:
        listed = self._http.json("GET", self._addresses, params={"FriendlyName": name})
        for item in (listed or {}).get("addresses") or []:
            if item.get("friendly_name") == name:
                return str(item["sid"])
        form: Form = {
            "FriendlyName": name,
            "CustomerName": str(brand.get("companyName") or ""),
            "Street": str(brand.get("address") or ""),
            "City": str(brand.get("city") or ""),
            "Region": str(brand.get("state") or ""),
            "PostalCode": str(brand.get("zipCode") or ""),
            "IsoCountry": str(brand.get("country") or "US"),
        }
        return str((self._http.json("POST", self._addresses, data=form) or {})["sid"])

    # --- BrandRegistrations -----------------------------------------------------------------

    def _registration(
        self, profile_sid: str, product_sid: str, brand: Mapping[str, Any], sole: bool
    ) -> Mapping[str, Any]:
        for item in self._http.list_items(self._a2p, key="data"):
            if item.get("customer_profile_bundle_sid") == profile_sid:
                return item
        low_volume = brand.get("brandType") == "LOW_VOLUME_STANDARD"
        form: Form = {
            "CustomerProfileBundleSid": profile_sid,
            "A2PProfileBundleSid": product_sid,
            "BrandType": "SOLE_PROPRIETOR" if sole else "STANDARD",
            "Mock": "true" if self._http.config.a2p_mock else None,
            "SkipAutomaticSecVet": "true" if low_volume else None,
        }
        return self._http.json("POST", self._a2p, data=form) or {}


def _business_type(brand: Mapping[str, Any]) -> str:
    if brand.get("entity") == "NON_PROFIT":
        return "Non-profit Corporation"
    name = str(brand.get("companyName") or "").upper().replace(".", "")
    return "Limited Liability Corporation" if name.endswith(" LLC") else "Corporation"


def _business(brand: Mapping[str, Any]) -> dict[str, str]:
    vertical = str(brand.get("vertical") or "")
    return {
        "business_name": str(brand.get("companyName") or ""),
        "business_identity": "direct_customer",
        "business_type": _business_type(brand),
        "business_industry": INDUSTRIES.get(vertical, vertical),
        "business_registration_identifier": "EIN",
        "business_registration_number": str(brand.get("registrationNumber") or ""),
        "business_regions_of_operation": "USA_AND_CANADA",
        "website_url": str(brand.get("website") or ""),
        "social_media_profile_urls": "",
    }


def _representative(brand: Mapping[str, Any]) -> dict[str, str]:
    return {
        **_person(brand, representative=True),
        "business_title": str(brand.get("authorizedRepTitle") or ""),
        "job_position": str(brand.get("authorizedRepJobPosition") or ""),
    }


def _person(brand: Mapping[str, Any], *, representative: bool) -> dict[str, str]:
    """The authorized representative (the form's ``authorizedRep*`` fields; the brand's
    contact email and phone when the representative's are left empty)."""
    return {
        "first_name": str(brand.get("authorizedRepFirstName") or ""),
        "last_name": str(brand.get("authorizedRepLastName") or ""),
        "email": str(brand.get("authorizedRepEmail") or brand.get("contactEmail") or ""),
        "phone_number": str(brand.get("authorizedRepPhone") or brand.get("contactPhone") or ""),
    } | ({} if representative else {"brand_name": str(brand.get("displayName") or "")})


def _messaging_type(sole: bool) -> str:
    return "sole_proprietor_information" if sole else "us_a2p_messaging_profile_information"


def _messaging(brand: Mapping[str, Any], sole: bool) -> dict[str, str]:
    if sole:
        return _person(brand, representative=False)
    company = COMPANY_TYPES.get(str(brand.get("entity") or ""), "private")
    attributes = {
        "company_type": company,
        "brand_contact_email": str(brand.get("contactEmail") or ""),
    }
    if company == "public":
        attributes["stock_exchange"] = str(brand.get("stockExchange") or "")
        attributes["stock_ticker"] = str(brand.get("stockSymbol") or "")
    return attributes
