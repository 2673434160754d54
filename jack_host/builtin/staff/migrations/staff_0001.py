"""staff accounts and refresh tokens

Revision ID: staff_0001
Revises: host_0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "staff_0001"
down_revision = "host_0001"
branch_labels = ("staff",)
depends_on = None
legacy_revision = "0005_staff"


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False, server_default=""),
        sa.Column("role", sa.String, nullable=False, server_default="staff"),
        sa.Column("password_hash", sa.String, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_login_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_staff_users_email", "staff_users", ["email"], unique=True)
    op.create_table(
        "staff_refresh_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String, nullable=False),
        sa.Column("family", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
        sa.Column("revoked_reason", sa.String, nullable=False, server_default=""),
    )
    op.create_index("ix_staff_refresh_tokens_user_id", "staff_refresh_tokens", ["user_id"])
    op.create_index("ix_staff_refresh_tokens_token_hash", "staff_refresh_tokens", ["token_hash"], unique=True)
    op.create_index("ix_staff_refresh_tokens_family", "staff_refresh_tokens", ["family"])


def downgrade() -> None:
    op.drop_table("staff_refresh_tokens")
    op.drop_table("staff_users")
