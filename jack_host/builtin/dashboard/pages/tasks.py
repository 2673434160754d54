"""``/tasks``: the task board by department and status; create, claim, complete, reassign."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon

from jack_host.builtin.dashboard.guard import field, form_data, page_guard
from jack_host.builtin.dashboard.registry import MenuEntry, Page
from jack_host.builtin.dashboard.rendering import error_page, flash, render, see_other
from jack_host.contract.services import TASK_DEPARTMENTS as DEPARTMENTS
from jack_host.contract.services import TASK_PRIORITIES, TASK_STATUSES, TaskNotFound

if TYPE_CHECKING:
    from jack_host.contract.app import App

BOARD_LIMIT = 200
STATUS_LABELS = {"open": "Open", "in_progress": "In progress", "done": "Done", "cancelled": "Cancelled"}


def department_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


@falcon.before(page_guard("staff"))
class TasksPage:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        status = req.get_param("status") or "open"
        department = req.get_param("department") or ""
        if status not in (*TASK_STATUSES, "all"):
            status = "open"
        if department and department not in DEPARTMENTS:
            department = ""
        statuses = {"open": ["open", "in_progress"], "all": [None]}.get(status, [status])
        items = []
        for one in statuses:
            page = await asyncio.to_thread(self.app.services.tasks.list_page, status=one,
                                           department=department or None, limit=BOARD_LIMIT)
            items.extend(page.items)
        users = await asyncio.to_thread(self.app.services.staff_auth.list_users)
        board = {name: [t for t in items if t["department"] == name] for name in DEPARTMENTS}
        board = {name: tasks for name, tasks in board.items() if tasks or name == department}
        render(self.app, req, resp, "tasks.html", board=board, status=status, department=department,
               departments=DEPARTMENTS, priorities=TASK_PRIORITIES, statuses=STATUS_LABELS,
               users={u.id: u for u in users if u.active}, department_label=department_label)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_data(req)
        action = field(form, "action")
        board = self.app.services.tasks
        me = req.context.staff.id
        back = "/tasks"
        try:
            if action == "create":
                title = field(form, "title").strip()
                department, priority = field(form, "department"), field(form, "priority")
                if not title or len(title) > 200:
                    raise ValueError("Give the task a title of 1 to 200 characters.")
                if department not in DEPARTMENTS or priority not in TASK_PRIORITIES:
                    raise ValueError("Choose a department and a priority from the lists.")
                task = board.create(title=title, description=field(form, "description")[:4000],
                                    department=department, priority=priority, reason="staff")
                flash(req, resp, f"Task {task['id']} created.")
            else:
                try:
                    task_id = int(field(form, "task_id"))
                except ValueError:
                    raise ValueError("Which task? The form sent no task number.") from None
                if action == "claim":
                    board.claim(task_id, me)
                    flash(req, resp, f"Task {task_id} is yours.")
                elif action == "complete":
                    board.complete(task_id, me)
                    flash(req, resp, f"Task {task_id} done.")
                elif action == "reassign":
                    raw = field(form, "assignee_id")
                    assignee = int(raw) if raw.isdigit() else None
                    if assignee is not None:
                        user = await asyncio.to_thread(self.app.services.staff_auth.get_user, assignee)
                        if user is None or not user.active:
                            raise ValueError("Reassign to an active staff account.")
                    board.reassign(task_id, assignee)
                    flash(req, resp, f"Task {task_id} reassigned.")
                else:
                    raise error_page(self.app, req, falcon.HTTP_400, "Unknown action",
                                     f"“{action}” is not something this page does.")
        except TaskNotFound as exc:
            flash(req, resp, str(exc), "error")
        except ValueError as exc:
            flash(req, resp, str(exc), "error")
        raise see_other(back)


PAGES = [Page("/tasks", TasksPage, MenuEntry("/tasks", "Tasks", "staff", 20))]
