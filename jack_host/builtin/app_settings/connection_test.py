"""The Apps page's "test connection": the plugin's own check, and for OpenAI and Anthropic models their SDKs.

The AI providers are asked for their models list (``openai``'s ``models.list()`` against an
OpenAI-compatible URL, ``anthropic``'s ``models.list()``), which needs a valid key and a reachable
server but costs nothing. The answer, or the SDK's exact error, is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jack_host.contract.interfaces import Component
from jack_host.kit.litellm_provider import LiteLLMProvider

if TYPE_CHECKING:
    from jack_host.web.app import JackApp

TIMEOUT_SECONDS = 10.0
#: Models listed in the answer at most (an OpenAI account lists about a hundred).
SHOWN_MODELS = 20


async def test_component(app: JackApp, component: Component) -> dict[str, Any]:
    """Run one component's check now; ``{"kind", "name", "ok", "state", "detail", "models"?}``."""
    if isinstance(component, LiteLLMProvider) and component.model and component.family in ("openai", "anthropic"):
        result = await list_models(component)
        # The monitor's cached health says "connected" for any configured key; the real answer is this one.
        return {"kind": component.kind, "name": component.name, **result}
    health = await app.health_monitor.check(component)
    return {"kind": component.kind, "name": component.name, "ok": health.state == "connected",
            "state": health.state, "detail": health.detail}


async def list_models(provider: LiteLLMProvider) -> dict[str, Any]:
    key = provider.api_key() or ""
    try:
        if provider.family == "anthropic":
            models = await _anthropic_models(key, provider.api_base)
        else:
            models = await _openai_models(key, provider.api_base)
    except Exception as exc:  # the SDK's own error, shown as it is: that is what hotel IT needs to see
        return {"ok": False, "state": "error", "detail": f"{type(exc).__name__}: {exc}"}
    where = provider.api_base or ("https://api.anthropic.com" if provider.family == "anthropic" else "https://api.openai.com/v1")
    listed = ", ".join(models[:SHOWN_MODELS]) + (" ..." if len(models) > SHOWN_MODELS else "")
    return {"ok": True, "state": "connected", "detail": f"{where} lists {len(models)} model(s): {listed}", "models": models}


async def _openai_models(key: str, base_url: str | None) -> list[str]:
    # Imported here: the SDK is only needed when someone presses "test connection".
    import openai

    async with openai.AsyncOpenAI(api_key=key or "no-key", base_url=base_url or None, timeout=TIMEOUT_SECONDS, max_retries=0) as client:
        return [model.id async for model in client.models.list()]


async def _anthropic_models(key: str, base_url: str | None) -> list[str]:
    # Imported here: the SDK is only needed when someone presses "test connection".
    import anthropic

    async with anthropic.AsyncAnthropic(api_key=key, base_url=base_url or None, timeout=TIMEOUT_SECONDS, max_retries=0) as client:
        return [model.id async for model in client.models.list()]
