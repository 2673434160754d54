"""Read-side queries the staff API needs beyond ``app.services.conversations`` (filters, search, paging).

Writes always go through ``app.services.conversations`` so its events and jobs stay the single path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jack_host.builtin.conversations.models import Conversation, Guest, Message
from jack_host.builtin.conversations.pipeline import conversation_dict, message_dict


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_conversations(
    engine: Engine,
    *,
    state: str | None = None,
    channel: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Conversations, most recently active first, and how many match in total.

    ``q`` matches the guest's name, phone, e-mail or address, or any message text.
    """
    filters = []
    if state:
        filters.append(Conversation.state == state)
    if channel:
        filters.append(Conversation.channel == channel)
    if unassigned:
        filters.append(col(Conversation.assignee_id).is_(None))
    elif assignee_id is not None:
        filters.append(Conversation.assignee_id == assignee_id)
    if q:
        pattern = like_pattern(q)
        filters.append(
            or_(
                col(Guest.name).ilike(pattern, escape="\\"),
                col(Guest.phone).ilike(pattern, escape="\\"),
                col(Guest.email).ilike(pattern, escape="\\"),
                col(Conversation.guest_address).ilike(pattern, escape="\\"),
                exists().where(
                    Message.conversation_id == Conversation.id, col(Message.body).ilike(pattern, escape="\\")
                ),
            )
        )
    with Session(engine) as session:
        base = select(Conversation, Guest).join(Guest, Guest.id == Conversation.guest_id).where(*filters)
        rows = session.exec(
            base.order_by(col(Conversation.last_message_at).desc(), col(Conversation.id).desc()).offset(offset).limit(limit)
        ).all()
        total = session.exec(
            select(func.count()).select_from(Conversation).join(Guest, Guest.id == Conversation.guest_id).where(*filters)
        ).one()
        return [conversation_dict(c, g) for c, g in rows], int(total)


def conversation_messages(
    engine: Engine, conversation_id: int, *, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]] | None:
    """Up to ``limit`` messages older than ``before_id`` (or the latest), oldest first; None if no conversation."""
    with Session(engine) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return None
        query = select(Message).where(Message.conversation_id == conversation_id)
        if before_id is not None:
            query = query.where(col(Message.id) < before_id)
        rows = session.exec(query.order_by(col(Message.id).desc()).limit(limit)).all()
        return [message_dict(m, conversation.guest_address) for m in reversed(rows)]


def get_message(engine: Engine, message_id: int) -> dict[str, Any] | None:
    with Session(engine) as session:
        message = session.get(Message, message_id)
        if message is None:
            return None
        conversation = session.get(Conversation, message.conversation_id)
        return message_dict(message, conversation.guest_address if conversation else None)
