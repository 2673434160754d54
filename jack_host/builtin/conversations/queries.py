"""The filtered, paged lists staff browse: conversations and tasks, each page with its total.

Offered through ``app.services.conversations.list_conversations`` and ``app.services.tasks.list_page``.
Only reads: every change goes through the pipeline or the task board, which publish the events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jack_host.builtin.conversations.models import Conversation, Guest, Message, Task
from jack_host.builtin.conversations.records import conversation_dict, message_dict, task_dict
from jack_host.contract.services import ResultPage


def like_pattern(text: str) -> str:
    """``%text%`` for ``ILIKE ... ESCAPE '\\'``, with the guest's own ``%``, ``_`` and ``\\`` taken literally."""
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
) -> ResultPage:
    """Conversations with their guests, most recently active first, and how many match in total.

    ``q`` matches the guest's name, phone, e-mail or address, or any message text.
    """
    filters: list[Any] = []
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
        return ResultPage([conversation_dict(c, g) for c, g in rows], int(total))


def get_message(engine: Engine, message_id: int) -> dict[str, Any] | None:
    """One message with its conversation's ``guest_address``, or ``None``."""
    with Session(engine) as session:
        message = session.get(Message, message_id)
        if message is None:
            return None
        conversation = session.get(Conversation, message.conversation_id)
        return message_dict(message, conversation.guest_address if conversation else None)


def list_tasks(
    engine: Engine,
    *,
    status: str | None = None,
    department: str | None = None,
    priority: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    conversation_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ResultPage:
    """Tasks, most urgent deadline first (no deadline last), and how many match in total."""
    filters: list[Any] = []
    if status:
        filters.append(Task.status == status)
    if department:
        filters.append(Task.department == department)
    if priority:
        filters.append(Task.priority == priority)
    if unassigned:
        filters.append(col(Task.assignee_id).is_(None))
    elif assignee_id is not None:
        filters.append(Task.assignee_id == assignee_id)
    if conversation_id is not None:
        filters.append(Task.conversation_id == conversation_id)
    with Session(engine) as session:
        rows = session.exec(
            select(Task)
            .where(*filters)
            .order_by(col(Task.sla_due_at).is_(None), col(Task.sla_due_at), col(Task.id))
            .offset(offset)
            .limit(limit)
        ).all()
        total = session.exec(select(func.count()).select_from(Task).where(*filters)).one()
        return ResultPage([task_dict(t) for t in rows], int(total))
