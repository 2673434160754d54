"""``/api/v1/tasks``: list with filters, claim, complete."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

import falcon
from pydantic import Field

from jack_host.builtin.staff.auth import conflict, not_found, require_role
from jack_host.builtin.staff.validation import MAX_DB_INT, Page, assignee_filter, read_query
from jack_host.contract.services import TASK_PRIORITIES, TASK_STATUSES, TaskNotFound

if TYPE_CHECKING:
    from jack_host.contract.app import App


class TaskFilters(Page):
    status: Literal[TASK_STATUSES] | None = None  # type: ignore[valid-type]
    priority: Literal[TASK_PRIORITIES] | None = None  # type: ignore[valid-type]
    department: str | None = Field(default=None, max_length=64)
    assignee: str | None = None
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT)


@falcon.before(require_role("staff"))
class TasksResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        filters = read_query(req, TaskFilters)
        assignee_id, unassigned = assignee_filter(filters.assignee, req.context.staff.id)
        page = await asyncio.to_thread(
            self.app.services.tasks.list_page,
            status=filters.status,
            department=filters.department,
            priority=filters.priority,
            assignee_id=assignee_id,
            unassigned=unassigned,
            conversation_id=filters.conversation_id,
            limit=filters.limit,
            offset=filters.offset,
        )
        resp.media = {"items": page.items, "total": page.total, "limit": filters.limit, "offset": filters.offset}


@falcon.before(require_role("staff"))
class TaskActionResource:
    """``POST /api/v1/tasks/{id}/claim`` and ``.../complete``."""

    def __init__(self, app: App, action: str):
        self.app = app
        self.action = action

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, task_id: int) -> None:
        board = self.app.services.tasks
        change = board.claim if self.action == "claim" else board.complete
        try:
            # On the event loop, not in a thread: the board publishes to asyncio queues.
            resp.media = change(task_id, req.context.staff.id)
        except TaskNotFound as exc:
            raise not_found(str(exc)) from None
        except ValueError as exc:  # already done, or held by someone else
            raise conflict(str(exc)) from None


def add_task_routes(app: App) -> None:
    app.add_route("/api/v1/tasks", TasksResource(app))
    app.add_route("/api/v1/tasks/{task_id:int}/claim", TaskActionResource(app, "claim"))
    app.add_route("/api/v1/tasks/{task_id:int}/complete", TaskActionResource(app, "complete"))
