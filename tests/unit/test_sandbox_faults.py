"""``sms-channels sandbox fail-next purchase``: an armed fault fails the next purchases as an
outage after the number was bought (the answer lost), then the sandbox behaves again."""

from __future__ import annotations

import pytest

from domain.providers import ProviderUnavailableError
from providers.sandbox import SandboxProvider


def test_an_armed_purchase_fault_fails_once_after_the_number_is_held() -> None:
    provider = SandboxProvider()
    number = provider.search("US", "415", None, 2)[0].phone_number
    provider.fail_next("purchase", 1)
    with pytest.raises(ProviderUnavailableError):
        provider.purchase("US", number, reference="conn-1")
    held = provider.holding(number)
    assert held is not None
    assert held.reference == "conn-1"
    other = provider.search("US", "415", None, 2)[0].phone_number
    assert provider.purchase("US", other, reference="conn-2").ref.startswith("PN")


def test_zero_disarms_the_fault() -> None:
    provider = SandboxProvider()
    provider.fail_next("purchase", 3)
    provider.fail_next("purchase", 0)
    number = provider.search("US", "415", None, 1)[0].phone_number
    assert provider.purchase("US", number, reference="conn-1").ref.startswith("PN")
