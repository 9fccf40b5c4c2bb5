"""The typed TypeScript client of the channels UI (clients/typescript, issue 20 item 2):
its generated types are exactly what openapi-typescript makes of the served document, and
the examples (one per UI flow) compile with ``tsc --noEmit``.

Needs Node and the client's npm packages (``npm ci`` in clients/typescript: ``make install``
and ``.ci/run`` do it). Without Node the tests skip, unless ``SMS_CHANNELS_REQUIRE_NODE`` is
set (CI sets it: there they must run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import orjson
import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
BIN = CLIENT / "node_modules" / ".bin"


@pytest.fixture(scope="module", autouse=True)
def _node() -> None:
    if (shutil.which("node") is None or not BIN.is_dir()) and not os.environ.get(
        "SMS_CHANNELS_REQUIRE_NODE"
    ):
        pytest.skip("Node or the client's npm packages are not installed (npm ci)")


def _run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_generated_types_match_the_served_document(http: httpx.Client, tmp_path: Path) -> None:
    served = http.get("/openapi.json")
    assert served.status_code == 200
    document = tmp_path / "openapi.json"
    document.write_bytes(served.content)
    generated = tmp_path / "schema.d.ts"
    result = _run(BIN / "openapi-typescript", document, "-o", generated)
    assert result.returncode == 0, result.stderr
    committed = (CLIENT / "src" / "schema.d.ts").read_text()
    assert generated.read_text() == committed, (
        "clients/typescript/src/schema.d.ts is stale: run `npm run generate` there"
    )


def test_the_examples_and_the_contract_usage_compile() -> None:
    """``npm test``: src/ and test/contract.ts (declared headers used, undeclared ones
    refused by the compiler) under ``tsc --strict``."""
    scripts = orjson.loads((CLIENT / "package.json").read_bytes())["scripts"]
    assert scripts["test"] == "tsc --noEmit -p tsconfig.test.json"
    result = _run(BIN / "tsc", "--noEmit", "-p", "tsconfig.test.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_redocly_lint_passes_with_the_recommended_rules(http: httpx.Client, tmp_path: Path) -> None:
    """``redocly lint`` (pinned in package.json), no configuration: the recommended rules.
    Zero errors and zero warnings."""
    document = tmp_path / "openapi.json"
    document.write_bytes(http.get("/openapi.json").content)
    result = _run(BIN / "redocly", "lint", document, "--format=json")
    report = orjson.loads(result.stdout[result.stdout.index("{") :])
    problems = [(p["ruleId"], p["severity"], p["message"]) for p in report["problems"]]
    assert result.returncode == 0, problems
    assert problems == []
