"""conversations: guests, conversations, messages, jobs, tasks, hotel profile

Revision ID: conversations_0001
Revises: host_0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "conversations_0001"
down_revision = "host_0001"
branch_labels = ("conversations",)
depends_on = None
legacy_revision = "0002_conversations"

def upgrade() -> None:
    op.create_table(
        "guests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=True),
        sa.Column("phone", sa.String, nullable=True, index=True),
        sa.Column("email", sa.String, nullable=True, index=True),
        sa.Column("preferred_language", sa.String, nullable=True),
        sa.Column("notes", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guest_id", sa.Integer, sa.ForeignKey("guests.id"), nullable=False, index=True),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("guest_address", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False, server_default="ai", index=True),
        sa.Column("assignee_id", sa.Integer, nullable=True, index=True),
        sa.Column("language", sa.String, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("last_message_at", sa.DateTime, nullable=False, index=True),
        sa.Column("last_guest_message_at", sa.DateTime, nullable=True),
        sa.Column("closed_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_conversations_channel_address", "conversations", ["channel", "guest_address"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("direction", sa.String, nullable=False),
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("channel_message_id", sa.String, nullable=True),
        sa.Column("provider_message_id", sa.String, nullable=True),
        sa.Column("reply_to_id", sa.Integer, nullable=True, unique=True),
        sa.Column("staff_user_id", sa.Integer, nullable=True),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("channel", "channel_message_id", name="uq_messages_channel_message_id"),
    )
    op.create_index("ix_messages_channel_provider_id", "messages", ["channel", "provider_message_id"])
    op.create_index("ix_messages_conversation_created", "messages", ["conversation_id", "id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("conversation_id", sa.Integer, nullable=False, index=True),
        sa.Column("state", sa.String, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("run_after", sa.DateTime, nullable=False),
        sa.Column("locked_by", sa.String, nullable=True),
        sa.Column("locked_until", sa.DateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("kind", "message_id", name="uq_jobs_kind_message"),
    )
    op.create_index("ix_jobs_claim", "jobs", ["kind", "state", "run_after"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=True, index=True),
        sa.Column("guest_id", sa.Integer, nullable=True, index=True),
        sa.Column("department", sa.String, nullable=False),
        sa.Column("priority", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False, index=True),
        sa.Column("title", sa.String, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("reason", sa.String, nullable=False, server_default=""),
        sa.Column("sla_due_at", sa.DateTime, nullable=True, index=True),
        sa.Column("assignee_id", sa.Integer, nullable=True, index=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=True),
        sa.Column("completed_at", sa.DateTime, nullable=True),
        sa.Column("sla_breached_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "hotel_profile",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("timezone", sa.String, nullable=False),
        sa.Column("check_in_time", sa.String, nullable=False),
        sa.Column("check_out_time", sa.String, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("phone", sa.String, nullable=False, server_default=""),
        sa.Column("email", sa.String, nullable=False, server_default=""),
        sa.Column("address", sa.String, nullable=False, server_default=""),
        sa.Column("website", sa.String, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("hotel_profile", "tasks", "jobs", "messages", "conversations", "guests"):
        op.drop_table(table)
