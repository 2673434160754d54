"""The LLM gateway (``app.services.llm``: providers in order, every call priced) and the paid providers.

``AI_MODEL`` and ``AI_FALLBACK_MODEL`` are reached through LiteLLM, as ``primary`` and ``secondary``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from jack_host import hookimpl
from jack_host.builtin.llm.service import LLMService, read_breaker_state
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import DoctorCheck, LLMProvider
from jack_host.contract.services import LLM
from jack_host.kit.litellm import litellm
from jack_host.kit.litellm_provider import LiteLLMProvider

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.llm")


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("AI_MODEL", str, "", "LiteLLM model name, e.g. anthropic/claude-sonnet-4-5 or openai/gpt-4o; empty = no model"),
        Setting("AI_FALLBACK_MODEL", str, "", "a second paid model tried when AI_MODEL fails (provider name 'secondary'), e.g. openai/gpt-4o"),
        Setting(
            "AI_PROVIDER_ORDER",
            str,
            "",
            "providers to try in order, comma-separated, e.g. primary,secondary,ollama (default: primary, secondary, other paid, local)",
        ),
        Setting(
            "AI_MAX_CALLS_PER_MINUTE",
            int,
            60,
            "most model calls per minute, all guests together (0 = no ceiling); past it guests get the "
            "knowledge-base answer or the holding reply",
            minimum=0,
        ),
        Setting("AI_TIMEOUT_SECONDS", float, 20.0, "a provider slower than this is skipped for the next one", minimum=0.1),
        Setting(
            "AI_BREAKER_FAILURES",
            int,
            3,
            "failures in a row (5xx, 429, auth) that open a provider's circuit breaker; unreachable or timed out opens it at once",
            minimum=1,
        ),
        Setting(
            "AI_BREAKER_COOLDOWN_SECONDS",
            float,
            30.0,
            "seconds an open breaker skips its provider before a background probe (doubled after each failed probe)",
            minimum=1,
        ),
        Setting("ANTHROPIC_API_KEY", str, "", "key for anthropic/* models"),
        Setting("ANTHROPIC_API_BASE", str, "", "base URL of an Anthropic Messages API server (default https://api.anthropic.com)"),
        Setting("OPENAI_API_KEY", str, "", "key for openai/* models"),
        Setting("OPENAI_API_BASE", str, "", "base URL of an OpenAI-compatible server, e.g. http://vllm:8000/v1"),
    ]


@hookimpl
def jack_register_llm_providers(register: Callable[[LLMProvider], None], app: App) -> None:
    register(LiteLLMProvider("primary", str(app.settings.get("AI_MODEL") or ""), app.settings))
    fallback_model = str(app.settings.get("AI_FALLBACK_MODEL") or "")
    if fallback_model:
        register(LiteLLMProvider("secondary", fallback_model, app.settings))


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    provide(LLM, LLMService(app))


@hookimpl
def jack_startup(app: App) -> Awaitable[None]:
    unknown = app.services.llm.unknown_names_in_order()
    if unknown:
        log.warning("AI_PROVIDER_ORDER names providers that are not registered: %s (registered: %s)", ", ".join(unknown), ", ".join(app.llm_providers))

    def import_litellm() -> None:
        try:
            litellm()
        except Exception as exc:  # the provider call reports it again, per guest message
            log.warning("LiteLLM could not be imported: %s", exc)

    async def warm_up() -> None:
        # LiteLLM is imported in a thread while the server already answers /health (its import takes
        # seconds); /health/ready waits for the warm-up, so the first guest routed there does not wait
        # for it.  With no provider configured (the embedded default) it is never imported at all.
        if app.services.llm.available():
            app.warm_up.in_thread("litellm-import", import_litellm)

    return warm_up()


def _service(app: App) -> LLMService | None:
    """This feature's own service (another plugin may have provided a different LLM service)."""
    service = app.services.get(LLM)
    return service if isinstance(service, LLMService) else None


@hookimpl
async def jack_shutdown(app: App) -> None:
    if (service := _service(app)) is not None:
        await service.stop_probes()


@hookimpl
def jack_health_extras(app: App) -> dict[str, Any] | None:
    """``llm_breakers``: each configured provider's circuit breaker (state, since, last_error)."""
    service = _service(app)
    breakers = service.breaker_report() if service is not None else {}
    return {"llm_breakers": breakers} if breakers else None


@hookimpl
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
    unknown = app.services.llm.unknown_names_in_order()
    order = [p.name for p in app.services.llm.ordered_providers()]
    return [
        DoctorCheck(
            "AI providers: every name in AI_PROVIDER_ORDER is registered",
            not unknown,
            f"will try {', '.join(order) or 'no provider'}" + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            f"registered providers are {', '.join(app.llm_providers)}; fix AI_PROVIDER_ORDER or install the missing plugin",
            must_fix=False,
        ),
        *_breaker_checks(app),
    ]


def _breaker_checks(app: App) -> list[DoctorCheck]:
    # The breakers live in the server process; doctor reads what the server last recorded.
    recorded, at = read_breaker_state(app.engine)
    checks = []
    for provider in app.services.llm.ordered_providers():
        breaker = recorded.get(provider.name) or {"state": "closed", "since": None, "last_error": None}
        name = provider.name
        closed = breaker["state"] == "closed"
        detail = f"circuit {breaker['state']}" + (f" since {breaker['since']}" if breaker["since"] else "")
        detail += f" (recorded by the server at {at:%Y-%m-%d %H:%M:%S} UTC)" if at else " (the server recorded no failure)"
        if breaker["last_error"]:
            detail += f"; last error: {breaker['last_error']}"
        checks.append(
            DoctorCheck(
                f"AI provider {name}: circuit breaker closed (calls go through)",
                closed,
                detail,
                "the provider failed and is skipped until a background probe succeeds; check its URL, key and status",
                must_fix=False,
            )
        )
    return checks
