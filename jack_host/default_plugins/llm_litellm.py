"""The primary LLM provider (``AI_MODEL`` through LiteLLM) and ``app.llm``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.interfaces import LLMProvider
from jack_host.llm.providers import LiteLLMProvider
from jack_host.settings import Setting

if TYPE_CHECKING:
    from jack_host.app import JackApp


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("AI_MODEL", str, "", "LiteLLM model name, e.g. anthropic/claude-sonnet-4-5 or openai/gpt-4o; empty = no model"),
        Setting("AI_PROVIDER_ORDER", str, "", "providers to try in order, comma-separated (default: primary, then the rest)"),
        Setting("AI_TIMEOUT_SECONDS", float, 20.0, "a provider slower than this is skipped for the next one", minimum=0.1),
        Setting("ANTHROPIC_API_KEY", str, "", "key for anthropic/* models"),
        Setting("OPENAI_API_KEY", str, "", "key for openai/* models"),
        Setting("OPENAI_API_BASE", str, "", "base URL of an OpenAI-compatible server"),
    ]


@hookimpl
def jack_register_llm_providers(register: Callable[[LLMProvider], None], app: JackApp) -> None:
    register(LiteLLMProvider("primary", str(app.settings.get("AI_MODEL") or ""), app.settings))
