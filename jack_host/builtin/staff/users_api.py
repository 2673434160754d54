"""``/api/v1/users``: admins list, create, disable and re-enable staff accounts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

import falcon
from pydantic import Field

from jack_host.builtin.staff import accounts
from jack_host.builtin.staff.auth import conflict, not_found, require_role
from jack_host.builtin.staff.validation import Body, field_error, read_body
from jack_host.contract.services import Audit

if TYPE_CHECKING:
    from jack_host.contract.app import App


class NewUserBody(Body):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=accounts.MIN_PASSWORD_LENGTH, max_length=1024)
    name: str = Field(default="", max_length=200)
    role: Literal["staff", "manager", "admin"] = "staff"


@falcon.before(require_role("admin"))
class UsersResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        users = await asyncio.to_thread(accounts.list_users, self.app.engine)
        resp.media = {"items": [user.as_dict() for user in users]}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await read_body(req, NewUserBody)
        if problem := accounts.check_email(body.email):
            raise field_error("email", problem)
        try:
            user = await asyncio.to_thread(
                accounts.create_user, self.app.engine, body.email, body.password, name=body.name, role=body.role
            )
        except accounts.EmailTaken as exc:
            raise conflict(str(exc)) from None
        except accounts.AccountError as exc:
            raise field_error(exc.field or "body", str(exc)) from None
        if audit := self.app.services.find(Audit):
            await asyncio.to_thread(audit.record, req.context.staff.email, "user.create", f"user:{user.id}", None, user.as_dict())
        resp.status = falcon.HTTP_201
        resp.media = user.as_dict()


@falcon.before(require_role("admin"))
class UserActiveResource:
    """``POST /api/v1/users/{id}/disable`` and ``.../enable``."""

    def __init__(self, app: App, active: bool):
        self.app = app
        self.active = active

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, user_id: int) -> None:
        if not self.active and user_id == req.context.staff.id:
            raise conflict("you cannot disable your own account; ask another admin")
        user = await asyncio.to_thread(accounts.set_active, self.app.engine, user_id, self.active)
        if user is None:
            raise not_found(f"no staff account with id {user_id}")
        if audit := self.app.services.find(Audit):
            await asyncio.to_thread(audit.record, req.context.staff.email, "user.enable" if self.active else "user.disable",
                                    f"user:{user_id}", {"active": not self.active}, {"active": self.active})
        resp.media = user.as_dict()


def add_user_routes(app: App) -> None:
    app.add_route("/api/v1/users", UsersResource(app))
    app.add_route("/api/v1/users/{user_id:int}/disable", UserActiveResource(app, active=False))
    app.add_route("/api/v1/users/{user_id:int}/enable", UserActiveResource(app, active=True))
