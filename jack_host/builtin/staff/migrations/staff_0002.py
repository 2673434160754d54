"""login attempt counters shared by every process; a token version on each account

Revision ID: staff_0002
Revises: staff_0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "staff_0002"
down_revision = "staff_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_login_counters",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("token_version")
    op.drop_table("staff_login_counters")
