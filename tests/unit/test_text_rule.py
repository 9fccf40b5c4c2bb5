"""The one text rule (domain/text.py): what may reach the event log, by property."""

from __future__ import annotations

import unicodedata

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.application import SmsChannels
from domain.errors import InvalidTextError
from domain.text import (
    ID_MAX_LENGTH,
    check_free_text,
    check_id,
    check_name,
    clean_provider_text,
)
from workers.directory_consumer import apply_message

FORBIDDEN = ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn")
forbidden_character = st.characters(categories=FORBIDDEN).filter(
    lambda ch: ch not in "\t\n\r\u200d"
)
ID_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@/+=|-"


@given(st.text(), forbidden_character, st.text())
def test_a_name_or_free_text_holding_a_forbidden_character_is_refused(
    before: str, bad: str, after: str
) -> None:
    value = "n" + before + bad + after
    for check in (check_name, check_free_text):
        with pytest.raises(InvalidTextError) as caught:
            check(value, "field", max_length=100_000)
        assert caught.value.field == "field"
        assert value not in caught.value.message


@given(st.text(st.sampled_from(ID_CHARACTERS), min_size=1, max_size=ID_MAX_LENGTH - 1))
def test_ids_of_the_id_alphabet_starting_with_a_letter_or_digit_pass_unchanged(tail: str) -> None:
    value = "a" + tail
    assert check_id(value, "agentId") == value


@given(st.text(min_size=1).filter(lambda v: any(ch not in ID_CHARACTERS for ch in v)))
def test_an_id_with_any_character_outside_its_alphabet_is_refused(value: str) -> None:
    with pytest.raises(InvalidTextError):
        check_id(value, "agentId")


def test_ids_over_the_cap_and_empty_ids_are_refused() -> None:
    for value, rule in (("a" * (ID_MAX_LENGTH + 1), "too_long"), ("", "empty")):
        with pytest.raises(InvalidTextError) as caught:
            check_id(value, "acc")
        assert caught.value.rule == rule


@given(st.text(st.characters(exclude_categories=FORBIDDEN), min_size=1, max_size=50))
def test_names_come_back_nfc_and_trimmed(value: str) -> None:
    expected = unicodedata.normalize("NFC", value).strip()
    if not expected:
        with pytest.raises(InvalidTextError):
            check_name(value, "name")
    else:
        assert check_name(value, "name") == expected


def test_free_text_keeps_line_breaks_and_emoji_joiners_exactly() -> None:
    value = "Reply STOP\r\nto opt out \U0001f468\u200d\U0001f469\tthanks"
    assert check_free_text(value, "campaign.optOutMessage") == value


@given(st.text(max_size=300))
def test_provider_text_is_always_made_storable(value: str) -> None:
    cleaned = clean_provider_text(value, max_length=200)
    assert len(cleaned) <= 200
    assert check_free_text(cleaned, "reason") == cleaned


def test_an_agents_topic_message_breaking_the_text_rule_is_the_messages_fault(
    memory_app: SmsChannels,
) -> None:
    message = {
        "type": "agent.upserted",
        "eventId": "e-1",
        "occurredAt": "2026-12-01T10:00:00Z",
        "accountId": "acc_1",
        "agentId": "agent_1",
        "workspaceId": "ws_1",
        "workspaceName": "Support",
        "name": "evil\u0000name",
    }
    # ValueError: the consumer sends it to the dead-letter topic instead of retrying forever.
    with pytest.raises(ValueError, match="name: nul_character"):
        apply_message(memory_app, orjson.dumps(message))
    assert memory_app.current_position() == 0
