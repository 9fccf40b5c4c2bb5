"""The JSON Schemas of everything the service publishes, and the compatibility rule they
evolve by.

One schema per event type and one for the routing value, committed under
``workers/feeds/schemas/`` (a test keeps each equal to its model); the released versions are
kept under ``workers/feeds/schemas/released/``. A schema may only change compatibly with its
released version: no property removed or retyped (an enum may gain values), and no new
required property, except one the released version already declared as a constant with a
default (it was always sent: saying so in ``required`` changes no message).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from workers.feeds.contracts import (
    ChannelConnectedV1,
    ChannelDisconnectedV1,
    ChannelRegistrationChangedV1,
    ChannelUpdatedV1,
    RoutingValueV1,
    RoutingValueV2,
)

SCHEMAS_DIR = Path(__file__).with_name("schemas")
RELEASED_DIR = SCHEMAS_DIR / "released"
_IGNORED_KEYWORDS = frozenset({"title", "description", "default"})


@dataclass(frozen=True)
class PublishedSchema:
    """A published value's name (its ``eventType``), version and model."""

    name: str
    version: int
    model: type[BaseModel]

    @property
    def file_name(self) -> str:
        return f"{self.name}.v{self.version}.json"

    def json_schema(self) -> dict[str, Any]:
        """The schema generated from the model (what every produced message satisfies)."""
        schema = self.model.model_json_schema(by_alias=True, mode="serialization")
        schema["$id"] = f"urn:sms-channels:schema:{self.name}:v{self.version}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        return schema

    def committed(self) -> dict[str, Any]:
        return _load(SCHEMAS_DIR / self.file_name)

    def released(self) -> dict[str, Any] | None:
        path = RELEASED_DIR / self.file_name
        return _load(path) if path.exists() else None


PUBLISHED: tuple[PublishedSchema, ...] = (
    PublishedSchema("channel.connected", 1, ChannelConnectedV1),
    PublishedSchema("channel.updated", 1, ChannelUpdatedV1),
    PublishedSchema("channel.disconnected", 1, ChannelDisconnectedV1),
    PublishedSchema("channel.registration_changed", 1, ChannelRegistrationChangedV1),
    PublishedSchema("sms.routing", 1, RoutingValueV1),
    PublishedSchema("sms.routing", 2, RoutingValueV2),
)


def by_name(name: str, version: int = 1) -> PublishedSchema:
    return next(s for s in PUBLISHED if s.name == name and s.version == version)


def incompatibilities(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Why ``current`` may break a consumer of ``released`` (empty: compatible)."""
    old, new = released.get("properties", {}), current.get("properties", {})
    problems = [f"{name}: removed" for name in old if name not in new]
    problems += [
        f"{name}: retyped" for name in old if name in new and not _compatible(old[name], new[name])
    ]
    added = set(current.get("required", ())) - set(released.get("required", ()))
    problems += [f"{name}: newly required" for name in sorted(added) if not _always_sent(old, name)]
    return problems


def _always_sent(old: dict[str, Any], name: str) -> bool:
    prop = old.get(name, {})
    return "const" in prop and prop.get("default") == prop["const"]


def _compatible(old: Any, new: Any) -> bool:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return bool(old == new)
    if "enum" in old and "enum" in new and not set(old["enum"]) <= set(new["enum"]):
        return False
    keys = (set(old) | set(new)) - _IGNORED_KEYWORDS - {"enum"}
    return all(_compatible(old.get(key), new.get(key)) for key in keys)


def _load(path: Path) -> dict[str, Any]:
    import json  # noqa: PLC0415

    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded
