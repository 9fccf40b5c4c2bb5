"""What the OpenAPI document declares beyond the routes' models, so that a typed client
(openapi-typescript + openapi-fetch), a linter (redocly) and a schema-driven fuzzer
(schemathesis) know everything the service accepts and answers (issue 32):

* ``servers``: the service itself (paths are relative to where the document is served);
* request headers: ``Idempotency-Key`` on every write a bearer token may send (the replay
  middleware honours it on all of them), ``If-None-Match`` on every GET answered with an
  ``ETag`` (304 declared there), and 412 wherever ``If-Match`` is taken;
* response headers: ``ETag`` (required where the route always tags its answer),
  ``Location``, ``Retry-After`` (429, 503, and a 409 of a request still in progress),
  ``Idempotent-Replayed``, ``X-Projection-Lag`` (queries taking ``waitFor``);
* named examples of every request body (``api/request_examples.json``; the complete
  compliance form is ``docs/example-compliance.json``, which passes the preflight);
* links from connect (and replace-number) to the new connection's operations, with its
  id from the body and its ``ETag`` as ``If-Match``.

The tables below name operations by method and path: a route added later that sets an
``ETag`` is listed in ``TAGGED``, and the fuzz run (``make fuzz``) fails when a listed
answer lacks it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

CONNECTION = "/channels/sms/connections/{connection_id}"
CONNECT = ("post", "/channels/sms/connect")
REPLACE = ("post", CONNECTION + "/replace-number")
WRITES = frozenset({"post", "put", "patch", "delete"})

# Operations whose 2xx answers always carry the representation's ETag (api.conditional).
TAGGED = frozenset(
    {
        ("get", CONNECTION),
        ("patch", CONNECTION),
        CONNECT,
        REPLACE,
        ("get", CONNECTION + "/compliance"),
        ("put", CONNECTION + "/compliance"),
        ("get", CONNECTION + "/compliance/preflight"),
        ("get", CONNECTION + "/registration"),
        ("post", CONNECTION + "/registration"),
    }
)
# Tagged when there is a version to tag (the directory's answer for an agent).
SOMETIMES_TAGGED = frozenset({("put", "/directory/agents/{agent_id}")})
# Request bodies and their named examples (keys of api/request_examples.json).
EXAMPLES = {
    CONNECT: "connect",
    ("patch", CONNECTION): "updateConnection",
    REPLACE: "replaceNumber",
    ("put", CONNECTION + "/compliance"): "compliance",
    ("put", "/directory/agents/{agent_id}"): "directoryAgent",
}
# What a new connection's answer links to: (link name, method, path).
LINKED = (
    ("getConnection", "get", CONNECTION),
    ("updateConnection", "patch", CONNECTION),
    ("deleteConnection", "delete", CONNECTION),
    ("getCompliance", "get", CONNECTION + "/compliance"),
    ("putCompliance", "put", CONNECTION + "/compliance"),
    ("getPreflight", "get", CONNECTION + "/compliance/preflight"),
    ("getRegistration", "get", CONNECTION + "/registration"),
    ("submitRegistration", "post", CONNECTION + "/registration"),
)

SERVERS = [
    {
        "url": "/",
        "description": "This service: paths are relative to where this document is served.",
    }
]
ETAG_PATTERN = r'^"[0-9]{1,18}(-[0-9a-f]{16}(-gzip)?)?"$'
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": 'The entity tag of the representation sent: "<version>-<digest>", '
        '"<version>-<digest>-gzip" for the gzip-coded variant (a 412 names the current '
        'version alone, "<version>"). Send it back in If-Match to write, in If-None-Match '
        "to revalidate.",
        "schema": {"type": "string", "pattern": ETAG_PATTERN},
        "example": '"3-0123456789abcdef"',
    },
    "Location": {
        "description": "The connection's URL.",
        "schema": {"type": "string", "format": "uri-reference"},
        "example": "/channels/sms/connections/4f1c2a9e-8d3b-5e7f-9a1b-2c3d4e5f6a7b",
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
        "example": 5,
    },
    "Idempotent-Replayed": {
        "description": "true: the answer to an earlier request with the same "
        "Idempotency-Key; nothing was done again.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "X-Projection-Lag": {
        "description": "Set when waitFor was not reached within the bound: how many "
        "positions of the event log the read model is still behind.",
        "schema": {"type": "integer", "minimum": 0},
    },
}
PARAMETERS: dict[str, dict[str, Any]] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "1 to 255 visible ASCII characters. The same request with the same "
        "key within 24 hours answers the first answer (Idempotent-Replayed: true); the "
        "same key with another request is refused (422 idempotency_key_reused) or runs "
        "anew, never replayed.",
        "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
    },
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "Entity tags as read (ETag), or *: 304 without a body when one "
        "names the current representation (weak comparison).",
        "schema": {"type": "string"},
    },
}
_NOT_MODIFIED = {
    "description": "Not modified: If-None-Match names the current representation.",
    "headers": {"ETag": {**HEADERS["ETag"], "required": True}},
}
_VERSION_CONFLICT = "version_conflict: If-Match names no current version (stale, or weak)."


def declare_contract(document: dict[str, Any]) -> None:
    """Apply the declarations above to ``document`` in place (before the error answers
    are declared: the 412s added here get the problem body like the others)."""
    document.setdefault("servers", SERVERS)
    ids = {
        (method, path): operation.get("operationId")
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
    }
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            _declare(method, path, operation, ids)


def _declare(
    method: str, path: str, operation: dict[str, Any], ids: dict[tuple[str, str], Any]
) -> None:
    place = (method, path)
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    responses: dict[str, Any] = operation.setdefault("responses", {})
    names = {p.get("name") for p in parameters if "name" in p}
    keyed = method in WRITES and bool(operation.get("security"))
    if keyed and "Idempotency-Key" not in names:
        parameters.append(dict(PARAMETERS["IdempotencyKey"]))
    tagged = place in TAGGED or place in SOMETIMES_TAGGED
    if method == "get" and tagged:
        parameters.append(dict(PARAMETERS["IfNoneMatch"]))
        responses.setdefault("304", _NOT_MODIFIED)
    if "If-Match" in names:
        responses.setdefault("412", {"description": _VERSION_CONFLICT})
    waits = any(p.get("name") == "waitFor" and p.get("in") == "query" for p in parameters)
    for status, response in responses.items():
        headers = _headers(place, status, keyed=keyed, waits=waits)
        if headers:
            response.setdefault("headers", {}).update(headers)
    if place in EXAMPLES:
        content = operation["requestBody"]["content"]["application/json"]
        content["examples"] = request_examples()[EXAMPLES[place]]
    if place in (CONNECT, REPLACE):
        for status in ("201", "202"):
            responses[status]["links"] = _links(ids)


def _headers(
    place: tuple[str, str], status: str, *, keyed: bool, waits: bool
) -> dict[str, dict[str, Any]]:
    """The headers a ``status`` answer of the operation at ``place`` carries."""
    ok = status.startswith("2")
    found: dict[str, dict[str, Any]] = {}
    if ok and status != "204" and (place in TAGGED or place in SOMETIMES_TAGGED):
        found["ETag"] = _ref("ETag", required=place in TAGGED)
    if status == "412":
        found["ETag"] = _ref("ETag", required=False)
    if place in (CONNECT, REPLACE) and status in ("201", "202"):
        found["Location"] = _ref("Location", required=True)
    if place in (CONNECT, REPLACE) and status == "503":
        found["Location"] = _ref("Location", required=False)  # the pending request
    if status in ("429", "503") or (keyed and status == "409"):
        found["Retry-After"] = _ref("Retry-After", required=status == "429")
    if ok and keyed:
        found["Idempotent-Replayed"] = _ref("Idempotent-Replayed", required=False)
    if ok and waits:
        found["X-Projection-Lag"] = _ref("X-Projection-Lag", required=False)
    return found


def _ref(name: str, *, required: bool) -> dict[str, Any]:
    """The header, inline (a reference object may carry no ``required`` beside it)."""
    return {**HEADERS[name], "required": required}


def _links(ids: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """The new connection's operations: its id from the answer's body, and (for writes)
    its ETag as If-Match."""
    links: dict[str, Any] = {}
    for name, method, path in LINKED:
        operation_id = ids.get((method, path))
        if operation_id is None:
            continue
        parameters = {"connection_id": "$response.body#/id"}
        if method in WRITES:
            parameters["header.If-Match"] = "$response.header.ETag"
        links[name] = {
            "operationId": operation_id,
            "parameters": parameters,
            "description": f"{method.upper()} {path} of the connection just made.",
        }
    return links


@cache
def request_examples() -> dict[str, dict[str, Any]]:
    """The named request examples (``api/request_examples.json``), read once."""
    text = resources.files("api").joinpath("request_examples.json").read_text("utf-8")
    examples: dict[str, dict[str, Any]] = json.loads(text)
    return examples
