"""A loopback HTTP server that records every request exactly, for faking providers in tests.

Provider fakes (the Graph API, Twilio...) subclass :class:`RecordingServer` and implement
``answer``; tests then assert the method, URL, headers and body that really went over the
wire, and queue failures with :meth:`RecordingServer.fail_next` to exercise retries.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)  # dict/list -> JSON, str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)

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


class LoopbackServer:
    """A threaded HTTP server on ``127.0.0.1`` (port chosen by the system); use as a context manager."""

    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def _serve(self, handler: type[BaseHTTPRequestHandler], name: str) -> Self:
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return self._server.server_address[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RecordingServer(LoopbackServer):
    """Serve on ``127.0.0.1`` in a thread; ``with Fake() as fake: fake.url``."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queued: deque[tuple[str, str, Reply]] = deque()
        self._lock = threading.Lock()

    # ---- for subclasses
    def answer(self, request: RecordedRequest) -> Reply:
        return Reply(404, {"error": f"no route for {request.method} {request.path}"})

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
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RecordingServer:
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
                body, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers, "Content-Length": str(len(body))}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        return self._serve(Handler, "recording-server")

    def _take(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            for index, (method, path_contains, reply) in enumerate(self._queued):
                if method == request.method and path_contains in request.path:
                    del self._queued[index]
                    return reply
        return self.answer(request)
