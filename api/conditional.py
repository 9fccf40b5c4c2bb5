"""Conditional GETs and exact entity tags (RFC 9110 §8.8.3, §13.1.2), for every route.

A route tags its answer with the resource version (``api.preconditions.etag``). This
middleware makes that tag identify the representation actually sent: ``"<version>-<digest>"``,
the digest being SHA-256 (16 hex digits) of the JSON body without its top-level
``position`` (the log position a write answers is about the write, not the resource): a
write's answer and a GET carry the same tag when they show the same thing (a command's
answer is the representation a GET gives the same caller). A GET or HEAD whose
``If-None-Match`` names that tag (weak comparison) or ``*`` is answered 304 with the tag
and no body.

Content coding. An answer of ``gzip_minimum`` bytes or more is gzip-compressed for a client
that accepts it (``GZipMiddleware``, outside this one): that is another representation, so
it gets another strong tag, ``"<version>-<digest>-gzip"`` (§8.8.3: a strong validator is
unique across the representations of a resource; weak tags would do too, but ``If-Match``
compares strongly, so a weak tag could never guard a write). ``If-Match`` judges either by
its version. Such answers vary by ``Accept-Encoding``, and their 304 says so too (a 304
carries the ``Vary`` its 200 would, §15.4.5).

A route added later gets this by setting ``ETag`` to ``etag(version)`` on its answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.preconditions import parse_tags

DIGEST_LENGTH = 16
GZIP_SUFFIX = "-gzip"
_KEPT_ON_304 = ("etag", "cache-control", "vary", "content-location", "expires")


def representation_tag(version_tag: str, body: bytes, *, gzip: bool = False) -> str:
    """``"<version>-<digest>"`` for a version tag ``"<version>"`` and a JSON body;
    ``"<version>-<digest>-gzip"`` for its gzip-coded variant."""
    version = version_tag.strip('"')
    document: Any
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = body.decode("latin-1")
    if isinstance(document, dict):
        document.pop("position", None)
    canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(canonical).hexdigest()[:DIGEST_LENGTH]
    return f'"{version}-{digest}{GZIP_SUFFIX if gzip else ""}"'


def none_match(if_none_match: str, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison) or is ``*``: then a GET
    is answered 304."""
    if if_none_match.strip() == "*":
        return True
    tags = parse_tags(if_none_match) or []
    return any(f'"{t.opaque}"' == tag for t in tags)


class ConditionalMiddleware:
    """Representation tags on 2xx answers that carry a version tag, and 304 for GET/HEAD
    whose ``If-None-Match`` matches. Only such answers are buffered (they are small JSON).
    ``gzip_minimum``: the size from which the gzip middleware outside compresses (None:
    no compression)."""

    def __init__(self, app: ASGIApp, gzip_minimum: int | None = None) -> None:
        self.app = app
        self.gzip_minimum = gzip_minimum

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def tagging_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _tagged(message):
                    start = message
                    return
                await send(message)
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._finish(scope, start, b"".join(chunks), send)
            else:
                await send(message)

        await self.app(scope, receive, tagging_send)

    async def _finish(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        request = Headers(scope=scope)
        headers = MutableHeaders(raw=list(start["headers"]))
        varies = self.gzip_minimum is not None and len(body) >= self.gzip_minimum
        gzip = varies and "gzip" in request.get("accept-encoding", "")  # as GZipMiddleware
        tag = representation_tag(headers["etag"], body, gzip=gzip)
        headers["etag"] = tag
        if_none_match = request.get("if-none-match")
        if scope["method"] in ("GET", "HEAD") and if_none_match and none_match(if_none_match, tag):
            if varies:  # the gzip middleware adds it to the 200, not to an empty 304
                headers.add_vary_header("Accept-Encoding")
            kept = [(k, v) for k, v in headers.raw if k.decode("latin-1") in _KEPT_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})


def _tagged(start: Message) -> bool:
    """A 2xx answer whose ETag is a bare version tag set by a route."""
    if not 200 <= start["status"] < 300:
        return False
    etag = Headers(raw=start["headers"]).get("etag")
    return etag is not None and etag.startswith('"') and etag[1:-1].isdigit()
