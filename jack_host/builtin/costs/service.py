"""The ``Costs`` service: records what AI calls and SMS cost, keeps budgets and raises their alerts."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jack_host.builtin.costs import budgets, ledger
from jack_host.builtin.costs.config import BudgetAlert, parse_costs
from jack_host.builtin.costs.metrics import AICallMetrics
from jack_host.builtin.costs.models import BudgetThreshold, SMSUsage
from jack_host.builtin.costs.pricing import needs_cost_map, price_call, unknown_price_warning
from jack_host.config.settings import SettingsError
from jack_host.contract.interfaces import Alert
from jack_host.contract.services import AICall, Costs
from jack_host.kit.litellm import litellm_loaded

if TYPE_CHECKING:
    from jack_host.contract.app import App
    from jack_host.contract.interfaces import LLMProvider

log = logging.getLogger("jack.costs")

#: Twilio's US rate, used when costs.yaml sets no costs.sms.per_message_cost.
DEFAULT_SMS_COST_PER_SEGMENT = 0.0075
STATE_KEY = "jack.costs"
SEVERITY = {"notify": "warning", "notify_urgent": "critical"}
BUDGET_NAMES = {"ai.daily": "daily AI budget", "ai.monthly": "monthly AI budget", "sms.monthly": "monthly SMS budget"}


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CostService(Costs):
    """The cost ledger and budgets of one app.

    ``clock`` returns the current time (timezone-aware); tests replace it to move
    through a day without sleeping.  Periods are days and months in the hotel's
    timezone (``app.hotel_timezone()``).

    :raises SettingsError: the ``costs`` section of the settings is malformed (one line per problem).
    """

    @classmethod
    def of(cls, app: App) -> CostService:
        """The costs feature's own handle (other features use ``app.services.costs``)."""
        return app.state[STATE_KEY]

    def __init__(self, app: App, clock: Callable[[], dt.datetime] = system_clock):
        self.app = app
        self.clock = clock
        self.config, errors = parse_costs(app.settings.get("costs"))
        if errors:
            raise SettingsError(errors)
        self._warned_unpriced: set[str] = set()
        self.call_metrics = AICallMetrics(app.metrics)

    # ------------------------------------------------------------------ time
    def local_now(self) -> dt.datetime:
        return self.clock().astimezone(self.app.hotel_timezone())

    def periods(self) -> budgets.Periods:
        return budgets.Periods.at(self.local_now())

    # ------------------------------------------------------------------ AI
    async def record_ai_call(self, call: AICall) -> int:
        """Price and store one LLM call, then fire any AI budget threshold it crossed; returns the ``ai_usage`` id.

        Runs on the event loop: pricing is a dictionary look-up once LiteLLM is imported
        and the ledger write is two statements, cheaper than a hop to a thread.
        """
        self.call_metrics.observe(call)
        periods = self.periods()
        prices = self.config.ai.prices
        if needs_cost_map(call.model, is_local=call.is_local, overrides=prices):
            await litellm_loaded()  # the one-off import takes seconds of CPU: not on the loop
        price = price_call(call.model, call.input_tokens, call.output_tokens, is_local=call.is_local, overrides=prices)
        cost = price.cost_usd
        if cost is None and call.outcome != "ok" and not (call.input_tokens or call.output_tokens):
            cost = 0.0  # a call that failed before using any token cost nothing, whatever the model's price
        usage_id = ledger.record_ai_call(self.app.engine, call, periods.day, cost, price.source)
        if cost is None and call.model not in self._warned_unpriced:
            self._warned_unpriced.add(call.model)
            warning = unknown_price_warning(call.model)
            log.warning(warning)
            await self.app.services.alerts.raise_alert(
                Alert(
                    name="costs.ai.unknown_price",
                    severity="warning",
                    summary=warning,
                    details={"model": call.model, "provider": call.provider, "ai_usage_id": usage_id},
                    dedup_key=f"costs:unknown_price:{call.model}",
                )
            )
        if cost:
            await self.check_ai_budgets(periods)
        return usage_id

    async def check_ai_budgets(self, periods: budgets.Periods | None = None) -> list[BudgetThreshold]:
        periods = periods or self.periods()
        ai = self.config.ai
        fired: list[BudgetThreshold] = []
        for budget, limit in (("ai.daily", ai.daily_budget), ("ai.monthly", ai.monthly_budget)):
            if not limit or not ai.alerts:
                continue
            period = periods.period_of(budget)
            spend = budgets.ai_spend(self.app.engine, period)
            fired += await self._fire(budget, period, spend, limit, ai.alerts)
        return fired

    def local_only(self) -> BudgetThreshold | None:
        """The ``fallback_to_local`` threshold in force now, if any: AI calls go to local providers only."""
        return budgets.active_local_only(self.app.engine, self.periods())

    def resume(self, by: str = "admin") -> list[BudgetThreshold]:
        """Lift ``fallback_to_local`` (``jack costs resume``); paid providers are used again."""
        lifted = budgets.lift_local_only(self.app.engine, by)
        for row in lifted:
            log.warning("paid AI providers resumed by %s (lifted %s %s at %.0f%%)", by, row.budget, row.period, row.threshold * 100)
        return lifted

    # ------------------------------------------------------------------ SMS
    async def record_sms(self, cost_usd: float | None = None, segments: int = 1, message_id: int | None = None) -> SMSUsage:
        """Record one SMS sent (``await app.services.costs.record_sms(0.015, 2, message_id=42)``).

        ``cost_usd`` None: ``segments * costs.sms.per_message_cost`` (0 when that is not set).
        Then fires any ``costs.sms.alerts`` threshold crossed this month.
        """
        segments = max(int(segments or 1), 1)
        if cost_usd is None:
            cost_usd = segments * (self.config.sms.per_message_cost or 0.0)
        periods = self.periods()
        row = ledger.record_sms(self.app.engine, periods.day, float(cost_usd), segments, message_id)
        sms = self.config.sms
        if sms.monthly_budget and sms.alerts:
            spend = budgets.sms_spend(self.app.engine, periods.month)
            await self._fire("sms.monthly", periods.month, spend, sms.monthly_budget, sms.alerts)
        return row

    # ------------------------------------------------------------------ alerts
    async def _fire(self, budget: str, period: str, spend: float, limit: float, alerts: tuple[BudgetAlert, ...]) -> list[BudgetThreshold]:
        # Inline: below the lowest threshold (nearly every call) it does not touch the database.
        fired = budgets.fire_crossed(self.app.engine, budget, period, spend, limit, alerts)
        for row in fired:
            await self.app.services.alerts.raise_alert(self._alert_for(row))
        return fired

    def _alert_for(self, row: BudgetThreshold) -> Alert:
        what = BUDGET_NAMES.get(row.budget, row.budget)
        when = "today" if row.budget.endswith(".daily") else "this month"
        summary = (
            f"{'AI' if row.budget.startswith('ai') else 'SMS'} spend {when} is ${row.spend:,.2f}, "
            f"{row.spend / row.limit:.0%} of the {what} of ${row.limit:,.2f} (alert at {row.threshold:.0%})"
        )
        details: dict[str, Any] = {
            "budget": row.budget,
            "period": row.period,
            "threshold": row.threshold,
            "action": row.action,
            "spend_usd": round(row.spend, 6),
            "budget_usd": row.limit,
        }
        severity = SEVERITY.get(row.action, "critical")
        if row.action == "fallback_to_local":
            until = f"until midnight ({self.app.hotel_timezone().key})" if row.budget.endswith(".daily") else "until the end of the month"
            local = self.local_providers()
            if local:
                names = ", ".join(f"{p.name} ({p.model})" for p in local)
                unhealthy = [p.name for p in local if self.app.health_monitor.get(p).state == "error"]
                summary += f". AI calls now go to the local model only: {names}, {until} or until an admin runs `jack costs resume`."
                if unhealthy:
                    summary += f" Warning: {', '.join(unhealthy)} failed its last health check; guest messages will be escalated to staff if it cannot answer."
                    severity = "critical"
                else:
                    severity = "warning"
                details["local_providers"] = [p.name for p in local]
            else:
                summary += (
                    f". No local model is configured (install the llm_ollama plugin and run Ollama), so paid AI calls are "
                    f"STOPPED {until} or until an admin runs `jack costs resume`: guest messages are escalated to staff."
                )
                details["local_providers"] = []
        return Alert(
            name=f"budget.{row.budget}.{row.action}",
            severity=severity,  # type: ignore[arg-type]
            summary=summary,
            details=details,
            dedup_key=f"budget:{row.budget}:{row.period}:{row.threshold:g}",
        )

    def sms_cost_per_segment(self) -> float:
        """USD per SMS segment: ``costs.sms.per_message_cost``, else Twilio's US rate."""
        configured = self.config.sms.per_message_cost
        return DEFAULT_SMS_COST_PER_SEGMENT if configured is None else float(configured)

    def local_providers(self) -> list[LLMProvider]:
        return [p for p in self.app.llm_providers.values() if p.is_local and p.is_configured()]

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """Spend against budgets now, fired thresholds and whether paid AI is paused (cheap: for /health)."""
        periods = self.periods()
        engine = self.app.engine
        ai, sms = self.config.ai, self.config.sms
        today = budgets.ai_spend(engine, periods.day)
        month = budgets.ai_spend(engine, periods.month)
        paused = budgets.active_local_only(engine, periods)
        return {
            "timezone": self.app.hotel_timezone().key,
            "day": periods.day,
            "month": periods.month,
            "ai": {
                "spend_today_usd": round(today, 4),
                "daily_budget_usd": ai.daily_budget,
                "spend_month_usd": round(month, 4),
                "monthly_budget_usd": ai.monthly_budget,
                "local_only": paused is not None,
                "local_only_since": f"{paused.budget} {paused.period} at {paused.threshold:.0%}" if paused else None,
            },
            "sms": {
                "spend_month_usd": round(budgets.sms_spend(engine, periods.month), 4),
                "monthly_budget_usd": sms.monthly_budget,
            },
            "fired": [
                {"budget": r.budget, "period": r.period, "threshold": r.threshold, "action": r.action, "lifted": r.lifted_at is not None}
                for r in budgets.fired_in(engine, periods)
            ],
        }
