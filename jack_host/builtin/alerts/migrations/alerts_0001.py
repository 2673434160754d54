"""alerts: every alert raised, and which routes delivered it

Revision ID: alerts_0001
Revises: host_0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "alerts_0001"
down_revision = "host_0001"
branch_labels = ("alerts",)
depends_on = None
#: The flat layout's 0001_host created this table; a database it made already has it.
legacy_revision = "0001_host"


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


def downgrade() -> None:
    op.drop_table("alerts")
