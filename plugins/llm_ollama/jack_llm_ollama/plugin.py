"""Hook implementations of the llm_ollama plugin: the ``ollama`` local provider and its settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import LLMProvider
from jack_llm_ollama.provider import DEFAULT_BASE_URL, DEFAULT_MODEL, OllamaProvider

if TYPE_CHECKING:
    from jack_host.contract.app import App


def _check_url(value: str) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        return "a URL such as http://localhost:11434 (http://ollama:11434 in docker compose)"
    return None


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting(
            "OLLAMA_BASE_URL",
            str,
            "",
            f"where Ollama listens (http://ollama:11434 in docker compose); unset = no local model, unless AI_PROVIDER_ORDER "
            f"names ollama (then {DEFAULT_BASE_URL})",
            check=_check_url,
        ),
        Setting("OLLAMA_MODEL", str, DEFAULT_MODEL, "the Ollama model for local replies; pull it with `ollama pull <model>`"),
    ]


@hookimpl
def jack_register_llm_providers(register: Callable[[LLMProvider], None], app: App) -> None:
    register(OllamaProvider(app))
