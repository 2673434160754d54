"""LLM providers reached through LiteLLM (Anthropic, OpenAI and OpenAI-compatible servers)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from jack_host.interfaces import ComponentHealth, LLMProvider, LLMProviderError, LLMRequest, LLMResponse
from jack_host.llm.litellm_client import litellm

#: Which environment variable holds the key for a LiteLLM model prefix.
KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


def provider_family(model: str) -> str:
    """``anthropic/claude-...`` -> ``anthropic``; a bare ``gpt-4o`` or ``claude-...`` is recognised too."""
    if "/" in model:
        return model.split("/", 1)[0]
    if model.startswith("claude"):
        return "anthropic"
    return "openai"


class LiteLLMProvider(LLMProvider):
    """One configured model, called with ``litellm.acompletion``."""

    def __init__(self, name: str, model: str, settings: Mapping | object, api_base: str | None = None):
        self.name = name
        self._model = model
        self.settings = settings
        self.family = provider_family(model) if model else ""
        self.api_base = api_base or (self._get("OPENAI_API_BASE") if self.family == "openai" else self._get("ANTHROPIC_API_BASE")) or None

    def _get(self, key: str) -> str:
        return str(self.settings.get(key) or "")  # type: ignore[union-attr]

    @property
    def model(self) -> str:
        return self._model

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
        module = await asyncio.to_thread(litellm)
        kwargs = {
            "model": self._model if "/" in self._model else f"{self.family}/{self._model}",
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "timeout": request.timeout,
            "num_retries": 0,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key():
            kwargs["api_key"] = self.api_key()
        if request.json_mode and self.family == "openai":
            kwargs["response_format"] = {"type": "json_object"}
        try:
            response = await module.acompletion(**kwargs)
        except Exception as exc:  # LiteLLM maps provider errors to many classes
            raise LLMProviderError(f"{self.name} ({self._model}): {type(exc).__name__}: {exc}") from exc
        usage = getattr(response, "usage", None)
        return LLMResponse(
            text=response.choices[0].message.content or "",
            model=getattr(response, "model", None) or self._model,
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            raw=response,
        )
