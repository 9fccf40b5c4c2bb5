"""docs/registration.md's "Business moment → event" table names events that exist: each
``Aggregate.Event`` of a row is an event class nested in its aggregate, in one of the modules
the row cites (a renamed event or a moved module shows here, not in a newcomer's search)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from eventsourcing.domain import DomainEvent

DOC = Path(__file__).parents[2] / "docs" / "registration.md"
SECTION = "## Business moment → event"
AGGREGATES = ("SmsConnection", "LevelRegistration", "RegistrationRef", "ProviderDelivery")
EVENT = re.compile(r"`(" + "|".join(AGGREGATES) + r")\.([A-Za-z]+)`")
MODULE = re.compile(r"`(domain/[a-z_/]+)\.py`")


def _rows() -> list[str]:
    text = DOC.read_text()
    section = text[text.index(SECTION) :].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][
        1:
    ]


def _event_class(modules: list[str], aggregate: str, name: str) -> type | None:
    for path in modules:
        module = importlib.import_module(path.replace("/", "."))
        owner = getattr(module, aggregate, None)
        found = getattr(owner, name, None)
        if isinstance(found, type):
            return found
    return None


def test_every_event_the_table_names_is_an_event_class_of_a_module_its_row_cites() -> None:
    rows = _rows()
    assert len(rows) >= 20
    named = 0
    for row in rows:
        _, event_cell, module_cell, _ = (cell.strip() for cell in row.strip("| ").split("|"))
        modules = MODULE.findall(module_cell)
        for aggregate, name in EVENT.findall(event_cell):
            found = _event_class(modules, aggregate, name)
            assert found is not None, f"{aggregate}.{name} is not in {modules}: {row[:60]}"
            assert issubclass(found, DomainEvent), f"{aggregate}.{name} is not an event"
            named += 1
    assert named >= 25


def test_the_table_names_the_event_of_a_carrier_refusing_a_campaign() -> None:
    (row,) = [r for r in _rows() if r.startswith("| a carrier refuses a campaign")]
    assert "`LevelRegistration.StatusChanged`" in row
    assert "`SmsConnection.RegistrationLevelChanged`" in row
