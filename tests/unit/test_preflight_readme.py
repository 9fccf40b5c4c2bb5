"""README's table of the preflight rules is generated from the rules, never typed twice."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from domain.compliance import preflight
from domain.compliance.preflight import RULES, rules_markdown
from sms_channels.cli import app
from sms_channels.cli.preflight import END, START, with_rules_table

README = Path(__file__).parent.parent.parent / "README.md"


def test_readme_lists_every_rule_exactly_as_generated() -> None:
    readme = README.read_text()
    assert with_rules_table(readme) == readme, (
        "README's preflight rules are out of date: run "
        "`sms-channels preflight rules --readme README.md`"
    )


def test_the_table_has_one_row_per_rule_with_its_codes() -> None:
    rows = rules_markdown().splitlines()[2:]
    assert len(rows) == len(RULES)
    for row, rule in zip(rows, RULES, strict=True):
        assert row.startswith(f"| `{rule.id}` | {rule.severity} |")
        assert all(f"`{code}`" in row for code in rule.codes)


def test_a_stale_table_is_replaced_and_the_rest_kept() -> None:
    stale = f"# Title\n{START}\n| old |\n{END}\nafter\n"
    assert with_rules_table(stale) == f"# Title\n{START}\n{rules_markdown()}{END}\nafter\n"


def test_a_readme_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        with_rules_table("# no table here\n")


def test_the_command_prints_the_table() -> None:
    result = CliRunner().invoke(app, ["preflight", "rules"])
    assert (result.exit_code, result.output) == (0, rules_markdown())


def test_the_command_rewrites_a_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\n{END}\n")
    result = CliRunner().invoke(app, ["preflight", "rules", "--readme", str(readme)])
    assert result.exit_code == 0
    assert readme.read_text() == f"intro\n{START}\n{rules_markdown()}{END}\n"


def test_a_pipe_in_a_rules_summary_is_escaped_so_the_row_keeps_its_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    piped = dataclasses.replace(RULES[0], summary="Help | info reply is missing.", codes=())
    monkeypatch.setattr(preflight, "RULES", (piped,))
    row = rules_markdown().splitlines()[2]
    assert f"| `{piped.id}` | {piped.severity} | — | Help \\| info reply is missing. |" in row
    assert row.count(" | ") == 4
