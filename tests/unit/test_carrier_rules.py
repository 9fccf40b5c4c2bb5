"""Rules of issue 31's per-carrier registration outside the flows (``domain.carriers``,
``domain.ids``): a carrier's suspension or expiry is the level's status, the channels
table's badge keeps the worst status per carrier across levels, Twilio's AT&T ``tpm`` and
T-Mobile ``daily_cap`` reach the throughput, and a brand registration's keyed id is a
version-8 UUID that stays the same for the same business."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

import pytest

from domain.carriers import CarrierState, badges_of, honest_status
from domain.ids import keyed_brand_registration_id
from providers.twilio.statuses import twilio_throughput


@pytest.mark.parametrize("refusal", ["rejected", "suspended", "expired"])
def test_a_carriers_refusal_is_the_levels_status(refusal: str) -> None:
    carriers = (CarrierState("att", "approved"), CarrierState("tmobile", refusal))  # type: ignore[arg-type]
    assert honest_status("approved", carriers) == refusal
    assert honest_status("pending", carriers) == refusal


def test_the_badge_keeps_the_worst_status_of_each_carrier_across_levels() -> None:
    badge = badges_of(["campaign:att:rejected", "number:att:approved", "number:tmobile:pending"])
    assert badge is not None
    assert {(c.carrier, c.status) for c in badge} == {("att", "rejected"), ("tmobile", "pending")}


def test_twilios_att_tpm_and_tmobile_daily_cap_reach_the_throughput() -> None:
    found = twilio_throughput(rate_limits={"att": {"tpm": 4500}, "tmobile": {"daily_cap": 2000}})
    assert found is not None
    assert (found.att_tpm, found.tmobile_daily_cap) == (4500, 2000)


def test_a_brand_registrations_keyed_id_is_a_stable_version_8_uuid() -> None:
    key = b"k" * 32
    found = keyed_brand_registration_id(key, "acc", "ein:123456789")
    assert found == UUID("560bb71d-b9b3-8f24-802d-849e917db3b9")  # the stored data's meaning
    assert (found.version, found.variant) == (8, "specified in RFC 4122")
    assert keyed_brand_registration_id(key, "acc", "ein:123456780") != found
    assert keyed_brand_registration_id(key, "acc2", "ein:123456789") != found


def test_a_keyed_id_is_the_hmac_with_only_the_version_and_variant_bits_set() -> None:
    key = b"k" * 32
    for n in range(32):  # enough identities for every bit of bytes 6 and 8 to be 0 and 1
        identity = f"ein:{123456700 + n}"
        digest = hmac.new(key, f"3:acc|brand|{identity}".encode(), hashlib.sha256).digest()
        found = keyed_brand_registration_id(key, "acc", identity).bytes
        assert found[:6] + found[7:8] + found[9:] == digest[:6] + digest[7:8] + digest[9:16]
        assert found[6] == 0x80 | (digest[6] & 0x0F)  # version 8, the hash's low nibble
        assert found[8] == 0x80 | (digest[8] & 0x3F)  # variant 10, the hash's low six bits
