"""The text helpers of the preflight (``domain/preflight_text.py``) on their own: which words
of a text read as an email address (punctuation around a word is not part of it), when a
text is mostly outside the Latin script (links and template fields left out), and what
reads as a placeholder sample."""

from __future__ import annotations

import pytest

from domain.compliance.recognisers import emails_in, mostly_non_latin, placeholder_in, without_links


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


CYRILLIC = "приветмир"  # nine letters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("приветми", True),  # eight letters, all foreign: the minimum counted
        ("приветм", False),  # seven: too few to judge
        ("abcdefgжзи", False),  # exactly 30 % foreign: not more than the share
        ("abcdefgжзий", True),  # 4 of 11
        ("abcdefghiж", False),  # 1 of 10
        ("abcdefghжз", False),  # 2 of 10
        ("éèêëàâçœéè crème brûlée", False),  # accented Latin is Latin
    ],
)
def test_a_text_is_mostly_non_latin_above_its_share_of_foreign_letters(
    text: str, expected: bool
) -> None:
    assert mostly_non_latin(text) is expected


def test_links_and_template_fields_count_no_letters() -> None:
    links = " ".join(f"https://x{n}.example.com" for n in range(8))
    fields = " ".join(f"[f{n}]" for n in range(8))
    assert mostly_non_latin(f"{CYRILLIC} {links}")
    assert mostly_non_latin(f"{CYRILLIC} {fields}")
    assert without_links("a https://x.example.com b [name] c") == "a   b   c"


def test_a_sample_that_is_only_a_template_field_and_test_is_a_placeholder() -> None:
    assert placeholder_in("[First name] test")
    assert not placeholder_in("[First name], your appointment is at 3pm.")


def test_letters_without_a_unicode_name_count_as_non_latin() -> None:
    tangut = "\U00017000\U00017001\U00017002" * 10  # alphabetic, unnamed in unicodedata
    assert mostly_non_latin(tangut)
