"""HTTP basics for every route (RFC 9110), so routes added later need nothing of their own:

* ``HEAD`` is answered on every ``GET`` route: the ``GET`` runs and its body is dropped
  (headers, ``Content-Length`` included, are those of the ``GET``);
* a 405 lists in ``Allow`` every method some route of that path accepts (the router's own
  405 lists only the first route it tried).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CANDIDATE_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route fully matches on ``scope``'s path, with HEAD wherever GET is
    (each candidate method is matched as the router would: included routers too)."""
    methods = {
        method
        for method in CANDIDATE_METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class HttpSemanticsMiddleware:
    """HEAD as GET without a body; a full ``Allow`` on 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        inner = {**scope, "method": "GET"} if head else scope

        async def fixing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = MutableHeaders(raw=list(message["headers"]))
                headers["allow"] = ", ".join(allowed_methods(scope["app"].routes, scope))
                message = {**message, "headers": headers.raw}
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        await self.app(inner, receive, fixing_send)
        if head and "route" in inner:
            scope["route"] = inner["route"]  # for the access log's route label
