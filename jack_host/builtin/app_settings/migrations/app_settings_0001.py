"""app_settings: values set in the dashboard (secrets encrypted) and the key's salt and check token

Revision ID: app_settings_0001
Revises: host_0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "app_settings_0001"
down_revision = "host_0001"
branch_labels = ("app_settings",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_settings",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("plugin", sa.String, nullable=False),
        sa.Column("value", sa.String, nullable=False),
        sa.Column("secret", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String, nullable=False, server_default=""),
    )
    op.create_table(
        "app_settings_key",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("salt", sa.String, nullable=False),
        sa.Column("check", sa.String, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("app_settings_key")
    op.drop_table("app_settings")
