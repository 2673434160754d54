"""cost ledger: ai_usage, ai_usage_daily, sms_usage, budget_thresholds

Revision ID: costs_0001
Revises: host_0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "costs_0001"
down_revision = "host_0001"
branch_labels = ("costs",)
depends_on = None
legacy_revision = "0003_costs"


def upgrade() -> None:
    op.create_table(
        "ai_usage",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("day", sa.String, nullable=False, index=True),
        sa.Column("provider", sa.String, nullable=False),
        sa.Column("model", sa.String, nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("estimated_cost", sa.Float, nullable=True),
        sa.Column("price_source", sa.String, nullable=False, server_default="unknown"),
        sa.Column("latency_ms", sa.Float, nullable=False, server_default="0"),
        sa.Column("conversation_id", sa.Integer, nullable=True, index=True),
        sa.Column("guest_id", sa.Integer, nullable=True, index=True),
        sa.Column("fallback", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_local", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("outcome", sa.String, nullable=False, server_default="ok"),
        sa.Column("error", sa.String, nullable=True),
    )
    op.create_table(
        "ai_usage_daily",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.String, nullable=False, index=True),
        sa.Column("provider", sa.String, nullable=False),
        sa.Column("model", sa.String, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fallbacks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("estimated_cost", sa.Float, nullable=False, server_default="0"),
        sa.Column("unpriced_requests", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("day", "provider", "model", name="uq_ai_usage_daily"),
    )
    op.create_table(
        "sms_usage",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("day", sa.String, nullable=False, index=True),
        sa.Column("message_id", sa.Integer, nullable=True, index=True),
        sa.Column("segments", sa.Integer, nullable=False, server_default="1"),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
    )
    op.create_table(
        "budget_thresholds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("budget", sa.String, nullable=False, index=True),
        sa.Column("period", sa.String, nullable=False, index=True),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("spend", sa.Float, nullable=False),
        sa.Column("limit", sa.Float, nullable=False),
        sa.Column("fired_at", sa.DateTime, nullable=False),
        sa.Column("lifted_at", sa.DateTime, nullable=True),
        sa.Column("lifted_by", sa.String, nullable=True),
        sa.UniqueConstraint("budget", "period", "threshold", name="uq_budget_threshold"),
    )


def downgrade() -> None:
    op.drop_table("budget_thresholds")
    op.drop_table("sms_usage")
    op.drop_table("ai_usage_daily")
    op.drop_table("ai_usage")
