"""The one loopback HTTP server base of the test kit: every provider fake builds on it.

:class:`LoopbackServer` serves on ``127.0.0.1`` (port chosen by the system) in a thread and
records every request exactly. A fake (the Graph API, Twilio, OpenAI...) subclasses it and
implements ``answer``; tests then assert the method, URL, headers and body that really went
over the wire, and script failures with :meth:`LoopbackServer.fail_next`::

    class FakeStatusPage(LoopbackServer):
        def answer(self, request: RecordedRequest) -> Reply:
            return Reply(200, {"ok": True})

    with FakeStatusPage() as fake:
        httpx.get(fake.url + "/status")
        fake.fail_next("GET", "/status", Reply(503, {"error": "down"}), Reply(200, {}, delay=5))
        [request] = fake.matching("GET", "/status")

This module needs only the standard library.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


def free_port() -> int:
    """A TCP port on ``127.0.0.1`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RecordedRequest:
    """One request as it arrived: ``path`` without the query string, header names in lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Reply:
    """What a fake answers: ``body`` is JSON (dict/list), text (str) or bytes as they are."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to hold the answer back, so a client with a shorter timeout gives up.
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the SYNs of a burst of new connections (20
    # concurrent guests), which the client resends only a second later; providers accept them.
    request_queue_size = 128
    daemon_threads = True


class LoopbackServer:
    """A recording HTTP server on ``127.0.0.1`` in a thread; ``with Fake() as fake: fake.url``.

    Subclasses override :meth:`answer`. ``requests`` holds every :class:`RecordedRequest`.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queued: deque[tuple[str, str, Reply]] = deque()
        self._lock = threading.Lock()
        # Set at stop so handlers holding an answer back stop waiting at once.
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- for subclasses
    def answer(self, request: RecordedRequest) -> Reply:
        """The reply to ``request`` when no scripted failure is queued for it."""
        return Reply(404, {"error": f"no route for {request.method} {request.path}"})

    def hold(self, seconds: float) -> None:
        """Wait ``seconds`` in a handler thread, or less if the server stops meanwhile."""
        if seconds:
            self._closing.wait(seconds)

    # ---- for tests
    def fail_next(self, method: str, path_contains: str, *replies: Reply) -> None:
        """Answer the next matching requests with ``replies`` (in order) instead of ``answer``."""
        with self._lock:
            for reply in replies:
                self._queued.append((method.upper(), path_contains, reply))

    def matching(self, method: str, path_contains: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and path_contains in r.path]

    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The server's root, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle
    def start(self) -> Self:
        self._closing.clear()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- plumbing
    def _take(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            for index, (method, path_contains, reply) in enumerate(self._queued):
                if method == request.method and path_contains in request.path:
                    del self._queued[index]
                    return reply
        return self.answer(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=parsed.path,
                    query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = fake._take(request)
                fake.hold(reply.delay)
                body, content_type = reply.encoded()
                headers = {"Content-Type": content_type, **reply.headers, "Content-Length": str(len(body))}
                try:
                    self.send_response(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        return Handler
