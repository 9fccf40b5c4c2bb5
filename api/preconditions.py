"""HTTP preconditions (RFC 9110 §13): entity tags, ``If-Match``, ``If-None-Match``, and
``Idempotency-Key`` values.

Entity tags. A route tags its answer with the resource's version, ``etag(version)`` =
``"<version>"``; ``api.conditional`` then makes the tag identify the representation sent,
``"<version>-<digest>"`` (the digest covers everything shown: directory names, the
``smsCompliance`` variant, degraded state), ``"<version>-<digest>-gzip"`` for the gzip-coded
variant. ``If-Match`` on a write is judged on the version part only: a tag that differs only
in its digest or coding (the directory renamed the agent, or it was read by a caller of
another variant) still matches, since a write changes only the
resource's own fields, which the version guards; a stale version never matches. The bare
``"<version>"`` that older clients send is such a tag. Weak tags never match (§13.1.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.problems import ProblemError

# One entity tag of a list: optional weak prefix, quoted opaque part (RFC 9110 §8.8.3).
_LIST_ITEM = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e]*)"[ \t]*(?:,|$)')
_VERSION_TAG = re.compile(r"([0-9]{1,18})(?:-[0-9a-f]{1,64})?(?:-gzip)?")  # api.conditional
_LEGACY_BARE = re.compile(r"[0-9]{1,18}")
_OWS = " \t"  # optional whitespace around header values and list items (RFC 9110 §5.6.3)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
IF_MATCH_PATTERN = r'^[ \t]*(\*|[0-9]{1,18}|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)[ \t]*$'
# Where If-Match is required (the compliance PUT, the registration submit) ``*`` is refused
# with 428 like a missing header: it would overwrite whatever is there, the blind write the
# requirement exists to prevent. So the pattern documented there has no ``*``.
REQUIRED_IF_MATCH_PATTERN = IF_MATCH_PATTERN.replace("\\*|", "", 1)


@dataclass(frozen=True)
class EntityTag:
    """One entity tag of a request header."""

    opaque: str
    weak: bool


@dataclass(frozen=True)
class IfMatch:
    """A parsed ``If-Match``: ``any`` for ``*``, else the versions its strong tags name
    (weak tags and tags of no version of ours name none: they never match)."""

    any: bool
    versions: frozenset[int]

    def expected(self) -> int | frozenset[int] | None:
        """What to hand to the domain's check: None for ``*``, the one version, or the set
        of versions (any of them matches; empty when no tag names a version of ours)."""
        if self.any:
            return None
        return next(iter(self.versions)) if len(self.versions) == 1 else self.versions

    def admits(self, current: int | None) -> bool:
        """Whether a resource at version ``current`` (None: absent) meets the condition."""
        return current is not None and (self.any or current in self.versions)


def etag(version: int) -> str:
    """The strong entity tag of a resource version (the representation digest is added by
    ``api.conditional``)."""
    return f'"{version}"'


def parse_tags(header: str) -> list[EntityTag] | None:
    """The entity tags of an ``If-Match``/``If-None-Match`` list; None when malformed."""
    text = header.strip(_OWS)
    tags: list[EntityTag] = []
    position = 0
    while position < len(text):
        found = _LIST_ITEM.match(text, position)
        if found is None or found.end() == position:
            return None
        tags.append(EntityTag(found.group(2), found.group(1) is not None))
        position = found.end()
    return tags or None


def tag_version(tag: EntityTag) -> int | None:
    """The version a strong tag of ours names; None for a weak or foreign tag."""
    found = None if tag.weak else _VERSION_TAG.fullmatch(tag.opaque)
    return int(found.group(1)) if found else None


def parse_if_match(if_match: str | None) -> IfMatch | None:
    """The ``If-Match`` header; None when absent. 422 ``invalid_if_match`` when it is not
    ``*``, a list of entity tags, or the legacy bare version (``3``)."""
    if if_match is None:
        return None
    text = if_match.strip(_OWS)
    if text == "*":
        return IfMatch(any=True, versions=frozenset())
    if _LEGACY_BARE.fullmatch(text):
        return IfMatch(any=False, versions=frozenset({int(text)}))
    tags = parse_tags(text)
    if tags is None:
        raise _header_problem(
            "If-Match", "invalid_if_match", 'If-Match must be entity tags such as "3", or *.'
        )
    versions = {tag_version(tag) for tag in tags}
    return IfMatch(any=False, versions=frozenset(v for v in versions if v is not None))


def expected_version(if_match: str | None) -> int | frozenset[int] | None:
    """The version(s) an ``If-Match`` header admits; None when absent or ``*``. A header
    that can match no version (weak or foreign tags only) admits the empty set: the command
    answers 412 once it has found the resource, never before (RFC 9110 §13.2.1: a missing
    connection stays 404, a malformed id 422, whatever ``If-Match`` says)."""
    parsed = parse_if_match(if_match)
    if parsed is None or parsed.any:
        return None
    return parsed.expected()


def precondition_failed(current: int | None) -> ProblemError:
    """412 ``version_conflict``, with the current ``ETag`` when known."""
    headers = {} if current is None else {"ETag": etag(current)}
    return ProblemError(
        412,
        "version_conflict",
        "Version conflict",
        "The resource was changed since you read it: reload it and apply your change again.",
        headers=headers,
    )


def idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key if it is 1 to 255 visible ASCII characters."""
    if value is not None and not _IDEMPOTENCY_KEY.fullmatch(value):
        raise _header_problem(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        )
    return value


def _header_problem(field: str, code: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "validation_error",
        "Invalid request",
        message,
        errors=[{"field": field, "code": code, "message": message}],
    )
