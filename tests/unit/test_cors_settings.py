"""CORS_ALLOW_ORIGINS: a comma-separated list of origins; anything else stops the start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sms_channels.settings import Settings


def test_unset_or_empty_means_no_cors() -> None:
    assert Settings().cors_origins == []
    assert Settings(cors_allow_origins=" , ").cors_origins == []


def test_origins_are_split_and_trimmed() -> None:
    settings = Settings(cors_allow_origins="https://app.example.com, http://localhost:3000")
    assert settings.cors_origins == ["https://app.example.com", "http://localhost:3000"]


@pytest.mark.parametrize("value", ["https://app.example.com/", "app.example.com", "ftp://x.y"])
def test_a_value_that_is_not_an_origin_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="CORS_ALLOW_ORIGINS"):
        Settings(cors_allow_origins=value)
