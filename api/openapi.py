"""What makes the served OpenAPI document readable by tools (openapi-typescript, redocly,
schemathesis), applied to every operation, so routes added later need nothing of their own:

* ``$defs`` nested in inline schemas (pydantic's ``model_json_schema()`` passed through
  ``openapi_extra``) are registered under ``components/schemas`` and their ``#/$defs/X``
  references rewritten to ``#/components/schemas/X``;
* an operation without a security requirement says so with ``security: []``;
* header parameters are strings, never null, and an operation that answers 428 without
  ``If-Match`` declares that header required;
* ``info.license`` is set.
"""

from __future__ import annotations

from typing import Any

LICENSE = {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}
_LOCAL_DEFS = "#/$defs/"
_COMPONENTS = "#/components/schemas/"


def finish_document(document: dict[str, Any]) -> None:
    """Apply the rules above to ``document`` in place."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            hoist_defs(operation, schemas)
            operation.setdefault("security", [])
            _tidy_headers(operation)
    hoist_defs(schemas, schemas)
    document.setdefault("info", {}).setdefault("license", LICENSE)


def _tidy_headers(operation: dict[str, Any]) -> None:
    """A header is a string or absent, never null: ``anyOf [X, null]`` becomes X. And an
    operation that answers 428 without ``If-Match`` declares it required."""
    required = "428" in operation.get("responses", {})
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "header":
            continue
        schema = parameter["schema"]
        options = [o for o in schema.pop("anyOf", []) if o != {"type": "null"}]
        if len(options) == 1:
            schema.update(options[0])
        if required and parameter.get("name") == "If-Match":
            parameter["required"] = True


def hoist_defs(node: Any, schemas: dict[str, Any]) -> None:
    """Move every ``$defs`` under ``node`` into ``schemas`` and point its references there
    (iterative: a deep document costs no stack). A name already registered is kept: pydantic
    names a model the same wherever it appears."""
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for name, schema in value.pop("$defs", {}).items():
                schemas.setdefault(name, schema)
                stack.append(schema)
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith(_LOCAL_DEFS):
                value["$ref"] = _COMPONENTS + ref.removeprefix(_LOCAL_DEFS)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def unresolved_references(document: dict[str, Any]) -> list[str]:
    """Every ``$ref`` of ``document`` that does not resolve inside it (JSON Pointer, RFC
    6901): what ``redocly lint`` reports as unresolved."""
    missing: list[str] = []
    stack: list[Any] = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and not _resolves(document, ref):
                missing.append(ref)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return missing


def _resolves(document: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False  # the document is self-contained: no external reference
    node: Any = document
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True
