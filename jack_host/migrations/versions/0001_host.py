"""host tables: alerts and jack_state

Revision ID: 0001_host
Revises:
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_host"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, index=True),
        sa.Column("severity", sa.String, nullable=False),
        sa.Column("summary", sa.String, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("dedup_key", sa.String, nullable=True, index=True),
        sa.Column("delivered_to", sa.String, nullable=False, server_default=""),
        sa.Column("delivery_error", sa.String, nullable=False, server_default=""),
        sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    )
    op.create_table(
        "jack_state",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jack_state")
    op.drop_table("alerts")
