"""conversations: private staff notes on a conversation (never shown to the guest)

Revision ID: conversations_0003
Revises: conversations_0002
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "conversations_0003"
down_revision = "conversations_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
        # No foreign key to staff_users: that table belongs to the staff feature's revisions.
        sa.Column("staff_user_id", sa.Integer, nullable=True),
        sa.Column("body", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_staff_notes_conversation_id", "staff_notes", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_staff_notes_conversation_id", table_name="staff_notes")
    op.drop_table("staff_notes")
