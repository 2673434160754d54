"""Loopback fakes of the OpenAI, Anthropic and Ollama HTTP APIs, for tests and benchmarks.

Each fake speaks its provider's wire format (paths, auth headers, JSON shapes and token
usage fields), so the real provider code path (LiteLLM) runs, and records every request::

    with FakeOpenAI(reply={"reply": "Breakfast is 7-10.", "confident": True}) as llm:
        app = make_app(tmp_path, env=llm.env())   # AI_MODEL, OPENAI_API_KEY, OPENAI_API_BASE
        ...
        [sent] = llm.completion_requests()
        assert sent.json()["messages"][0]["role"] == "system"

``reply`` is a string (the message text), a dict (sent as JSON text) or a callable taking the
request body and returning either. Failures: ``fail_completions(429, headers={"retry-after": "1"})``
answers the next completion requests with an error in the provider's shape (``delay`` holds the
answer back to cause a client timeout); the ``status`` and ``delay`` attributes apply to every
completion request while set. ``input_tokens``/``output_tokens`` are the usage reported.
``FakeOpenAI`` and ``FakeAnthropic`` also answer ``GET /v1/models`` in their provider's shape
(checking the key), listing ``models``: what the providers' SDKs call for "test connection".
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply

ReplyText = str | dict[str, Any] | Callable[[dict[str, Any]], "str | dict[str, Any]"]
DEFAULT_REPLY = '{"reply": "Breakfast is served from 7 to 10."}'


class ModelServer(LoopbackServer):
    """What the three model fakes share: scripted reply, token usage, failures on the completion path."""

    #: The path the provider's chat completions are POSTed to.
    completion_path = ""

    def __init__(
        self,
        reply: ReplyText = DEFAULT_REPLY,
        input_tokens: int = 100,
        output_tokens: int = 20,
        *,
        delay: float = 0.0,
        status: int = 200,
    ):
        super().__init__()
        self.reply = reply
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.delay = delay
        self.status = status

    @property
    def base_url(self) -> str:
        """The value for the provider's API base setting."""
        return self.url

    def env(self) -> dict[str, str]:
        """Settings that point Jack at this server."""
        raise NotImplementedError

    def content_for(self, body: dict[str, Any]) -> str:
        reply = self.reply(body) if callable(self.reply) else self.reply
        return json.dumps(reply) if isinstance(reply, dict) else str(reply)

    def fail_completions(
        self, status: int = 500, count: int = 1, delay: float = 0.0, body: dict | None = None, headers: dict | None = None
    ) -> None:
        """The next ``count`` completion requests get ``status`` (after ``delay`` seconds)."""
        reply = Reply(status, body or self.error_body(status), headers or {}, delay)
        self.fail_next("POST", self.completion_path, *[reply] * count)

    def completion_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == self.completion_path]

    # ---- to implement
    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": f"status {status}"}

    def complete(self, request: RecordedRequest, body: dict[str, Any]) -> Reply:
        """Answer a well-formed JSON completion request."""
        raise NotImplementedError

    def other(self, request: RecordedRequest) -> Reply:
        """Answer any request that is not a completion."""
        return Reply(404, self.error_body(404))

    # ---- plumbing
    def answer(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or request.path != self.completion_path:
            return self.other(request)
        try:
            body = request.json() if request.body else None
        except ValueError:
            return Reply(400, self.error_body(400))
        self.hold(self.delay)
        if self.status != 200:
            return Reply(self.status, self.error_body(self.status))
        if not isinstance(body, dict):
            return Reply(400, self.error_body(400))
        return self.complete(request, body)


class FakeOpenAI(ModelServer):
    """``POST /v1/chat/completions`` with ``Authorization: Bearer``; usage in ``prompt_tokens``/``completion_tokens``."""

    api_key = "sk-test-openai"
    completion_path = "/v1/chat/completions"

    def __init__(self, reply: ReplyText = DEFAULT_REPLY, input_tokens: int = 100, output_tokens: int = 20, *,
                 delay: float = 0.0, status: int = 200, model: str = "fake-model"):
        super().__init__(reply, input_tokens, output_tokens, delay=delay, status=status)
        #: The model name ``env()`` sets (``AI_MODEL=openai/<model>``).
        self.model = model
        #: What ``GET /v1/models`` lists.
        self.models = [model, "gpt-4o-mini"]

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def env(self) -> dict[str, str]:
        """Settings that point Jack's primary provider at this server."""
        return {"AI_MODEL": f"openai/{self.model}", "OPENAI_API_KEY": self.api_key, "OPENAI_API_BASE": self.base_url}

    def error_body(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_exceeded", 401: "invalid_api_key", 400: "invalid_request_error"}.get(status, "server_error")
        return {"error": {"message": f"fake OpenAI says {status}", "type": kind, "param": None, "code": kind}}

    def other(self, request: RecordedRequest) -> Reply:
        """``GET /v1/models``: the models list in OpenAI's shape (``object: list``, ``data`` of ``model`` objects)."""
        if request.method == "GET" and request.path == "/v1/models":
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return Reply(401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                             "param": None, "code": "invalid_api_key"}})
            return Reply(200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "fake-openai"} for name in self.models
            ]})
        return Reply(404, self.error_body(404))

    def complete(self, request: RecordedRequest, body: dict[str, Any]) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(401, self.error_body(401))
        if not body.get("model") or not body.get("messages"):
            return Reply(400, {"error": {"message": "model and messages are required", "type": "invalid_request_error",
                                         "param": None, "code": None}})
        return Reply(200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content_for(body)},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": self.input_tokens,
                "completion_tokens": self.output_tokens,
                "total_tokens": self.input_tokens + self.output_tokens,
            },
        })


class FakeAnthropic(ModelServer):
    """``POST /v1/messages`` with ``x-api-key`` and ``anthropic-version``; content blocks; ``usage.input_tokens``."""

    api_key = "sk-ant-test"
    completion_path = "/v1/messages"

    def env(self) -> dict[str, str]:
        return {"ANTHROPIC_API_KEY": self.api_key, "ANTHROPIC_API_BASE": self.base_url}

    def error_body(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 401: "authentication_error", 400: "invalid_request_error",
                404: "not_found_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": f"fake Anthropic says {status}"}}

    #: What ``GET /v1/models`` lists, newest first as Anthropic lists them.
    models = ("claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022")

    def _invalid(self, message: str) -> Reply:
        return Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}})

    def other(self, request: RecordedRequest) -> Reply:
        """``GET /v1/models``: Anthropic's page shape (``data``, ``has_more``, ``first_id``, ``last_id``)."""
        if request.method == "GET" and request.path == "/v1/models":
            # The key comes as ``x-api-key`` or, from the anthropic SDK 2.x, as ``Authorization: Bearer``.
            if self.api_key not in (request.headers.get("x-api-key"), request.headers.get("authorization", "").removeprefix("Bearer ")):
                return Reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
            if not request.headers.get("anthropic-version"):
                return self._invalid("anthropic-version header is required")
            data = [{"type": "model", "id": name, "display_name": name.rsplit("-", 1)[0].replace("-", " ").title(),
                     "created_at": "2025-01-01T00:00:00Z"} for name in self.models]
            return Reply(200, {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]})
        return Reply(404, self.error_body(404))

    def complete(self, request: RecordedRequest, body: dict[str, Any]) -> Reply:
        if request.headers.get("x-api-key") != self.api_key:
            return Reply(401, self.error_body(401))
        if not request.headers.get("anthropic-version"):
            return self._invalid("anthropic-version header is required")
        if not body.get("model") or not body.get("messages") or not body.get("max_tokens"):
            return self._invalid("model, messages and max_tokens are required")
        if any(m.get("role") == "system" for m in body["messages"]):
            return self._invalid("system goes in the top-level system field")
        return Reply(200, {
            "id": f"msg_{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": self.content_for(body)}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
        })


class FakeOllama(ModelServer):
    """``POST /api/chat`` (``prompt_eval_count``/``eval_count``) and ``GET /api/tags``."""

    completion_path = "/api/chat"

    def __init__(self, models: tuple[str, ...] = ("llama3.1:latest",), **kwargs: Any):
        super().__init__(**kwargs)
        self.models = list(models)

    def env(self) -> dict[str, str]:
        return {"OLLAMA_BASE_URL": self.base_url}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": f"fake Ollama says {status}"}

    def has_model(self, name: str) -> bool:
        wanted = name if ":" in name else f"{name}:latest"
        return wanted in self.models

    def other(self, request: RecordedRequest) -> Reply:
        if request.method == "GET" and request.path == "/api/tags":
            return Reply(200, {"models": [
                {
                    "name": name,
                    "model": name,
                    "modified_at": "2025-01-01T00:00:00Z",
                    "size": 4_920_753_328,
                    "digest": uuid.uuid5(uuid.NAMESPACE_URL, name).hex * 2,
                    "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
                }
                for name in self.models
            ]})
        return Reply(404, {"error": f"no route {request.method} {request.path}"})

    def complete(self, request: RecordedRequest, body: dict[str, Any]) -> Reply:
        if not body.get("model"):
            return Reply(400, {"error": "model is required"})
        if not self.has_model(body["model"]):
            return Reply(404, {"error": f"model \"{body['model']}\" not found, try pulling it first"})
        return Reply(200, {
            "model": body["model"],
            "created_at": "2025-01-01T00:00:00.000000Z",
            "message": {"role": "assistant", "content": self.content_for(body)},
            "done_reason": "stop",
            "done": True,
            "total_duration": 1_200_000_000,
            "load_duration": 10_000_000,
            "prompt_eval_count": self.input_tokens,
            "prompt_eval_duration": 300_000_000,
            "eval_count": self.output_tokens,
            "eval_duration": 800_000_000,
        })
