"""The text rule's refusals in detail (``domain/text.py``) and the gates that apply it
(``checked_info`` of the agent directory, the compliance payload's text check): each refusal
names the field as the API spells it, with the rule that failed and its words."""

from __future__ import annotations

from typing import Any

import pytest

from domain.agent_directory import AgentInfo, checked_info
from domain.application import SmsChannels
from domain.compliance.shape import check_compliance
from domain.errors import ComplianceInvalidError, FieldProblem, InvalidTextError
from domain.service.directory import remove_agent, upsert_agent
from domain.text import NAME_MAX_LENGTH, check_free_text, check_id, check_name
from providers.sandbox import SandboxProvider


def refused(check: Any) -> InvalidTextError:
    with pytest.raises(InvalidTextError) as error:
        check()
    return error.value


@pytest.mark.parametrize("blank", ["", "   ", "\u3000"])
def test_a_blank_name_is_refused_as_empty(blank: str) -> None:
    error = refused(lambda: check_name(blank, "name"))
    assert (error.field, error.rule, error.message) == (
        "name", "empty", "This text may not be empty.",
    )  # fmt: skip


def test_a_name_may_be_as_long_as_its_cap_and_no_longer() -> None:
    assert check_name("n" * NAME_MAX_LENGTH, "name") == "n" * NAME_MAX_LENGTH
    error = refused(lambda: check_name("n" * (NAME_MAX_LENGTH + 1), "workspaceName"))
    assert (error.field, error.rule, error.message) == (
        "workspaceName", "too_long", f"This text is at most {NAME_MAX_LENGTH} characters.",
    )  # fmt: skip
    assert refused(lambda: check_name("abcd", "x", max_length=3)).message == (
        "This text is at most 3 characters."
    )


GOOD_INFO = AgentInfo("ws_1", "Support", "Ava", "kb_1", "Help centre")


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"workspace_id": "ws 1"}, "workspaceId"),
        ({"workspace_name": "Sup\u202eport"}, "workspaceName"),
        ({"name": ""}, "name"),
        ({"knowledge_base_id": "kb\n1"}, "knowledgeBaseId"),
        ({"knowledge_base_name": "Help\x00"}, "knowledgeBaseName"),
    ],
)
def test_each_field_of_an_agents_details_is_checked_under_its_own_name(
    bad: dict[str, str], field: str
) -> None:
    values = {**GOOD_INFO.__dict__, **bad}
    assert refused(lambda: checked_info(AgentInfo(**values))).field == field


def test_an_agent_without_a_knowledge_base_passes() -> None:
    info = AgentInfo("ws_1", "Support", "Ava", None, None)
    assert checked_info(info) == info


@pytest.mark.parametrize(
    ("account", "agent", "field"), [("acc 1", "agent_1", "acc"), ("acc", "agent 1", "agentId")]
)
def test_the_directorys_writes_name_the_id_at_fault(account: str, agent: str, field: str) -> None:
    app = SmsChannels(SandboxProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert refused(lambda: upsert_agent(app, account, agent, GOOD_INFO)).field == field
    assert refused(lambda: remove_agent(app, account, agent)).field == field


def compliance_problems(payload: dict[str, Any]) -> list[FieldProblem]:
    with pytest.raises(ComplianceInvalidError) as error:
        check_compliance(payload)
    return list(error.value.problems)


def test_each_text_of_a_payload_breaking_the_text_rule_is_named_with_its_rule() -> None:
    payload = {
        "brand": {"displayName": "Acme\x00", "city": "Oakland"},
        "campaign": {"messageSamples": ["fine", "bad\u202e", None, "also\x07bad"]},
    }
    assert [(p.field, p.code) for p in compliance_problems(payload)] == [
        ("brand.displayName", "nul_character"),
        ("campaign.messageSamples.1", "control_character"),
        ("campaign.messageSamples.3", "control_character"),
    ]
    (problem,) = compliance_problems({"brand": {"city": "Oak\x00land"}})
    assert (problem.field, problem.code, problem.message) == (
        "brand.city", "nul_character", "Text may not contain NUL characters.",
    )  # fmt: skip


def test_line_breaks_in_a_payloads_texts_are_allowed() -> None:
    payload = {"campaign": {"messageFlow": "Line one\nline two\r\n\tend"}}
    assert check_compliance(payload) == payload


def test_each_refusal_of_the_text_rule_says_why_in_its_own_words() -> None:
    cases = [
        (lambda: check_name("a\ud800b", "name"), "invalid_unicode",
         "Text may not contain lone surrogates."),
        (lambda: check_free_text("a\u202eb", "reason"), "control_character",
         "Text may not contain control, format or unassigned characters here."),
        (lambda: check_free_text("x" * 5, "reason", max_length=4), "too_long",
         "This text is at most 4 characters."),
        (lambda: check_id("", "acc"), "empty", "This id may not be empty."),
        (lambda: check_id("a" * 5, "acc", max_length=4), "too_long",
         "Ids are at most 4 characters."),
    ]  # fmt: skip
    for check, rule, message in cases:
        error = refused(check)
        assert (error.rule, error.message) == (rule, message)
    assert refused(lambda: check_free_text("\ud800", "reason")).field == "reason"


def test_an_id_outside_its_alphabet_names_the_alphabet_and_an_empty_one_its_field() -> None:
    error = refused(lambda: check_id("-leading", "agentId"))
    assert (error.field, error.rule, error.message) == (
        "agentId",
        "invalid_id",
        "Ids use ASCII letters, digits and _ . : @ / + = | - (from a letter or digit).",
    )
    assert refused(lambda: check_id("", "workspaceId")).field == "workspaceId"
