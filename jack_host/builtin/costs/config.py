"""The ``costs`` section of the settings (``costs.yaml``), checked once at start-up.

The shape is the deployment document's ``Budget Alerts`` block, plus optional
per-model prices::

    costs:
      ai:
        daily_budget: 100            # USD
        monthly_budget: 2500         # USD
        alerts:
          - {threshold: 0.8, action: notify}
          - {threshold: 1.0, action: notify_urgent}
          - {threshold: 1.2, action: fallback_to_local}
        prices:                      # optional: override or add LiteLLM's bundled prices
          anthropic/claude-sonnet-4-5: {input_per_1k: 0.003, output_per_1k: 0.015}
      sms:
        monthly_budget: 500
        per_message_cost: 0.0075
        alerts:
          - {threshold: 0.9, action: notify}

Every problem is reported on its own line, naming the key, the value and what is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AI_ACTIONS = ("notify", "notify_urgent", "fallback_to_local")
SMS_ACTIONS = ("notify", "notify_urgent")


@dataclass(frozen=True)
class BudgetAlert:
    threshold: float
    action: str


@dataclass(frozen=True)
class ModelPrice:
    input_per_1k: float
    output_per_1k: float


@dataclass(frozen=True)
class AICosts:
    daily_budget: float | None = None
    monthly_budget: float | None = None
    alerts: tuple[BudgetAlert, ...] = ()
    prices: dict[str, ModelPrice] = field(default_factory=dict)


@dataclass(frozen=True)
class SMSCosts:
    monthly_budget: float | None = None
    per_message_cost: float | None = None
    alerts: tuple[BudgetAlert, ...] = ()


@dataclass(frozen=True)
class CostsConfig:
    ai: AICosts = field(default_factory=AICosts)
    sms: SMSCosts = field(default_factory=SMSCosts)


def _number(value: Any, where: str, errors: list[str], *, positive: bool) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        errors.append(f"{where}={value}: expected a number")
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        errors.append(f"{where}={value!r}: expected a number")
        return None
    if positive and number <= 0:
        errors.append(f"{where}={value}: expected a number above 0")
        return None
    if number < 0:
        errors.append(f"{where}={value}: expected a number of at least 0")
        return None
    return number


def _unknown_keys(node: Mapping, allowed: tuple[str, ...], where: str, errors: list[str]) -> None:
    for key in node:
        if str(key).lower() not in allowed:
            errors.append(f"{where}.{key}: unknown key; expected one of {', '.join(allowed)}")


def _alerts(value: Any, where: str, actions: tuple[str, ...], errors: list[str]) -> tuple[BudgetAlert, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.append(f"{where}: expected a list of {{threshold, action}} items")
        return ()
    alerts = []
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            errors.append(f"{here}={item!r}: expected a mapping with threshold and action")
            continue
        _unknown_keys(item, ("threshold", "action"), here, errors)
        if item.get("threshold") is None:
            errors.append(f"{here}.threshold: missing; expected a fraction of the budget such as 0.8")
        threshold = _number(item.get("threshold"), f"{here}.threshold", errors, positive=True)
        action = str(item.get("action") or "")
        if action not in actions:
            errors.append(f"{here}.action={action!r}: expected one of {', '.join(actions)}")
            continue
        if threshold is not None:
            alerts.append(BudgetAlert(threshold, action))
    thresholds = [a.threshold for a in alerts]
    for duplicate in sorted({t for t in thresholds if thresholds.count(t) > 1}):
        errors.append(f"{where}: threshold {duplicate:g} appears twice; each threshold fires once per period")
    return tuple(sorted(alerts, key=lambda a: a.threshold))


def _prices(value: Any, where: str, errors: list[str]) -> dict[str, ModelPrice]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(f"{where}: expected a mapping of model name to {{input_per_1k, output_per_1k}}")
        return {}
    prices = {}
    for model, price in value.items():
        here = f"{where}.{model}"
        if not isinstance(price, Mapping):
            errors.append(f"{here}={price!r}: expected {{input_per_1k: <USD>, output_per_1k: <USD>}}")
            continue
        _unknown_keys(price, ("input_per_1k", "output_per_1k"), here, errors)
        missing = [k for k in ("input_per_1k", "output_per_1k") if price.get(k) is None]
        for key in missing:
            errors.append(f"{here}.{key}: missing; expected USD per 1,000 tokens (0 for free)")
        numbers = [_number(price.get(k), f"{here}.{k}", errors, positive=False) for k in ("input_per_1k", "output_per_1k")]
        if not missing and None not in numbers:
            prices[str(model)] = ModelPrice(numbers[0], numbers[1])  # type: ignore[arg-type]
    return prices


def parse_costs(section: Any) -> tuple[CostsConfig, list[str]]:
    """Turn the ``costs`` settings section into a :class:`CostsConfig`; return it with error lines."""
    errors: list[str] = []
    if not section:
        return CostsConfig(), errors
    if not isinstance(section, Mapping):
        return CostsConfig(), [f"costs={section!r}: expected a mapping with ai and sms sections"]
    _unknown_keys(section, ("ai", "sms"), "costs", errors)
    ai_node = section.get("ai") or {}
    sms_node = section.get("sms") or {}
    ai = AICosts()
    sms = SMSCosts()
    if not isinstance(ai_node, Mapping):
        errors.append(f"costs.ai={ai_node!r}: expected a mapping")
    else:
        _unknown_keys(ai_node, ("daily_budget", "monthly_budget", "alerts", "prices"), "costs.ai", errors)
        ai = AICosts(
            daily_budget=_number(ai_node.get("daily_budget"), "costs.ai.daily_budget", errors, positive=True),
            monthly_budget=_number(ai_node.get("monthly_budget"), "costs.ai.monthly_budget", errors, positive=True),
            alerts=_alerts(ai_node.get("alerts"), "costs.ai.alerts", AI_ACTIONS, errors),
            prices=_prices(ai_node.get("prices"), "costs.ai.prices", errors),
        )
        if ai.alerts and ai.daily_budget is None and ai.monthly_budget is None and "daily_budget" not in ai_node and "monthly_budget" not in ai_node:
            errors.append("costs.ai.alerts: set costs.ai.daily_budget or costs.ai.monthly_budget; alerts are fractions of a budget")
    if not isinstance(sms_node, Mapping):
        errors.append(f"costs.sms={sms_node!r}: expected a mapping")
    else:
        _unknown_keys(sms_node, ("monthly_budget", "per_message_cost", "alerts"), "costs.sms", errors)
        sms = SMSCosts(
            monthly_budget=_number(sms_node.get("monthly_budget"), "costs.sms.monthly_budget", errors, positive=True),
            per_message_cost=_number(sms_node.get("per_message_cost"), "costs.sms.per_message_cost", errors, positive=False),
            alerts=_alerts(sms_node.get("alerts"), "costs.sms.alerts", SMS_ACTIONS, errors),
        )
        if sms.alerts and sms.monthly_budget is None and "monthly_budget" not in sms_node:
            errors.append("costs.sms.alerts: set costs.sms.monthly_budget; alerts are fractions of it")
    return CostsConfig(ai=ai, sms=sms), errors
