"""The packages import one way (README, "How the code is laid out"): the domain imports
none of ours, only the entry points (``sms_channels.cli``) import ``api``, and the wiring
(``sms_channels``) imports neither the API nor the entry points."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "providers", "projections", "workers", "sms_channels", "api")
CLI = "sms_channels.cli"
ALLOWED = {
    "domain": set(),
    "providers": {"domain"},
    "projections": {"domain"},
    "workers": {"domain", "projections"},
    "sms_channels": {"domain", "providers", "projections", "workers"},
    "api": {"domain", "projections", "sms_channels"},
    CLI: {"domain", "providers", "projections", "workers", "sms_channels", "api"},
}


def _package_of(module: str) -> str | None:
    if module == CLI or module.startswith(CLI + "."):
        return CLI
    head = module.split(".", maxsplit=1)[0]
    return head if head in PACKAGES else None


def imports() -> dict[str, set[str]]:
    """Each package → the packages of ours its modules import (itself left out)."""
    found: dict[str, set[str]] = {name: set() for name in ALLOWED}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            source = _package_of(module)
            assert source is not None
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                for name in names:
                    target = _package_of(name)
                    if target is not None and target != source:
                        found[source].add(target)
    return found


def test_every_package_imports_only_the_packages_below_it() -> None:
    for package, targets in imports().items():
        assert targets <= ALLOWED[package], (package, targets - ALLOWED[package])


def test_only_the_entry_points_import_the_api() -> None:
    importers = {package for package, targets in imports().items() if "api" in targets}
    assert importers == {CLI}
