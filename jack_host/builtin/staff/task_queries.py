"""The task list the staff API needs: more filters than ``app.services.tasks.list`` and paging with a total.

Claiming and completing go through ``app.services.tasks`` (which publishes ``task.updated``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jack_host.builtin.conversations.models import Task
from jack_host.builtin.conversations.tasks import task_dict


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
) -> tuple[list[dict[str, Any]], int]:
    """Tasks, most urgent deadline first (no deadline last), and the total matching."""
    filters = []
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
        return [task_dict(t) for t in rows], int(total)
