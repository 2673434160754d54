"""Budget periods, spend so far, and thresholds that fire once per period.

A threshold fires when spend reaches ``threshold * budget``.  Firing inserts a
``budget_thresholds`` row whose unique key (budget, period, threshold) makes the
action happen once per period, across restarts and concurrent calls alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jack_host.costs.config import BudgetAlert
from jack_host.costs.models import AIUsageDaily, BudgetThreshold, SMSUsage
from jack_host.models import utcnow


@dataclass(frozen=True)
class Periods:
    """The hotel-local periods ``now`` falls in."""

    day: str  # 2026-03-05
    month: str  # 2026-03

    @classmethod
    def at(cls, local_now: dt.datetime) -> Periods:
        return cls(local_now.date().isoformat(), local_now.strftime("%Y-%m"))

    def period_of(self, budget: str) -> str:
        return self.day if budget.endswith(".daily") else self.month


def ai_spend(engine: Engine, period: str) -> float:
    """USD spent on AI in a day (``YYYY-MM-DD``) or a month (``YYYY-MM``); unknown prices count as 0 here."""
    condition = AIUsageDaily.day == period if len(period) == 10 else col(AIUsageDaily.day).startswith(period + "-")
    with Session(engine) as session:
        return float(session.exec(select(func.coalesce(func.sum(AIUsageDaily.estimated_cost), 0.0)).where(condition)).one())


def sms_spend(engine: Engine, month: str) -> float:
    with Session(engine) as session:
        return float(
            session.exec(select(func.coalesce(func.sum(SMSUsage.cost_usd), 0.0)).where(col(SMSUsage.day).startswith(month + "-"))).one()
        )


def fire_crossed(engine: Engine, budget: str, period: str, spend: float, limit: float, alerts: tuple[BudgetAlert, ...]) -> list[BudgetThreshold]:
    """Record every threshold ``spend`` has reached that has not fired yet this period; return the new ones."""
    fired = []
    for alert in alerts:
        # The tolerance keeps float sums (8 x $0.10 = $0.7999...) from missing a threshold they reached.
        if spend + 1e-9 < alert.threshold * limit:
            break  # alerts are sorted by threshold
        row = BudgetThreshold(budget=budget, period=period, threshold=alert.threshold, action=alert.action, spend=spend, limit=limit)
        with Session(engine) as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # fired before, in this process or another
                session.rollback()
                continue
            session.refresh(row)
        fired.append(row)
    return fired


def active_local_only(engine: Engine, periods: Periods) -> BudgetThreshold | None:
    """The ``fallback_to_local`` threshold in force now (current day or month, not lifted), if any."""
    with Session(engine) as session:
        return session.exec(
            select(BudgetThreshold)
            .where(BudgetThreshold.action == "fallback_to_local", col(BudgetThreshold.lifted_at).is_(None))
            .where(
                ((BudgetThreshold.budget == "ai.daily") & (BudgetThreshold.period == periods.day))
                | ((BudgetThreshold.budget == "ai.monthly") & (BudgetThreshold.period == periods.month))
            )
            .order_by(col(BudgetThreshold.fired_at))
        ).first()


def lift_local_only(engine: Engine, by: str) -> list[BudgetThreshold]:
    """Lift every ``fallback_to_local`` in force; the thresholds stay fired for their period."""
    with Session(engine) as session:
        rows = session.exec(
            select(BudgetThreshold).where(BudgetThreshold.action == "fallback_to_local", col(BudgetThreshold.lifted_at).is_(None))
        ).all()
        for row in rows:
            row.lifted_at = utcnow()
            row.lifted_by = by
            session.add(row)
        session.commit()
        for row in rows:
            session.refresh(row)
        return list(rows)


def fired_in(engine: Engine, periods: Periods) -> list[BudgetThreshold]:
    """Thresholds fired in the current day and month."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(BudgetThreshold)
                .where(
                    ((BudgetThreshold.budget == "ai.daily") & (BudgetThreshold.period == periods.day))
                    | (col(BudgetThreshold.budget).in_(["ai.monthly", "sms.monthly"]) & (BudgetThreshold.period == periods.month))
                )
                .order_by(col(BudgetThreshold.fired_at))
            ).all()
        )
