"""A fake OpenAI chat-completions server on loopback, for tests and benchmarks.

It speaks the wire format LiteLLM's ``openai/*`` models use
(``POST /v1/chat/completions``), so the real provider code path runs::

    with FakeOpenAI(reply={"reply": "Breakfast is 7-10.", "confident": True}) as llm:
        app = make_app(tmp_path, env=llm.env())      # AI_MODEL, OPENAI_API_KEY, OPENAI_API_BASE
        ...
        assert llm.requests[0]["messages"][0]["role"] == "system"

``reply`` may be a string (sent as the message content), a dict (sent as JSON
text) or a callable taking the request body and returning either.  ``delay``
(seconds) and ``status`` (an HTTP error code, answered with OpenAI's error JSON)
can be changed while it runs.  Every request body is recorded in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from jack_host.testing.loopback import LoopbackServer

Reply = str | dict[str, Any] | Callable[[dict[str, Any]], "str | dict[str, Any]"]


class FakeOpenAI(LoopbackServer):
    def __init__(self, reply: Reply = "", delay: float = 0.0, status: int = 200, model: str = "fake-model"):
        self.reply = reply
        self.delay = delay
        self.status = status
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self) -> dict[str, str]:
        """Settings that point Jack's primary provider at this server."""
        return {"AI_MODEL": f"openai/{self.model}", "OPENAI_API_KEY": "sk-fake-test-key", "OPENAI_API_BASE": self.base_url}

    def content_for(self, body: dict[str, Any]) -> str:
        reply = self.reply(body) if callable(self.reply) else self.reply
        return json.dumps(reply) if isinstance(reply, dict) else str(reply)

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, {"error": {"message": "invalid JSON body", "type": "invalid_request_error", "code": None}})
                    return
                with fake._lock:
                    fake.requests.append(body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"unknown path {self.path}", "type": "invalid_request_error", "code": None}})
                    return
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.status != 200:
                    self._send(fake.status, {"error": {"message": f"fake error {fake.status}", "type": "server_error", "code": None}})
                    return
                content = fake.content_for(body)
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
                completion_tokens = len(content.split())
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-fake-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", fake.model),
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return self._serve(Handler, "fake-openai")
