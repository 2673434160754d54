"""host: the jack_state key-value table (the root every feature's first revision follows)

Revision ID: host_0001
Revises:
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "host_0001"
down_revision = None
branch_labels = ("host",)
depends_on = None
#: The revision of the flat layout (before 0.2) whose schema this one holds; see jack_host.db.migrate.
legacy_revision = "0001_host"


def upgrade() -> None:
    op.create_table(
        "jack_state",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jack_state")
