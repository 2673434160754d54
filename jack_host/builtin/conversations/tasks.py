"""``app.services.tasks``: department tasks with a priority, an SLA due time and an assignee.

SLA minutes per priority come from ``SLA_URGENT_MINUTES`` ... ``SLA_LOW_MINUTES``.
:meth:`TaskBoard.check_sla` (run every ``SLA_CHECK_INTERVAL`` s by the worker)
marks late open tasks once, counts them in the Prometheus counter
``jack_sla_breaches_total`` and publishes ``task.sla_breached``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter
from sqlalchemy import func
from sqlmodel import Session, col, select

from jack_host.builtin.conversations import queries, staff_views
from jack_host.builtin.conversations.models import OPEN_TASK_STATUSES, Task, now_utc
from jack_host.builtin.conversations.records import task_dict
from jack_host.contract.services import TASK_DEPARTMENTS, TASK_PRIORITIES, ResultPage, TaskNotFound

if TYPE_CHECKING:
    from jack_host.builtin.conversations.events import EventBus
    from jack_host.contract.app import App

DEPARTMENTS = TASK_DEPARTMENTS
SLA_SETTINGS = {
    "urgent": "SLA_URGENT_MINUTES",
    "high": "SLA_HIGH_MINUTES",
    "standard": "SLA_STANDARD_MINUTES",
    "low": "SLA_LOW_MINUTES",
}
SLA_DEFAULTS = {"urgent": 15, "high": 60, "standard": 240, "low": 1440}


def normalize_priority(value: Any) -> str:
    """Map the model's words (``critical``, ``medium``, ``normal``...) onto the four priorities."""
    text = str(value or "").strip().lower()
    aliases = {"critical": "urgent", "emergency": "urgent", "medium": "standard", "normal": "standard", "none": "low"}
    text = aliases.get(text, text)
    return text if text in TASK_PRIORITIES else "standard"


def normalize_department(value: Any) -> str:
    text = str(value or "").strip().lower().replace(" ", "_").replace("-", "_")
    aliases = {"reception": "front_desk", "frontdesk": "front_desk", "restaurant": "food_beverage", "room_service": "food_beverage",
               "engineering": "maintenance", "manager": "management"}
    text = aliases.get(text, text)
    return text if text in DEPARTMENTS else "front_desk"


class TaskBoard:
    def __init__(self, app: App, events: EventBus):
        self.app = app
        self.events = events
        # The app's registry (served at /metrics), never the global one: tests build many apps.
        self.breaches = Counter("jack_sla_breaches", "Tasks that passed their SLA due time while open", ["priority"], registry=app.metrics)

    def sla_minutes(self, priority: str) -> int:
        return int(self.app.settings.get(SLA_SETTINGS[priority]) or SLA_DEFAULTS[priority])

    def new_task(
        self,
        session: Session,
        *,
        conversation_id: int | None,
        guest_id: int | None,
        department: str,
        priority: str,
        title: str,
        description: str = "",
        reason: str = "",
    ) -> Task:
        """Add a task to the caller's transaction (publish with :meth:`announce` after commit)."""
        priority = normalize_priority(priority)
        now = now_utc()
        task = Task(
            conversation_id=conversation_id,
            guest_id=guest_id,
            department=normalize_department(department),
            priority=priority,
            status="open",
            title=title[:200],
            description=description,
            reason=reason,
            sla_due_at=now + dt.timedelta(minutes=self.sla_minutes(priority)),
            created_at=now,
            updated_at=now,
        )
        session.add(task)
        session.flush()
        return task

    def create(self, **fields: Any) -> dict[str, Any]:
        """Create a task by hand (staff): conversation_id, guest_id, department, priority, title, description."""
        with Session(self.app.engine, expire_on_commit=False) as session:
            task = self.new_task(
                session,
                conversation_id=fields.get("conversation_id"),
                guest_id=fields.get("guest_id"),
                department=fields.get("department", "front_desk"),
                priority=fields.get("priority", "standard"),
                title=str(fields.get("title") or "Task"),
                description=str(fields.get("description") or ""),
                reason=str(fields.get("reason") or "staff"),
            )
            session.commit()
            data = task_dict(task)
        self.events.publish("task.created", data)
        return data

    def list(self, status: str | None = None, department: str | None = None, assignee_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Tasks, most urgent due time first; ``status="open"`` means open or in progress."""
        with Session(self.app.engine) as session:
            query = select(Task)
            if status == "open":
                query = query.where(col(Task.status).in_(OPEN_TASK_STATUSES))
            elif status:
                query = query.where(Task.status == status)
            if department:
                query = query.where(Task.department == department)
            if assignee_id is not None:
                query = query.where(Task.assignee_id == assignee_id)
            return [task_dict(t) for t in session.exec(query.order_by(col(Task.sla_due_at), col(Task.id)).limit(limit)).all()]

    def get(self, task_id: int) -> dict[str, Any] | None:
        with Session(self.app.engine) as session:
            task = session.get(Task, task_id)
            return task_dict(task) if task else None

    def list_page(
        self,
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
        """One page of the tasks matching every filter, soonest due time first (none last), and the total."""
        return queries.list_tasks(
            self.app.engine,
            status=status,
            department=department,
            priority=priority,
            assignee_id=assignee_id,
            unassigned=unassigned,
            conversation_id=conversation_id,
            limit=limit,
            offset=offset,
        )

    def claim(self, task_id: int, staff_user_id: int) -> dict[str, Any]:
        """Assign the task to ``staff_user_id`` and mark it in progress.

        :raises TaskNotFound: / ValueError: the task is already done or held by someone else.
        """
        def change(task: Task) -> None:
            if task.status not in OPEN_TASK_STATUSES:
                raise ValueError(f"task {task_id} is {task.status}; only open tasks can be claimed")
            if task.assignee_id not in (None, staff_user_id):
                raise ValueError(f"task {task_id} is already claimed by user {task.assignee_id}")
            task.assignee_id, task.status, task.claimed_at = staff_user_id, "in_progress", now_utc()

        return self._change(task_id, change)

    def complete(self, task_id: int, staff_user_id: int | None = None) -> dict[str, Any]:
        """Mark the task done. :raises TaskNotFound: / ValueError: already done or cancelled."""
        def change(task: Task) -> None:
            if task.status not in OPEN_TASK_STATUSES:
                raise ValueError(f"task {task_id} is already {task.status}")
            task.status, task.completed_at = "done", now_utc()
            if task.assignee_id is None:
                task.assignee_id = staff_user_id

        return self._change(task_id, change)

    def reassign(self, task_id: int, staff_user_id: int | None) -> dict[str, Any]:
        """Hand an open task to another staff member (None: back to unassigned, open).

        :raises TaskNotFound: / ValueError: the task is already done or cancelled.
        """
        def change(task: Task) -> None:
            if task.status not in OPEN_TASK_STATUSES:
                raise ValueError(f"task {task_id} is {task.status}; only open tasks can be reassigned")
            task.assignee_id = staff_user_id
            if staff_user_id is None:
                task.status, task.claimed_at = "open", None
            else:
                task.status, task.claimed_at = "in_progress", now_utc()

        return self._change(task_id, change)

    def _change(self, task_id: int, change: Any) -> dict[str, Any]:
        with Session(self.app.engine, expire_on_commit=False) as session:
            task = session.get(Task, task_id)
            if task is None:
                raise TaskNotFound(f"task {task_id} does not exist")
            change(task)
            task.updated_at = now_utc()
            session.add(task)
            session.commit()
            data = task_dict(task)
        self.events.publish("task.updated", data)
        return data

    # ------------------------------------------------------------------ SLA

    def check_sla(self) -> list[dict[str, Any]]:
        """Mark open tasks past their due time (once each), count and announce them."""
        now = now_utc()
        with Session(self.app.engine, expire_on_commit=False) as session:
            late = session.exec(
                select(Task).where(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.sla_breached_at).is_(None), col(Task.sla_due_at) < now)
            ).all()
            for task in late:
                task.sla_breached_at = now
                session.add(task)
            session.commit()
            breached = [task_dict(t) for t in late]
        for data in breached:
            self.breaches.labels(priority=data["priority"]).inc()
            self.events.publish("task.sla_breached", data)
        return breached

    def soonest_open(self, conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
        return staff_views.soonest_open_tasks(self.app.engine, conversation_ids)

    def sla_counts(self) -> dict[str, int]:
        """``open_breached`` (late and still open), ``breached_last_hour`` and ``open`` tasks, for monitoring."""
        now = now_utc()
        with Session(self.app.engine) as session:
            open_tasks = session.exec(select(func.count()).select_from(Task).where(col(Task.status).in_(OPEN_TASK_STATUSES))).one()
            open_breached = session.exec(
                select(func.count()).select_from(Task).where(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.sla_due_at) < now)
            ).one()
            last_hour = session.exec(
                select(func.count()).select_from(Task).where(col(Task.sla_breached_at) >= now - dt.timedelta(hours=1))
            ).one()
        return {"open": int(open_tasks), "open_breached": int(open_breached), "breached_last_hour": int(last_hour)}
