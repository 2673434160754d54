"""audit: the audit log of changes to apps, users, budgets and knowledge

Revision ID: audit_0001
Revises: host_0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "audit_0001"
down_revision = "host_0001"
branch_labels = ("audit",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False, index=True),
        sa.Column("target", sa.String, nullable=False, index=True),
        sa.Column("old", sa.JSON, nullable=True),
        sa.Column("new", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
