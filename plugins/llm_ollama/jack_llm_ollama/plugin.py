"""Hook implementations of the llm_ollama plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.interfaces import LLMProvider
from jack_llm_ollama.provider import OllamaProvider

if TYPE_CHECKING:
    from jack_host.app import JackApp


@hookimpl
def jack_register_llm_providers(register: Callable[[LLMProvider], None], app: JackApp) -> None:
    register(OllamaProvider(app))
