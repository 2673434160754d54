"""What one LLM call cost: ``costs.ai.prices`` first, then LiteLLM's bundled cost map.

Local models cost zero.  A model nobody knows the price of costs ``None`` (stored
as NULL and warned about), never a silent zero that would hide spend from budgets.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from jack_host.builtin.costs.config import ModelPrice
from jack_host.kit.litellm import litellm

log = logging.getLogger("jack.llm.pricing")


@dataclass(frozen=True)
class Price:
    cost_usd: float | None
    #: ``costs.yaml``, ``litellm``, ``local`` or ``unknown``.
    source: str


def _candidates(model: str) -> list[str]:
    """``openai/gpt-4o`` is also looked up as ``gpt-4o`` (the YAML and LiteLLM use either)."""
    names = [model]
    if "/" in model:
        names.append(model.split("/", 1)[1])
    return names


def needs_cost_map(model: str, *, is_local: bool, overrides: Mapping[str, ModelPrice]) -> bool:
    """Whether pricing ``model`` reads LiteLLM's cost map (so LiteLLM must be imported first)."""
    return not is_local and not any(name in overrides for name in _candidates(model))


def price_call(model: str, input_tokens: int, output_tokens: int, *, is_local: bool, overrides: Mapping[str, ModelPrice]) -> Price:
    """Estimate the USD cost of a call to ``model``."""
    if is_local:
        return Price(0.0, "local")
    for name in _candidates(model):
        if name in overrides:
            price = overrides[name]
            return Price(input_tokens / 1000 * price.input_per_1k + output_tokens / 1000 * price.output_per_1k, "costs.yaml")
    name = _cost_map_name(model)
    if name is None:
        return Price(None, "unknown")
    prompt, completion = litellm().cost_per_token(model=name, prompt_tokens=input_tokens, completion_tokens=output_tokens)
    return Price(float(prompt) + float(completion), "litellm")


@functools.lru_cache(maxsize=256)
def _cost_map_name(model: str) -> str | None:
    """The spelling of ``model`` LiteLLM's bundled cost map knows, or None.

    The map is bundled (never downloaded), so the answer holds for the process's life;
    remembering it spares every call the exceptions LiteLLM raises for unmapped names.
    """
    module = litellm()
    for name in _candidates(model):
        try:
            module.cost_per_token(model=name, prompt_tokens=1, completion_tokens=1)
        except Exception:  # LiteLLM raises for unmapped models; try the next spelling
            continue
        return name
    return None


def unknown_price_warning(model: str) -> str:
    return (
        f"no price known for model {model!r}: its calls are recorded with a NULL cost and do not count towards budgets; "
        f"add costs.ai.prices.{model}: {{input_per_1k: <USD>, output_per_1k: <USD>}} to costs.yaml"
    )
