"""Loopback fakes of the OpenAI, Anthropic and Ollama HTTP APIs, for tests.

Each fake speaks its provider's wire format (paths, headers, JSON shapes and
token usage fields), records every request, and can be told to fail: answer
with a status code, or hold the answer back to cause a client timeout.

>>> with FakeOpenAI() as openai:
...     settings = {"OPENAI_API_BASE": openai.base_url + "/v1"}
...     ...
...     assert openai.requests[0].json["model"] == "gpt-4o"
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class Fault:
    """What the next matching request gets instead of a normal answer."""

    status: int = 500
    body: dict[str, Any] = field(default_factory=dict)
    #: Seconds to hold the answer back (a client with a shorter timeout gives up).
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Base class: a threaded HTTP server on 127.0.0.1 with scripted replies."""

    def __init__(self, reply: str = '{"reply": "Breakfast is served from 7 to 10."}', input_tokens: int = 100, output_tokens: int = 20):
        self.reply = reply
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        # Set at shutdown so handlers holding back an answer stop waiting at once.
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ---- lifecycle
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting
    def fail_next(self, status: int = 500, count: int = 1, delay: float = 0.0, body: dict | None = None, headers: dict | None = None) -> None:
        """The next ``count`` completion requests get ``status`` (after ``delay`` seconds)."""
        with self._lock:
            for _ in range(count):
                self.faults.append(Fault(status, body or self.error_body(status), delay, headers or {}))

    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST"]

    # ---- to implement
    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": f"status {status}"}

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    # ---- plumbing
    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    self._send(400, {"error": "malformed JSON"})
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(RecordedRequest(method, self.path, headers, body))
                fault = fake._take_fault() if method == "POST" else None
                if fault is not None:
                    if fault.delay:
                        fake._closing.wait(fault.delay)
                    self._send(fault.status, fault.body, fault.headers)
                    return
                status, payload = fake.handle(method, self.path.split("?", 1)[0], headers, body)
                self._send(status, payload)

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


def _text_of(messages: list[dict]) -> str:
    return " ".join(str(m.get("content", "")) for m in messages or [])


class FakeOpenAI(FakeServer):
    """``POST /v1/chat/completions`` with ``Authorization: Bearer``; usage in ``prompt_tokens``/``completion_tokens``."""

    api_key = "sk-test-openai"

    def error_body(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
        return {"error": {"message": f"fake OpenAI says {status}", "type": kind, "param": None, "code": kind}}

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        if method != "POST" or path != "/v1/chat/completions":
            return 404, self.error_body(404)
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, self.error_body(401)
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            return 400, {"error": {"message": "model and messages are required", "type": "invalid_request_error", "param": None, "code": None}}
        return 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply}, "logprobs": None, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": self.input_tokens,
                "completion_tokens": self.output_tokens,
                "total_tokens": self.input_tokens + self.output_tokens,
            },
        }


class FakeAnthropic(FakeServer):
    """``POST /v1/messages`` with ``x-api-key`` and ``anthropic-version``; content blocks; ``usage.input_tokens``."""

    api_key = "sk-ant-test"

    def error_body(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 401: "authentication_error", 400: "invalid_request_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": f"fake Anthropic says {status}"}}

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        if method != "POST" or path != "/v1/messages":
            return 404, {"type": "error", "error": {"type": "not_found_error", "message": f"no route {path}"}}
        if headers.get("x-api-key") != self.api_key:
            return 401, self.error_body(401)
        if not headers.get("anthropic-version"):
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "anthropic-version header is required"}}
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages") or not body.get("max_tokens"):
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "model, messages and max_tokens are required"}}
        if any(m.get("role") == "system" for m in body["messages"]):
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "system goes in the top-level system field"}}
        return 200, {
            "id": f"msg_{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": self.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
        }


class FakeOllama(FakeServer):
    """``POST /api/chat`` (``prompt_eval_count``/``eval_count``) and ``GET /api/tags``."""

    def __init__(self, models: tuple[str, ...] = ("llama3.1:latest",), **kwargs: Any):
        super().__init__(**kwargs)
        self.models = list(models)

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": f"fake Ollama says {status}"}

    def has_model(self, name: str) -> bool:
        wanted = name if ":" in name else f"{name}:latest"
        return wanted in self.models

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        if method == "GET" and path == "/api/tags":
            return 200, {
                "models": [
                    {
                        "name": name,
                        "model": name,
                        "modified_at": "2025-01-01T00:00:00Z",
                        "size": 4_920_753_328,
                        "digest": uuid.uuid5(uuid.NAMESPACE_URL, name).hex * 2,
                        "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
                    }
                    for name in self.models
                ]
            }
        if method == "POST" and path == "/api/chat":
            if not isinstance(body, dict) or not body.get("model"):
                return 400, {"error": "model is required"}
            if not self.has_model(body["model"]):
                return 404, {"error": f"model \"{body['model']}\" not found, try pulling it first"}
            return 200, {
                "model": body["model"],
                "created_at": "2025-01-01T00:00:00.000000Z",
                "message": {"role": "assistant", "content": self.reply},
                "done_reason": "stop",
                "done": True,
                "total_duration": 1_200_000_000,
                "load_duration": 10_000_000,
                "prompt_eval_count": self.input_tokens,
                "prompt_eval_duration": 300_000_000,
                "eval_count": self.output_tokens,
                "eval_duration": 800_000_000,
            }
        return 404, {"error": f"no route {method} {path}"}
