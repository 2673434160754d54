"""Tables of the cost ledger (Alembic revision ``0003_costs``).

``conversation_id`` and ``guest_id`` are plain integers, not foreign keys: the
ledger must keep every row even for calls made outside a conversation, and it
does not depend on the pipeline's tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from jack_host.db.models import utcnow


class AIUsage(SQLModel, table=True):
    """One row per LLM call, successful or not."""

    __tablename__ = "ai_usage"

    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    #: The hotel's local date of the call (``YYYY-MM-DD``): budgets are per hotel day and month.
    day: str = Field(index=True)
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    #: USD; NULL when the model's price is unknown (never silently zero).
    estimated_cost: float | None = None
    #: ``litellm`` (bundled cost map), ``costs.yaml`` (override), ``local`` (zero) or ``unknown``.
    price_source: str = "unknown"
    latency_ms: float = 0.0
    conversation_id: int | None = Field(default=None, index=True)
    guest_id: int | None = Field(default=None, index=True)
    fallback: bool = False
    is_local: bool = False
    #: ``ok``, ``timeout``, ``rate_limited``, ``server_error``, ``unreachable``, ``auth_error``, ``rejected`` or ``error``.
    outcome: str = "ok"
    error: str | None = None


class AIUsageDaily(SQLModel, table=True):
    """Per hotel day, provider and model: kept up to date in the same transaction as ``ai_usage``."""

    __tablename__ = "ai_usage_daily"
    __table_args__ = (UniqueConstraint("day", "provider", "model", name="uq_ai_usage_daily"),)

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(index=True)
    provider: str
    model: str
    requests: int = 0
    failures: int = 0
    fallbacks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_cost: float = 0.0
    #: Calls whose price was unknown, so ``estimated_cost`` is a lower bound when this is not zero.
    unpriced_requests: int = 0


class SMSUsage(SQLModel, table=True):
    """One row per SMS handed to the provider (``app.costs.record_sms``)."""

    __tablename__ = "sms_usage"

    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    day: str = Field(index=True)
    message_id: int | None = Field(default=None, index=True)
    segments: int = 1
    cost_usd: float = 0.0


class BudgetThreshold(SQLModel, table=True):
    """A budget threshold that fired in one period; the unique key makes it fire once.

    ``fallback_to_local`` stays in force while ``lifted_at`` is NULL and the period is current.
    """

    __tablename__ = "budget_thresholds"
    __table_args__ = (UniqueConstraint("budget", "period", "threshold", name="uq_budget_threshold"),)

    id: int | None = Field(default=None, primary_key=True)
    #: ``ai.daily``, ``ai.monthly`` or ``sms.monthly``.
    budget: str = Field(index=True)
    #: ``YYYY-MM-DD`` for a daily budget, ``YYYY-MM`` for a monthly one (hotel time).
    period: str = Field(index=True)
    threshold: float
    action: str
    spend: float
    limit: float
    fired_at: dt.datetime = Field(default_factory=utcnow)
    lifted_at: dt.datetime | None = None
    lifted_by: str | None = None
