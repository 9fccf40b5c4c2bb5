"""What the fake providers (``tests.support.fake_twilio``, ``tests.support.fake_telnyx``)
share: the canned answers a test scripts (``Scripted``) and how a request is served around
the provider's own routes (``FakeProviderHandler.serve``): record it, take a scripted answer
if one matches (or hang past the client's timeout, before or after doing what was asked),
refuse wrong credentials, route, remember the answer, answer JSON."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Answer = tuple[int, Any]


@dataclass
class Scripted:
    """A canned answer for the next matching request(s)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    after: bool = False  # with hang: do what was asked first (the answer is what is lost)
    method: str | None = None
    path_contains: str | None = None


class FakeProviderState:
    """What every fake provider keeps about the traffic (the requests, the answers its
    routes gave, the script of canned answers, the event that ends every hang) and its
    server's lifecycle (``listen`` in the constructor, ``start``, ``stop``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Any] = []
        # (method, path, status, body) of every answer the fake's routes gave.
        self.responses: list[tuple[str, str, int, Any]] = []
        self.script: list[Scripted] = []
        self.release_hang = threading.Event()

    def listen(self, handler: type[BaseHTTPRequestHandler]) -> str:
        """Bind a server with ``handler`` to a free loopback port; its URL."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.release_hang.set()
        self._server.shutdown()
        self._server.server_close()

    def requests_to(self, method: str, path_contains: str) -> list[Any]:
        with self.lock:
            return [r for r in self.requests if r.method == method and path_contains in r.path]

    def answer_next(self, scripted: Scripted, times: int = 1) -> None:
        with self.lock:
            self.script.extend([scripted] * times)

    def take_scripted(self, method: str, path: str) -> Scripted | None:
        """The first scripted answer for this request, removed from the script (under
        ``lock``)."""
        for index, candidate in enumerate(self.script):
            if candidate.method not in (None, method):
                continue
            if candidate.path_contains and candidate.path_contains not in path:
                continue
            return self.script.pop(index)
        return None


class FakeProviderHandler(BaseHTTPRequestHandler):
    """A quiet handler whose GET, POST and DELETE go to ``handle_method``."""

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self.handle_method("GET")

    def do_POST(self) -> None:
        self.handle_method("POST")

    def do_DELETE(self) -> None:
        self.handle_method("DELETE")

    def handle_method(self, method: str) -> None:
        raise NotImplementedError

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def serve(
        self,
        fake: FakeProviderState,
        method: str,
        path: str,
        recorded: Any,
        *,
        authorized: bool,
        refusal: Any,
        route: Callable[[], Answer],
    ) -> None:
        """Record the request, then answer it: scripted, or a 401 with ``refusal`` when
        not ``authorized``, or what ``route`` (the provider's behaviour) answers."""
        with fake.lock:
            fake.requests.append(recorded)
            scripted = fake.take_scripted(method, path)
        if scripted is not None:
            if scripted.hang and scripted.after:
                route()
            if scripted.hang:
                fake.release_hang.wait(10)
                return
            self.send_json(scripted.status, scripted.body, scripted.headers)
            return
        if not authorized:
            self.send_json(401, refusal)
            return
        status, answer = route()
        with fake.lock:
            fake.responses.append((method, path, status, answer))
        self.send_json(status, answer)

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
