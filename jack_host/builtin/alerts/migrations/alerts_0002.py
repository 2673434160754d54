"""alerts: the state of each alert (escalation level, acknowledgement) and each delivery attempt

Revision ID: alerts_0002
Revises: alerts_0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "alerts_0002"
down_revision = "alerts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, index=True),
        sa.Column("key", sa.String, nullable=False, index=True),
        sa.Column("alert_type", sa.String, nullable=False),
        sa.Column("severity", sa.String, nullable=False),
        sa.Column("summary", sa.String, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("status", sa.String, nullable=False, index=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("level_name", sa.String, nullable=False, server_default=""),
        sa.Column("next_escalation_at", sa.Float, nullable=True, index=True),
        sa.Column("acknowledged_at", sa.Float, nullable=True),
        sa.Column("acknowledged_by", sa.String, nullable=False, server_default=""),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, nullable=False, index=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("route", sa.String, nullable=False),
        sa.Column("contact_type", sa.String, nullable=False),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("claimed_at", sa.Float, nullable=True),
        sa.Column("detail", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_incidents")
