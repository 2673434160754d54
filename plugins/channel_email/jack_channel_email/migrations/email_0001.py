"""email: the e-mail channel's thread index (plugins/channel_email)

Revision ID: email_0001
Revises: host_0001
Create Date: 2026-12-02

``email_messages`` holds every mail Jack received or sent by its ``Message-ID``, with the
conversation it belongs to, so a guest's reply (``In-Reply-To``/``References``) finds its
conversation and Jack's answer threads under the guest's last mail.
"""
import sqlalchemy as sa
from alembic import op

revision = "email_0001"
down_revision = "host_0001"
branch_labels = ("channel_email",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_messages",
        sa.Column("message_id", sa.String, primary_key=True),
        sa.Column("conversation_id", sa.Integer, nullable=False, index=True),
        sa.Column("direction", sa.String, nullable=False),
        sa.Column("address", sa.String, nullable=False, index=True),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("references", sa.Text, nullable=False),
        sa.Column("jack_message_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_messages")
