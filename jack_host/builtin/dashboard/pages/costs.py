"""``/costs`` (managers and admins): 30 days of AI spend against the budget, cost per conversation and
fallback usage as SVG charts, the budget state with "resume" after ``fallback_to_local``, and SMS spend.

The numbers are the costs feature's (:func:`jack_host.builtin.costs.reports.build_report`, the same
document as ``GET /api/v1/costs``); only the SMS spend per day is summed here from its ledger.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

import falcon
from sqlalchemy import text

from jack_host.builtin.costs.reports import build_report
from jack_host.builtin.costs.service import CostService
from jack_host.builtin.dashboard.guard import field, form_data, page_guard
from jack_host.builtin.dashboard.registry import MenuEntry, Page
from jack_host.builtin.dashboard.rendering import error_page, flash, render, see_other
from jack_host.builtin.dashboard.svg_charts import bar_chart
from jack_host.contract.services import Audit

if TYPE_CHECKING:
    from jack_host.contract.app import App

DAYS = 30
SMS_BY_DAY = text("SELECT day, SUM(cost_usd) AS cost, SUM(segments) AS segments FROM sms_usage WHERE day >= :since GROUP BY day")


def days_of(report: dict[str, Any]) -> list[str]:
    first = dt.date.fromisoformat(report["window"]["since"])
    return [(first + dt.timedelta(days=n)).isoformat() for n in range(report["window"]["days"])]


def costs_view(app: App) -> dict[str, Any]:
    """Everything the page shows: the report, and per-day series for the charts (every day, zeros included)."""
    report = build_report(app, DAYS)
    days = days_of(report)
    daily = {row["day"]: row for row in report["daily"]}
    per_conversation = {row["date"]: row for row in report["cost_per_conversation"].get("rows", [])}
    with app.engine.connect() as connection:
        sms = {row.day: row for row in connection.execute(SMS_BY_DAY, {"since": report["window"]["since"]})}
    rows = []
    for day in days:
        ai = daily.get(day, {})
        requests = int(ai.get("requests") or 0)
        fallbacks = int(ai.get("fallbacks") or 0)
        rows.append({
            "day": day,
            "spend": float(ai.get("cost_usd") or 0),
            "requests": requests,
            "fallbacks": fallbacks,
            "fallback_share": 100.0 * fallbacks / requests if requests else None,
            "cost_per_conversation": (per_conversation.get(day) or {}).get("cost_per_conversation"),
            "sms": float(sms[day].cost) if day in sms else 0.0,
            "sms_segments": int(sms[day].segments) if day in sms else 0,
        })
    budgets = report["budgets"]
    daily_budget = budgets["ai"]["daily_budget_usd"]
    charts = [
        ("chart-spend", "Daily AI spend (USD) against the daily budget", [(r["day"], r["spend"]) for r in rows],
         {"unit": "USD", "limit": daily_budget, "limit_label": "daily budget", "decimals": 2}),
        ("chart-per-conversation", "AI cost per conversation (USD), by the day it started",
         [(r["day"], r["cost_per_conversation"]) for r in rows], {"unit": "USD", "decimals": 3}),
        ("chart-fallback", "Fallback usage: share of AI calls made by a fallback provider (%)",
         [(r["day"], r["fallback_share"]) for r in rows], {"unit": "%", "decimals": 0}),
        ("chart-sms", "Daily SMS spend (USD)", [(r["day"], r["sms"]) for r in rows], {"unit": "USD", "decimals": 2}),
    ]
    charts = [{"title": title, "svg": bar_chart(chart_id, title, points, **options)} for chart_id, title, points, options in charts]
    return {"report": report, "rows": rows, "charts": charts, "budgets": budgets,
            "metrics": {m["metric"]: m for m in report["metrics"]}}


@falcon.before(page_guard("manager"))
class CostsPage:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        view = await asyncio.to_thread(costs_view, self.app)
        render(self.app, req, resp, "costs.html", **view)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_data(req)
        if field(form, "action") != "resume":
            raise error_page(self.app, req, falcon.HTTP_400, "Unknown action", "This page only resumes paid AI providers.")
        who = req.context.staff.email
        lifted = await asyncio.to_thread(CostService.of(self.app).resume, who)
        if lifted:
            if audit := self.app.services.find(Audit):
                await asyncio.to_thread(audit.record, who, "budget.resume", "budget:ai",
                                        {"fallback_to_local": True}, {"fallback_to_local": False})
            flash(req, resp, "Paid AI providers are used again.")
        else:
            flash(req, resp, "Paid AI providers were not paused; nothing to do.")
        raise see_other("/costs")


PAGES = [Page("/costs", CostsPage, MenuEntry("/costs", "Costs", "manager", 70))]
