"""Writing the ledger: one ``ai_usage`` row per LLM call and its daily aggregate, in one transaction."""

from __future__ import annotations

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from jack_host.builtin.costs.models import AIUsage, SMSUsage
from jack_host.contract.services import AICall
from jack_host.db.models import utcnow

# ON CONFLICT ... DO UPDATE is understood by SQLite (3.24+) and PostgreSQL alike, and
# makes concurrent first calls of the day safe without a read-then-insert race.
_UPSERT_DAILY = text(
    """
    INSERT INTO ai_usage_daily
        (day, provider, model, requests, failures, fallbacks, input_tokens, output_tokens, estimated_cost, unpriced_requests)
    VALUES (:day, :provider, :model, 1, :failure, :fallback, :input_tokens, :output_tokens, :cost, :unpriced)
    ON CONFLICT (day, provider, model) DO UPDATE SET
        requests = ai_usage_daily.requests + 1,
        failures = ai_usage_daily.failures + excluded.failures,
        fallbacks = ai_usage_daily.fallbacks + excluded.fallbacks,
        input_tokens = ai_usage_daily.input_tokens + excluded.input_tokens,
        output_tokens = ai_usage_daily.output_tokens + excluded.output_tokens,
        estimated_cost = ai_usage_daily.estimated_cost + excluded.estimated_cost,
        unpriced_requests = ai_usage_daily.unpriced_requests + excluded.unpriced_requests
    """
)

#: Built once (the parameters come with each call): building a statement costs more than running it.
_INSERT_USAGE = insert(AIUsage.__table__)


def record_ai_call(engine: Engine, call: AICall, day: str, cost: float | None, price_source: str) -> int:
    """Insert the call and add it to the day's aggregate (both or neither are stored); returns the row's id.

    Core statements on one connection: this runs once per guest message, on the event loop.
    """
    with engine.begin() as connection:
        result = connection.execute(
            _INSERT_USAGE,
            {
                "created_at": utcnow(),
                "day": day,
                "provider": call.provider,
                "model": call.model,
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "estimated_cost": cost,
                "price_source": price_source,
                "latency_ms": round(call.latency_ms, 1),
                "conversation_id": call.conversation_id,
                "guest_id": call.guest_id,
                "fallback": call.fallback,
                "is_local": call.is_local,
                "outcome": call.outcome,
                "error": (call.error or None) and call.error[:2000],
            },
        )
        connection.execute(
            _UPSERT_DAILY,
            {
                "day": day,
                "provider": call.provider,
                "model": call.model,
                "failure": int(call.outcome != "ok"),
                "fallback": int(call.fallback),
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "cost": cost or 0.0,
                # A failed call with no tokens costs nothing even if the price is unknown.
                "unpriced": int(cost is None),
            },
        )
    return int(result.inserted_primary_key[0])


def record_sms(engine: Engine, day: str, cost_usd: float, segments: int, message_id: int | None) -> SMSUsage:
    row = SMSUsage(day=day, cost_usd=cost_usd, segments=segments, message_id=message_id)
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    return row
