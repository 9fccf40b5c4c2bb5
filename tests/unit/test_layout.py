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


# --- the two floors of the domain (README: the model below, the services above) -----------

DOOR = "domain.application"  # SmsChannels: the one module callers import, over both floors
SERVICE = "domain.service"


def _floor(module: str) -> str:
    if module == DOOR:
        return "door"
    if module == SERVICE or module.startswith(SERVICE + "."):
        return "service"
    return "model"


def domain_imports() -> dict[str, set[str]]:
    """Each domain module → the domain modules it imports."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "domain").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        targets = found.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            targets.update(n for n in names if n == "domain" or n.startswith("domain."))
    return found


def test_the_model_floor_imports_nothing_from_the_service_floor_or_the_door() -> None:
    upward = {
        (module, target)
        for module, targets in domain_imports().items()
        if _floor(module) == "model"
        for target in targets
        if _floor(target) != "model"
    }
    assert upward == set()


def test_the_service_floor_never_imports_the_door() -> None:
    upward = {
        (module, target)
        for module, targets in domain_imports().items()
        if _floor(module) == "service"
        for target in targets
        if _floor(target) == "door"
    }
    assert upward == set()


def test_no_stored_event_or_aggregate_is_defined_on_the_service_floor() -> None:
    # Stored topics name the defining module (``module:Class``): an aggregate or event
    # defined up here would tie stored data to the service floor's layout.
    defined = {
        (path.name, node.name)
        for path in (ROOT / "domain" / "service").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base).startswith(("Aggregate", "Event")) for base in node.bases)
    }
    assert defined == set()
