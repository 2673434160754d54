"""The thread index (table ``email_messages``, revision ``email_0001``): Message-ID -> conversation.

Every mail Jack stores or sends is recorded with its conversation, so a guest's reply finds its
conversation from ``In-Reply-To``/``References`` (not only from the sender, which a travel agent
shares between guests), and Jack's answer threads under the guest's last mail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = sa.MetaData()
email_messages = sa.Table(
    "email_messages",
    metadata,
    sa.Column("message_id", sa.String, primary_key=True),
    sa.Column("conversation_id", sa.Integer, nullable=False),
    sa.Column("direction", sa.String, nullable=False),
    sa.Column("address", sa.String, nullable=False),
    sa.Column("subject", sa.String, nullable=False),
    sa.Column("references", sa.Text, nullable=False),
    sa.Column("jack_message_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class ThreadMail:
    message_id: str
    conversation_id: int
    subject: str
    references: list[str]


def record(engine: Engine, *, message_id: str, conversation_id: int, direction: str, address: str, subject: str,
           references: list[str], jack_message_id: int | None = None) -> None:
    """Remember one mail; recording the same ``Message-ID`` again (a re-polled mail) changes nothing."""
    try:
        with engine.begin() as connection:
            connection.execute(email_messages.insert().values(
                message_id=message_id, conversation_id=conversation_id, direction=direction, address=address.lower(),
                subject=subject[:500], references=" ".join(references)[:8000], jack_message_id=jack_message_id,
                created_at=dt.datetime.now(dt.UTC)))
    except IntegrityError:
        pass


def conversation_for(engine: Engine, message_ids: list[str]) -> int | None:
    """The conversation of the newest known mail among ``message_ids`` (In-Reply-To first, then References)."""
    if not message_ids:
        return None
    with engine.connect() as connection:
        rows = dict(connection.execute(
            sa.select(email_messages.c.message_id, email_messages.c.conversation_id)
            .where(email_messages.c.message_id.in_(message_ids[-200:]))).all())
    for message_id in message_ids:
        if message_id in rows:
            return int(rows[message_id])
    return None


def last_inbound(engine: Engine, conversation_id: int) -> ThreadMail | None:
    """The guest's latest mail in a conversation: the one Jack's answer replies to."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(email_messages).where(email_messages.c.conversation_id == conversation_id,
                                            email_messages.c.direction == "inbound")
            .order_by(email_messages.c.created_at.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return ThreadMail(row["message_id"], row["conversation_id"], row["subject"], row["references"].split())


def replies_since(engine: Engine, address: str, since: dt.datetime) -> int:
    """How many mails Jack sent ``address`` since ``since`` (the per-address cap against mail loops)."""
    with engine.connect() as connection:
        return int(connection.execute(
            sa.select(sa.func.count()).select_from(email_messages)
            .where(email_messages.c.address == address.lower(), email_messages.c.direction == "outbound",
                   email_messages.c.created_at >= since)).scalar_one())
