"""Local LLM provider through Ollama: the llm provider object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jack_host.interfaces import ComponentHealth, LLMProvider, LLMRequest, LLMResponse, NotConfiguredError

if TYPE_CHECKING:
    from jack_host.app import JackApp


class OllamaProvider(LLMProvider):
    name = "ollama"
    is_local = True

    def __init__(self, app: JackApp):
        self.app = app

    @property
    def model(self) -> str:
        return "ollama_chat/llama3.1"

    def is_configured(self) -> bool:
        return False

    async def health(self) -> ComponentHealth:
        return ComponentHealth.not_configured("the Ollama provider is not available yet in this version")

    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise NotConfiguredError("LLM provider 'ollama' is not available yet in this version")
