"""Staff work on tasks: list with filters, claim, complete.

The pipeline creates tasks (escalations); claiming and completing are plain state
changes, published as ``task.updated`` so every open dashboard sees them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jack_host.conversations.models import Task, now_utc
from jack_host.conversations.pipeline import iso


class TaskNotFound(LookupError):
    pass


class TaskConflict(Exception):
    """The task is not in a state that allows this (already done, claimed by someone else)."""


def task_dict(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "conversation_id": task.conversation_id,
        "guest_id": task.guest_id,
        "department": task.department,
        "priority": task.priority,
        "status": task.status,
        "title": task.title,
        "description": task.description,
        "reason": task.reason,
        "assignee_id": task.assignee_id,
        "sla_due_at": iso(task.sla_due_at),
        "sla_breached": task.sla_breached_at is not None,
        "created_at": iso(task.created_at),
        "claimed_at": iso(task.claimed_at),
        "completed_at": iso(task.completed_at),
    }


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


def claim_task(engine: Engine, task_id: int, staff_user_id: int) -> dict[str, Any]:
    """Take an open task (or re-claim one's own); a task someone else holds is a conflict."""
    now = now_utc()
    with Session(engine, expire_on_commit=False) as session:
        # One conditional UPDATE, so two people clicking "claim" together get one winner.
        result = session.execute(
            update(Task)
            .where(
                Task.id == task_id,
                (Task.status == "open") | ((Task.status == "in_progress") & (Task.assignee_id == staff_user_id)),
            )
            .values(status="in_progress", assignee_id=staff_user_id, claimed_at=now, updated_at=now)
        )
        session.commit()
        task = session.get(Task, task_id)
        if task is None:
            raise TaskNotFound(f"task {task_id} does not exist")
        if result.rowcount != 1:
            if task.status == "in_progress":
                raise TaskConflict(f"task {task_id} is already claimed by staff user {task.assignee_id}")
            raise TaskConflict(f"task {task_id} is {task.status}; only open tasks can be claimed")
        return task_dict(task)


def complete_task(engine: Engine, task_id: int, staff_user_id: int) -> dict[str, Any]:
    """Mark a task done (claiming it on the way if nobody held it)."""
    now = now_utc()
    with Session(engine, expire_on_commit=False) as session:
        result = session.execute(
            update(Task)
            .where(Task.id == task_id, col(Task.status).in_(("open", "in_progress")))
            .values(
                status="done",
                completed_at=now,
                updated_at=now,
                assignee_id=func.coalesce(Task.assignee_id, staff_user_id),
                claimed_at=func.coalesce(Task.claimed_at, now),
            )
        )
        session.commit()
        task = session.get(Task, task_id)
        if task is None:
            raise TaskNotFound(f"task {task_id} does not exist")
        if result.rowcount != 1:
            raise TaskConflict(f"task {task_id} is already {task.status}")
        return task_dict(task)
