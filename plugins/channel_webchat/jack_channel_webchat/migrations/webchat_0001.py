"""webchat: guest sessions of the web chat channel (plugins/channel_webchat)

Revision ID: webchat_0001
Revises: host_0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "webchat_0001"
down_revision = "host_0001"
branch_labels = ("channel_webchat",)
depends_on = None
legacy_revision = "0002_webchat_sessions"


def upgrade() -> None:
    # Only a hash of the token is kept: a copy of the database does not let anyone
    # take over a guest's chat.  ``address`` is the public id the pipeline sees.
    op.create_table(
        "webchat_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("address", sa.String(64), nullable=False, unique=True),
        sa.Column("origin", sa.String, nullable=False),
        sa.Column("language", sa.String, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("webchat_sessions")
