"""The local LLM provider: a model served by Ollama, called through LiteLLM's ``ollama_chat`` route."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from jack_host.contract.interfaces import ComponentHealth
from jack_host.kit.litellm_provider import LiteLLMProvider

if TYPE_CHECKING:
    from jack_host.contract.app import App

DEFAULT_BASE_URL = "http://localhost:11434"
DEFAULT_MODEL = "llama3.1"
#: Health checks run at start-up; an absent Ollama must not hold the server back.
HEALTH_TIMEOUT = 2.0


class OllamaProvider(LiteLLMProvider):
    """``ollama_chat/<OLLAMA_MODEL>`` at ``OLLAMA_BASE_URL`` (``POST /api/chat``); runs on the hotel's hardware, cost zero.

    Configured only when the hotel names it: ``OLLAMA_BASE_URL`` set, or ``ollama`` in
    ``AI_PROVIDER_ORDER`` (then at the default URL).  An installed but unnamed Ollama is never
    called, not even by the health check: the embedded default answers from the knowledge base.
    """

    is_local = True

    def __init__(self, app: App):
        explicit = str(app.settings.get("OLLAMA_BASE_URL") or "").strip()
        order = {n.strip() for n in str(app.settings.get("AI_PROVIDER_ORDER") or "").split(",")}
        self.named = bool(explicit) or "ollama" in order
        self.base_url = (explicit or DEFAULT_BASE_URL).rstrip("/")
        self.ollama_model = str(app.settings.get("OLLAMA_MODEL") or DEFAULT_MODEL)
        super().__init__("ollama", f"ollama_chat/{self.ollama_model}", app.settings, api_base=self.base_url)

    def is_configured(self) -> bool:
        return self.named and bool(self.ollama_model)

    def _has_model(self, names: list[str]) -> bool:
        # Ollama reads a name without a tag as ":latest".
        wanted = self.ollama_model if ":" in self.ollama_model else f"{self.ollama_model}:latest"
        return wanted in names

    async def health(self) -> ComponentHealth:
        """``GET /api/tags`` with a short timeout: is Ollama up, and has it pulled the model?"""
        if not self.named:
            return ComponentHealth.not_configured("set OLLAMA_BASE_URL (e.g. http://localhost:11434) to use a local model")
        try:
            async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT) as client:
                response = await client.get(f"{self.base_url}/api/tags")
                response.raise_for_status()
                names = [str(m.get("name") or m.get("model") or "") for m in response.json().get("models", [])]
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            return ComponentHealth.error(f"Ollama unreachable at {self.base_url} ({type(exc).__name__}: {exc}); start it or set OLLAMA_BASE_URL")
        if not self._has_model(names):
            return ComponentHealth.error(
                f"Ollama at {self.base_url} does not have model {self.ollama_model}: run `ollama pull {self.ollama_model}`"
                f" (available: {', '.join(names) or 'none'})"
            )
        return ComponentHealth.connected(f"{self.ollama_model} at {self.base_url}")
