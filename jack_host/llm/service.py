"""Choosing a provider for each call and falling back to the next one on failure."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jack_host.interfaces import LLMProvider, LLMProviderError, LLMRequest, LLMResponse

if TYPE_CHECKING:
    from jack_host.app import JackApp

log = logging.getLogger("jack.llm")


class NoProviderConfigured(RuntimeError):
    """No LLM provider is configured: the caller uses its no-model path."""


class AllProvidersFailed(RuntimeError):
    """Every configured provider failed; ``errors`` says how."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class LLMResult:
    response: LLMResponse
    provider: str
    fallback: bool
    latency_ms: float


class LLMService:
    """``await app.llm.complete(request, conversation_id=..., guest_id=...)``.

    Providers are tried in ``AI_PROVIDER_ORDER`` (comma-separated names; default:
    ``primary`` then every other registered provider), skipping unconfigured ones.
    """

    def __init__(self, app: JackApp):
        self.app = app

    def ordered_providers(self) -> list[LLMProvider]:
        registered = self.app.llm_providers
        order = [n.strip() for n in str(self.app.settings.get("AI_PROVIDER_ORDER") or "").split(",") if n.strip()]
        if not order:
            order = ["primary", *[n for n in registered if n != "primary"]]
        return [registered[name] for name in order if name in registered and registered[name].is_configured()]

    def available(self) -> bool:
        return bool(self.ordered_providers())

    async def complete(self, request: LLMRequest, *, conversation_id: int | None = None, guest_id: int | None = None) -> LLMResult:
        providers = self.ordered_providers()
        if not providers:
            raise NoProviderConfigured("no LLM provider is configured (set AI_MODEL and its API key)")
        errors = []
        for index, provider in enumerate(providers):
            started = time.perf_counter()
            try:
                response = await provider.complete(request)
            except (LLMProviderError, TimeoutError, OSError) as exc:
                errors.append(str(exc))
                log.warning("LLM provider %s failed: %s", provider.name, exc)
                continue
            return LLMResult(response, provider.name, index > 0, (time.perf_counter() - started) * 1000)
        raise AllProvidersFailed(errors)
