"""Brand registration ids are keyed (issue 28): HMAC-SHA256 under ``REGISTRATION_ID_KEY``
of the account and the business's identity, so an id no longer gives its EIN away to a
brute force over the 10⁹ EINs (``uuid5`` did). Brands registered by the previous code keep
their ``uuid5`` id: their events load as written, and the account's next submission of the
same business finds them under it instead of registering the business a second time
(``tests/data/events_before_keyed_brand_ids.json``: a brand submitted, created and approved
by the code before this change)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.application import SmsChannels
from domain.ids import brand_registration_id, keyed_brand_registration_id
from domain.registrations import LevelRegistration, brand_identity, registration_ids
from domain.service.commands import ConnectNumber
from providers.sandbox import SandboxProvider
from tests.support.common import unique_us_number
from tests.support.compliance_payloads import GOOD
from tests.support.events import application_with_stored_events

STORED = Path(__file__).parent.parent / "data" / "events_before_keyed_brand_ids.json"
ACCOUNT = "acc_before_keyed_ids"
OLD_CONNECTION = UUID("17027a64-e5fa-4f44-976b-584bc9548f77")
OLD_BRAND = UUID("d1966528-9537-51e0-8be0-b318b3457dda")  # uuid5(account, EIN)
KEY = "k" * 40


@pytest.fixture
def app() -> SmsChannels:
    return application_with_stored_events(
        SandboxProvider(), STORED, env={"REGISTRATION_ID_KEY": KEY}
    )


def submitted(app: SmsChannels, compliance: dict[str, Any]) -> UUID:
    """A new connection of the account with ``compliance``, submitted: its brand id."""
    result = app.connect(
        ConnectNumber(
            account_id=ACCOUNT,
            workspace_id="ws_1",
            agent_id="agent_1",
            mode="new",
            country="US",
            area_code="415",
            phone_number=unique_us_number(),
            requested_by="u1",
        )
    )
    connection_id = result.connection.id
    app.update_compliance(ACCOUNT, connection_id, compliance, by="u1")
    version = app.get_connection(ACCOUNT, connection_id).version
    app.submit_registration(ACCOUNT, connection_id, by="u1", expected_version=version)
    submission = app.get_connection(ACCOUNT, connection_id).submission
    assert submission is not None
    return submission.brand_registration_id


def test_a_keyed_id_is_not_the_uuid5_an_ein_brute_force_would_find() -> None:
    identity = brand_identity(GOOD["brand"])
    keyed = keyed_brand_registration_id(KEY.encode(), ACCOUNT, identity)
    assert keyed != brand_registration_id(ACCOUNT, identity)
    assert keyed.version == 8
    assert keyed != keyed_brand_registration_id(
        b"another key of 32 characters...", ACCOUNT, identity
    )
    assert registration_ids(ACCOUNT, GOOD, KEY.encode())[0] == keyed


def test_the_previous_codes_brand_loads_as_recorded(app: SmsChannels) -> None:
    old = app.get_connection(ACCOUNT, OLD_CONNECTION)
    assert old.submission is not None
    assert old.submission.brand_registration_id == OLD_BRAND
    assert brand_registration_id(ACCOUNT, brand_identity(GOOD["brand"])) == OLD_BRAND
    brand: LevelRegistration = app.repository.get(OLD_BRAND)
    assert (brand.state.status, brand.connection_ids) == ("approved", [OLD_CONNECTION])


def test_the_same_business_submitted_again_keeps_its_first_id(app: SmsChannels) -> None:
    brand_id = submitted(app, GOOD)
    assert brand_id == OLD_BRAND  # the same brand: not registered a second time
    brand: LevelRegistration = app.repository.get(OLD_BRAND)
    assert brand.state.status == "approved"
    assert len(brand.connection_ids) == 2


def test_a_new_business_gets_a_keyed_id(app: SmsChannels) -> None:
    other = copy.deepcopy(GOOD)
    other["brand"]["registrationNumber"] = "98-7654321"
    brand_id = submitted(app, other)
    assert brand_id == keyed_brand_registration_id(
        KEY.encode(), ACCOUNT, brand_identity(other["brand"])
    )
    assert brand_id != brand_registration_id(ACCOUNT, brand_identity(other["brand"]))


def test_without_a_key_a_brand_keeps_the_first_derivation_of_its_id() -> None:
    app = SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    brand_id = submitted(app, GOOD)
    assert brand_id == brand_registration_id(ACCOUNT, brand_identity(GOOD["brand"]))


def test_a_keyed_brand_stays_the_brands_even_beside_one_under_its_first_id() -> None:
    # A keyed brand exists; a registration also exists under the first (uuid5) id (say,
    # recorded while the key was unset): the keyed one is the business's brand, for any
    # of its campaigns.
    app = SmsChannels(
        SandboxProvider(),
        env={"PERSISTENCE_MODULE": "eventsourcing.popo", "REGISTRATION_ID_KEY": KEY},
    )
    keyed = submitted(app, GOOD)
    first = brand_registration_id(ACCOUNT, brand_identity(GOOD["brand"]))
    assert keyed != first
    app.save(LevelRegistration.open(
        registration_id=first, level="brand", account_id=ACCOUNT, digest="d"))  # fmt: skip
    other = copy.deepcopy(GOOD)
    other["campaign"]["optInKeywords"] = "START,JOIN"  # another campaign of the business
    assert submitted(app, other) == keyed
