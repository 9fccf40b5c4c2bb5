"""SMS_PROVIDER=telnyx settings and wiring: what Telnyx mode needs, the key kept out of the
settings' repr, a public key that is not Ed25519 refused at start-up, and the adapter and
verifier bootstrap builds; plus the status maps' totality (Hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from domain.carriers import CARRIER_STATUSES, CARRIERS
from domain.registration_levels import PROVIDER_STATUSES
from providers.telnyx import TelnyxProvider, TelnyxWebhookVerifier
from providers.telnyx.statuses import CAMPAIGN_STATUSES, campaign_answer, failure_reasons
from sms_channels.bootstrap import build_provider, build_webhook_verifier
from sms_channels.settings import Settings
from tests.support.fake_telnyx import PUBLIC_KEY

CANARY = "KEYcanary-0123456789abcdef"


def telnyx(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sms_provider": "telnyx",
        "telnyx_api_key": SecretStr(CANARY),
        "telnyx_public_key": PUBLIC_KEY,
        "telnyx_messaging_profile_id": "40017f8e-49bd-4f16-9e3d-ef103f916228",
        "public_base_url": "https://sms.example.com",
        "persistence": "memory",
        **overrides,
    }
    return Settings(**values)


def test_telnyx_mode_with_everything_misses_nothing_and_builds_the_adapter() -> None:
    settings = telnyx()
    assert settings.missing_for_provider() == []
    provider = build_provider(settings)
    assert isinstance(provider, TelnyxProvider)
    assert isinstance(build_webhook_verifier(settings), TelnyxWebhookVerifier)
    assert CANARY not in repr(settings)
    assert CANARY not in repr(provider._config)
    provider.close()


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("telnyx_api_key", "TELNYX_API_KEY"),
        ("telnyx_public_key", "TELNYX_PUBLIC_KEY"),
        ("telnyx_messaging_profile_id", "TELNYX_MESSAGING_PROFILE_ID"),
        ("public_base_url", "PUBLIC_BASE_URL"),
    ],
)
def test_each_missing_setting_is_named(field: str, name: str) -> None:
    assert telnyx(**{field: None}).missing_for_provider() == [name]


def test_a_public_key_that_is_not_ed25519_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="TELNYX_PUBLIC_KEY"):
        telnyx(telnyx_public_key="c2hvcnQ=")  # base64, but 5 bytes


@given(
    st.one_of(st.sampled_from(sorted(CAMPAIGN_STATUSES)), st.text(max_size=20)),
    st.one_of(st.none(), st.dictionaries(st.text(max_size=6), st.text(max_size=12))),
)
def test_any_campaign_answer_is_in_the_domains_words(
    raw: str, operation: dict[str, str] | None
) -> None:
    answer = campaign_answer({"campaignId": "c-1", "campaignStatus": raw}, operation)
    assert answer.status is None or answer.status in PROVIDER_STATUSES
    assert (answer.status is None) == (raw not in CAMPAIGN_STATUSES)
    for carrier in answer.carriers or ():
        assert carrier.carrier in CARRIERS
        assert carrier.status in CARRIER_STATUSES


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters=";\n"), max_size=30)))
def test_failure_reasons_keep_every_part(parts: list[str]) -> None:
    found = failure_reasons("; ".join(parts))
    kept = [p.strip() for p in parts if p.strip()]
    assert len(found) == len(kept)
    for reason, part in zip(found, kept, strict=True):
        assert reason["description"] in part
