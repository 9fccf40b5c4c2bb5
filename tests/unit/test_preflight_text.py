"""The text helpers of the preflight (``domain/preflight_text.py``) on their own: which words
of a text read as an email address (punctuation around a word is not part of it)."""

from __future__ import annotations

import pytest

from domain.preflight_text import emails_in


@pytest.mark.parametrize(
    "text",
    [
        "Write to help@acmedental.com.",
        "Write to help@acmedental.com, or call.",
        "Support: <help@acmedental.com>",
        'Support: "help@acmedental.com"',
        "Support (help@acmedental.com)!",
        "Support [help@acmedental.com]?",
        "Mail X@acmedental.com for help",
    ],
)
def test_an_email_address_is_found_whatever_punctuation_surrounds_it(text: str) -> None:
    assert emails_in(text)


@pytest.mark.parametrize(
    "text", ["Reply HELP for help.", "Ask @acme on social media.", "help@ for help", "a@b"]
)
def test_a_text_without_a_valid_email_address_has_none(text: str) -> None:
    assert not emails_in(text)
