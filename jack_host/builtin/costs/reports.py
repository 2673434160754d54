"""The deployment document's "Cost Dashboard Metrics", "Cost per Conversation" and "ROI Tracking".

Used by ``jack costs report`` and ``GET /api/v1/costs``.  Each metric carries
the document's alert threshold and whether it is exceeded.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, bindparam, inspect, text

from jack_host.builtin.costs.service import CostService

if TYPE_CHECKING:
    from jack_host.contract.app import App

#: The "Alert Threshold" column of the document's Cost Dashboard Metrics table.
THRESHOLDS = {
    "daily_ai_spend": 50.0,  # USD per day
    "cost_per_conversation": 0.50,  # USD
    "cost_per_guest": 2.0,  # USD per stay
    "token_efficiency": 3.0,  # output / input
    "fallback_usage": 10.0,  # percent of requests
}
ROI_TARGET_SAVINGS = 80.0  # percent

# The document's query, with its SQLite-only DATE('now', '-30 days') replaced by a parameter
# so it runs on PostgreSQL too and follows the service's clock.
COST_PER_CONVERSATION_SQL = text(
    """
    SELECT
      DATE(c.created_at) AS date,
      COUNT(DISTINCT c.id) AS conversations,
      SUM(au.input_tokens) AS total_input_tokens,
      SUM(au.output_tokens) AS total_output_tokens,
      SUM(au.estimated_cost) AS total_cost,
      SUM(au.estimated_cost) / COUNT(DISTINCT c.id) AS cost_per_conversation
    FROM conversations c
    JOIN ai_usage au ON au.conversation_id = c.id
    WHERE c.created_at >= :since
    GROUP BY DATE(c.created_at)
    ORDER BY date DESC
    """
).bindparams(bindparam("since", type_=DateTime))


def _metric(name: str, value: float | None, unit: str, description: str, **extra: Any) -> dict[str, Any]:
    threshold = THRESHOLDS[name]
    return {
        "metric": name,
        "description": description,
        "value": None if value is None else round(value, 6),
        "unit": unit,
        "alert_threshold": threshold,
        "alert": value is not None and value > threshold,
        **extra,
    }


def build_report(app: App, days: int = 30) -> dict[str, Any]:
    """Everything the cost dashboard shows, for the last ``days`` hotel days (today included)."""
    costs = CostService.of(app)
    periods = costs.periods()
    today = dt.date.fromisoformat(periods.day)
    since_day = (today - dt.timedelta(days=days - 1)).isoformat()
    window = {"since": since_day}
    with app.engine.connect() as connection:
        daily = [
            dict(row._mapping)
            for row in connection.execute(
                text(
                    "SELECT day, SUM(estimated_cost) AS cost_usd, SUM(requests) AS requests, SUM(failures) AS failures, "
                    "SUM(fallbacks) AS fallbacks, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, "
                    "SUM(unpriced_requests) AS unpriced_requests FROM ai_usage_daily WHERE day >= :since GROUP BY day ORDER BY day DESC"
                ),
                window,
            )
        ]
        totals = connection.execute(
            text(
                "SELECT COUNT(*) AS calls, "
                "SUM(CASE WHEN outcome = 'ok' THEN 1 ELSE 0 END) AS answered, "
                "SUM(CASE WHEN outcome = 'ok' AND fallback THEN 1 ELSE 0 END) AS answered_by_fallback, "
                "SUM(CASE WHEN outcome = 'ok' THEN input_tokens ELSE 0 END) AS input_tokens, "
                "SUM(CASE WHEN outcome = 'ok' THEN output_tokens ELSE 0 END) AS output_tokens, "
                "COALESCE(SUM(estimated_cost), 0) AS cost, "
                "COUNT(DISTINCT conversation_id) AS conversations, "
                "COALESCE(SUM(CASE WHEN conversation_id IS NOT NULL THEN estimated_cost END), 0) AS conversation_cost, "
                "COUNT(DISTINCT guest_id) AS guests, "
                "COALESCE(SUM(CASE WHEN guest_id IS NOT NULL THEN estimated_cost END), 0) AS guest_cost "
                "FROM ai_usage WHERE day >= :since"
            ),
            window,
        ).one()._mapping
        by_provider = [
            dict(row._mapping)
            for row in connection.execute(
                text(
                    "SELECT provider, model, SUM(requests) AS requests, SUM(failures) AS failures, SUM(estimated_cost) AS cost_usd, "
                    "SUM(unpriced_requests) AS unpriced_requests FROM ai_usage_daily WHERE day >= :since "
                    "GROUP BY provider, model ORDER BY provider, model"
                ),
                window,
            )
        ]
        unpriced = [
            row[0]
            for row in connection.execute(
                text("SELECT DISTINCT model FROM ai_usage WHERE day >= :since AND estimated_cost IS NULL ORDER BY model"), window
            )
        ]
        per_conversation = _cost_per_conversation(app, connection, today, days)

    today_spend = next((float(d["cost_usd"] or 0) for d in daily if d["day"] == periods.day), 0.0)
    days_over = [d["day"] for d in daily if float(d["cost_usd"] or 0) > THRESHOLDS["daily_ai_spend"]]
    answered = int(totals["answered"] or 0)
    input_tokens, output_tokens = int(totals["input_tokens"] or 0), int(totals["output_tokens"] or 0)
    metrics = [
        _metric(
            "daily_ai_spend", today_spend, "USD/day", "Total AI API cost per day (value: today)",
            days_over_threshold=days_over, alert_any_day=bool(days_over),
        ),
        _metric(
            "cost_per_conversation",
            float(totals["conversation_cost"]) / totals["conversations"] if totals["conversations"] else None,
            "USD", "Average AI cost per conversation", conversations=int(totals["conversations"] or 0),
        ),
        _metric(
            "cost_per_guest",
            float(totals["guest_cost"]) / totals["guests"] if totals["guests"] else None,
            "USD", "Average AI cost per unique guest (over the window, standing in for a stay)", guests=int(totals["guests"] or 0),
        ),
        _metric(
            "token_efficiency", output_tokens / input_tokens if input_tokens else None, "output/input",
            "Output/Input token ratio of answered calls (high may mean verbose responses)",
            input_tokens=input_tokens, output_tokens=output_tokens,
        ),
        _metric(
            "fallback_usage", 100.0 * int(totals["answered_by_fallback"] or 0) / answered if answered else None, "%",
            "Share of answered requests served by a fallback provider", answered=answered,
            answered_by_fallback=int(totals["answered_by_fallback"] or 0),
        ),
    ]
    return {
        "window": {"days": days, "since": since_day, "until": periods.day, "timezone": app.hotel_timezone().key},
        "metrics": metrics,
        "daily": [_rounded(d) for d in daily],
        "by_provider": [_rounded(d) for d in by_provider],
        "cost_per_conversation": per_conversation,
        "roi": _roi(app, answered, float(totals["cost"] or 0)),
        "unpriced_models": unpriced,
        "totals": {"calls": int(totals["calls"] or 0), "answered": answered, "cost_usd": round(float(totals["cost"] or 0), 6)},
        "budgets": costs.status(),
    }


def _cost_per_conversation(app: App, connection: Any, today: dt.date, days: int) -> dict[str, Any]:
    """The document's "Cost per Conversation" query over the last 30 days (``conversations`` is the pipeline's table)."""
    if not inspect(connection).has_table("conversations"):
        return {"available": False, "reason": "the conversations table does not exist (the conversation pipeline is not installed)", "rows": []}
    local_midnight = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), app.hotel_timezone())
    since = local_midnight.astimezone(dt.UTC)
    rows = [_rounded(dict(row._mapping)) for row in connection.execute(COST_PER_CONVERSATION_SQL, {"since": since})]
    for row in rows:
        row["alert"] = row.get("cost_per_conversation") is not None and row["cost_per_conversation"] > THRESHOLDS["cost_per_conversation"]
    return {"available": True, "days": 30, "alert_threshold": THRESHOLDS["cost_per_conversation"], "rows": rows}


def _roi(app: App, answered: int, ai_cost: float) -> dict[str, Any]:
    minutes = float(app.settings.get("ROI_STAFF_MINUTES_PER_REQUEST") or 0)
    rate = float(app.settings.get("ROI_STAFF_HOURLY_RATE") or 0)
    hours_saved = answered * minutes / 60
    staff_cost = hours_saved * rate
    savings = staff_cost - ai_cost
    return {
        "requests_handled_by_ai": answered,
        "staff_minutes_per_request": minutes,
        "staff_hourly_rate_usd": rate,
        "staff_hours_saved": round(hours_saved, 2),
        "staff_cost_avoided_usd": round(staff_cost, 2),
        "ai_cost_usd": round(ai_cost, 4),
        "cost_savings_vs_staff_usd": round(savings, 2) if minutes and rate else None,
        "cost_savings_pct": round(100 * savings / staff_cost, 1) if staff_cost else None,
        "target_savings_pct": ROI_TARGET_SAVINGS,
        "below_target": bool(staff_cost) and 100 * savings / staff_cost < ROI_TARGET_SAVINGS,
        "not_computed": ["guest_satisfaction_delta (needs CSAT before Jack)", "response_time_improvement (needs response times before Jack)"],
    }


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 6) if isinstance(v, float) else (str(v) if isinstance(v, dt.date) else v)) for k, v in row.items()}


def format_report(report: dict[str, Any]) -> str:
    """The report as text for the terminal."""
    window = report["window"]
    lines = [f"AI costs, {window['since']} to {window['until']} ({window['days']} days, {window['timezone']})", ""]
    lines.append(f"{'metric':<24} {'value':>14}  {'alert at':>10}  status")
    for m in report["metrics"]:
        value = "n/a" if m["value"] is None else _fmt(m["value"], m["unit"])
        flagged = m["alert"] or m.get("alert_any_day")
        status = "ALERT" if flagged else "ok"
        if m["metric"] == "daily_ai_spend" and m.get("days_over_threshold"):
            status += f" (over on {', '.join(m['days_over_threshold'])})"
        lines.append(f"{m['metric']:<24} {value:>14}  {_fmt(m['alert_threshold'], m['unit']):>10}  {status}")
    lines += ["", "Per day:"]
    if not report["daily"]:
        lines.append("  no AI calls in this window")
    for d in report["daily"]:
        lines.append(
            f"  {d['day']}  ${float(d['cost_usd'] or 0):>10.4f}  {d['requests']} calls, {d['failures']} failed, {d['fallbacks']} fallback"
            + (f", {d['unpriced_requests']} UNPRICED" if d["unpriced_requests"] else "")
        )
    per_conversation = report["cost_per_conversation"]
    lines += ["", "Cost per conversation (last 30 days):"]
    if not per_conversation["available"]:
        lines.append(f"  unavailable: {per_conversation['reason']}")
    elif not per_conversation["rows"]:
        lines.append("  no conversations with AI calls")
    for row in per_conversation["rows"]:
        lines.append(
            f"  {row['date']}  {row['conversations']} conversations  ${float(row['total_cost'] or 0):.4f}  "
            f"${float(row['cost_per_conversation'] or 0):.4f}/conversation" + ("  ALERT" if row["alert"] else "")
        )
    roi = report["roi"]
    lines += ["", "ROI:"]
    lines.append(
        f"  {roi['requests_handled_by_ai']} requests handled by AI x {roi['staff_minutes_per_request']:g} min = "
        f"{roi['staff_hours_saved']} staff hours saved"
    )
    if roi["cost_savings_vs_staff_usd"] is None:
        lines.append("  savings vs staff: not computed (set ROI_STAFF_HOURLY_RATE and ROI_STAFF_MINUTES_PER_REQUEST)")
    elif roi["cost_savings_pct"] is None:
        lines.append("  savings vs staff: no requests handled by AI yet")
    else:
        lines.append(
            f"  savings vs staff: ${roi['cost_savings_vs_staff_usd']:,.2f} ({roi['cost_savings_pct']}%, target > {roi['target_savings_pct']:g}%)"
            + ("  BELOW TARGET" if roi["below_target"] else "")
        )
    if report["unpriced_models"]:
        lines += ["", f"Models with unknown prices (cost recorded as NULL): {', '.join(report['unpriced_models'])}",
                  "  add them under costs.ai.prices in costs.yaml"]
    budgets = report["budgets"]
    ai = budgets["ai"]
    lines += ["", "Budgets:"]
    lines.append(f"  AI today  ${ai['spend_today_usd']:.4f} of {_budget(ai['daily_budget_usd'])}")
    lines.append(f"  AI month  ${ai['spend_month_usd']:.4f} of {_budget(ai['monthly_budget_usd'])}")
    lines.append(f"  SMS month ${budgets['sms']['spend_month_usd']:.4f} of {_budget(budgets['sms']['monthly_budget_usd'])}")
    if ai["local_only"]:
        lines.append(f"  PAID AI PAUSED (fallback_to_local, {ai['local_only_since']}); lift with `jack costs resume`")
    for fired in budgets["fired"]:
        lines.append(f"  fired: {fired['budget']} {fired['period']} at {fired['threshold']:.0%} -> {fired['action']}" + (" (lifted)" if fired["lifted"] else ""))
    return "\n".join(lines)


def _fmt(value: float, unit: str) -> str:
    if unit.startswith("USD"):
        return f"${value:,.4f}"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:.2f}:1"


def _budget(value: float | None) -> str:
    return f"${value:,.2f}" if value else "no budget set"
