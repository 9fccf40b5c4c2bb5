"""The blank form: a connection that never had compliance data answers empty defaults whose
yes/no questions are unanswered (null), so saving it untouched answers nothing."""

from __future__ import annotations

from domain.compliance.progress import compliance_progress
from domain.compliance.shape import check_compliance, empty_compliance

YES_NO = ("numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent")


def test_the_yes_no_questions_start_unanswered() -> None:
    campaign = empty_compliance()["campaign"]
    assert {campaign[name] for name in (*YES_NO, "termsAndConditions")} == {None}


def test_the_blank_form_is_a_valid_draft() -> None:
    assert check_compliance(empty_compliance()) == empty_compliance()


def test_saving_the_blank_form_counts_no_question_as_answered() -> None:
    progress = compliance_progress(empty_compliance())
    (attributes,) = [s for s in progress.sections if s.name == "campaign_attributes"]
    assert [f"campaign.{name}" for name in YES_NO] == attributes.missing[: len(YES_NO)]


def test_an_explicit_no_counts_as_an_answer() -> None:
    payload = empty_compliance()
    payload["campaign"].update(dict.fromkeys(YES_NO, False), termsAndConditions=True)
    (attributes,) = [
        s for s in compliance_progress(payload).sections if s.name == "campaign_attributes"
    ]
    assert attributes.complete
