"""Budget periods, spend so far, and thresholds that fire once per period.

A threshold fires when spend reaches ``threshold * budget``.  Firing inserts a
``budget_thresholds`` row whose unique key (budget, period, threshold) makes the
action happen once per period, across restarts and concurrent calls alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jack_host.builtin.costs.config import BudgetAlert
from jack_host.builtin.costs.models import AIUsageDaily, BudgetThreshold, SMSUsage
from jack_host.db.models import utcnow


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
    with engine.connect() as connection:
        if len(period) == 10:
            return float(connection.execute(_DAY_SPEND, {"day": period}).scalar_one())
        return float(connection.execute(_MONTH_SPEND, {"prefix": period + "-%"}).scalar_one())


def _spend_statements():
    table = AIUsageDaily.__table__
    total = sa_select(func.coalesce(func.sum(table.c.estimated_cost), 0.0))
    return total.where(table.c.day == bindparam("day")), total.where(table.c.day.like(bindparam("prefix")))


#: Built once: they run after every priced LLM call.
_DAY_SPEND, _MONTH_SPEND = _spend_statements()


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
    """The ``fallback_to_local`` threshold in force now (current day or month, not lifted), if any.

    Read before every LLM call, so it is one prepared Core query, no ORM session:
    ``jack costs resume`` run from another process takes effect on the next call.
    """
    with engine.connect() as connection:
        row = connection.execute(_ACTIVE_LOCAL_ONLY, {"day": periods.day, "month": periods.month}).mappings().first()
    return None if row is None else BudgetThreshold(**row)


def _active_local_only_statement():
    table = BudgetThreshold.__table__
    return (
        sa_select(table)
        .where(table.c.action == "fallback_to_local", table.c.lifted_at.is_(None))
        .where(
            ((table.c.budget == "ai.daily") & (table.c.period == bindparam("day")))
            | ((table.c.budget == "ai.monthly") & (table.c.period == bindparam("month")))
        )
        .order_by(table.c.fired_at)
        .limit(1)
    )


#: Built once: constructing the expression cost more than running it.
_ACTIVE_LOCAL_ONLY = _active_local_only_statement()


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
