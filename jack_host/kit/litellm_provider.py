"""LLM providers reached through LiteLLM: Anthropic, OpenAI, OpenAI-compatible servers (and Ollama's plugin)."""

from __future__ import annotations

from collections.abc import Mapping

from jack_host.contract.interfaces import (
    ComponentHealth,
    LLMProvider,
    LLMProviderError,
    LLMRequest,
    LLMResponse,
)
from jack_host.kit.litellm import litellm_loaded

#: Which environment variable holds the key for a LiteLLM model prefix.
KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
#: Which setting points a model prefix at another server (a proxy, a gateway, a test fake).
BASE_VARIABLES = {"anthropic": "ANTHROPIC_API_BASE", "openai": "OPENAI_API_BASE"}
#: Prefixes whose servers accept an OpenAI-style ``response_format`` for JSON replies.
JSON_MODE_FAMILIES = {"openai", "ollama", "ollama_chat"}


def provider_family(model: str) -> str:
    """``anthropic/claude-...`` -> ``anthropic``; a bare ``gpt-4o`` or ``claude-...`` is recognised too."""
    if "/" in model:
        return model.split("/", 1)[0]
    if model.startswith("claude"):
        return "anthropic"
    return "openai"


def classify_error(exc: BaseException) -> tuple[str, int | None]:
    """How a LiteLLM call failed: (outcome, HTTP status); LiteLLM reports refused connections as 500."""
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and node not in chain:
        chain.append(node)
        node = node.__cause__ or node.__context__
    names = {type(e).__name__ for e in chain}
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    if names & {"Timeout", "APITimeoutError", "TimeoutError", "ReadTimeout", "ConnectTimeout", "TimeoutException"}:
        return "timeout", status
    if status == 429 or "RateLimitError" in names:
        return "rate_limited", 429
    if names & {"ConnectError", "ConnectionRefusedError", "ClientConnectorError", "APIConnectionError", "gaierror"}:
        return "unreachable", None
    if status is not None and status >= 500:
        return "server_error", status
    if status in (401, 403):
        return "auth_error", status
    if status is not None and 400 <= status < 500:
        return "rejected", status
    return "error", status


class LiteLLMProvider(LLMProvider):
    """One configured model, called with ``litellm.acompletion``."""

    def __init__(self, name: str, model: str, settings: Mapping | object, api_base: str | None = None):
        self.name = name
        self._model = model
        self.settings = settings
        self.family = provider_family(model) if model else ""
        base_variable = BASE_VARIABLES.get(self.family)
        self.api_base = api_base or (self._get(base_variable) if base_variable else "") or None

    def _get(self, key: str) -> str:
        return str(self.settings.get(key) or "")  # type: ignore[union-attr]

    @property
    def model(self) -> str:
        return self._model

    @property
    def litellm_model(self) -> str:
        return self._model if "/" in self._model else f"{self.family}/{self._model}"

    @property
    def key_variable(self) -> str | None:
        return KEY_VARIABLES.get(self.family)

    def api_key(self) -> str | None:
        return self._get(self.key_variable) if self.key_variable else None

    def is_configured(self) -> bool:
        if not self._model:
            return False
        if self.key_variable is None:
            return True
        return bool(self.api_key()) or bool(self.api_base and self.family == "openai")

    async def health(self) -> ComponentHealth:
        if not self._model:
            return ComponentHealth.not_configured("set AI_MODEL (e.g. anthropic/claude-sonnet-4-5) to use an LLM")
        if not self.is_configured():
            return ComponentHealth.not_configured(f"set {self.key_variable} for {self._model}")
        return ComponentHealth.connected(f"{self._model}" + (f" at {self.api_base}" if self.api_base else ""))

    async def complete(self, request: LLMRequest) -> LLMResponse:
        module = await litellm_loaded()
        kwargs = {
            "model": self.litellm_model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "timeout": request.timeout or 20.0,
            "num_retries": 0,  # the service falls back to the next provider instead of retrying
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key():
            kwargs["api_key"] = self.api_key()
        if request.json_mode and self.family in JSON_MODE_FAMILIES:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            response = await module.acompletion(**kwargs)
        except Exception as exc:  # LiteLLM maps provider errors to many classes
            outcome, status = classify_error(exc)
            raise LLMProviderError(f"{self.name} ({self._model}): {outcome}: {type(exc).__name__}: {exc}", outcome, status) from exc
        usage = getattr(response, "usage", None)
        return LLMResponse(
            text=response.choices[0].message.content or "",
            model=getattr(response, "model", None) or self._model,
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            raw=response,
        )
