"""Read-only look-ups the staff dashboard needs beyond the Conversations service: one query each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jack_host.builtin.conversations.models import OPEN_TASK_STATUSES, Conversation, Task
from jack_host.builtin.conversations.records import conversation_dict, task_dict


def guest_conversations(engine: Engine, guest_id: int) -> list[dict[str, Any]]:
    """Every conversation of one guest, on every channel, most recent first."""
    with Session(engine) as session:
        rows = session.exec(
            select(Conversation).where(Conversation.guest_id == guest_id).order_by(col(Conversation.id).desc())
        ).all()
        return [conversation_dict(c) for c in rows]


def soonest_open_tasks(engine: Engine, conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per conversation: its open task with the soonest SLA due time (the inbox's countdown)."""
    if not conversation_ids:
        return {}
    with Session(engine) as session:
        rows = session.exec(
            select(Task)
            .where(col(Task.conversation_id).in_(conversation_ids), col(Task.status).in_(OPEN_TASK_STATUSES),
                   col(Task.sla_due_at).is_not(None))
            .order_by(col(Task.sla_due_at))
        ).all()
    found: dict[int, dict[str, Any]] = {}
    for task in rows:
        if task.conversation_id is not None:
            found.setdefault(task.conversation_id, task_dict(task))
    return found
