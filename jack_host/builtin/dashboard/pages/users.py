"""``/users`` (admins): create staff accounts, disable and enable them, change roles, reset passwords."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon

from jack_host.builtin.dashboard.audit_trail import audit
from jack_host.builtin.dashboard.guard import field, form_data, page_guard
from jack_host.builtin.dashboard.registry import MenuEntry, Page
from jack_host.builtin.dashboard.rendering import error_page, flash, render, see_other
from jack_host.contract.services import STAFF_MIN_PASSWORD_LENGTH, STAFF_ROLES

if TYPE_CHECKING:
    from jack_host.contract.app import App


@falcon.before(page_guard("admin"))
class UsersPage:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        users = await asyncio.to_thread(self.app.services.staff_auth.list_users)
        render(self.app, req, resp, "users.html", users=users, roles=STAFF_ROLES,
               min_password=STAFF_MIN_PASSWORD_LENGTH)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_data(req)
        action = field(form, "action")
        accounts = self.app.services.staff_auth
        me = req.context.staff
        try:
            if action == "create":
                user = await asyncio.to_thread(
                    accounts.create_user, field(form, "email")[:320], field(form, "password")[:1024],
                    name=field(form, "name")[:200], role=field(form, "role"),
                )
                await audit(self.app, me.email, "user.create", f"user:{user.id}", None, user.as_dict())
                flash(req, resp, f"Account {user.email} created ({user.role}).")
            else:
                raw = field(form, "user_id")
                if not raw.isdigit():
                    raise ValueError("Which account? The form sent no account number.")
                user_id = int(raw)
                before = await asyncio.to_thread(accounts.get_user, user_id)
                if user_id == me.id and action in ("disable", "role"):
                    raise ValueError("You cannot disable or demote your own account; ask another admin.")
                if action == "disable":
                    user = await asyncio.to_thread(accounts.set_active, user_id, False)
                    done = "disabled; its sign-ins have ended"
                elif action == "enable":
                    user = await asyncio.to_thread(accounts.set_active, user_id, True)
                    done = "enabled"
                elif action == "role":
                    user = await asyncio.to_thread(accounts.set_role, user_id, field(form, "role"))
                    done = f"now {field(form, 'role')}"
                elif action == "password":
                    user = await asyncio.to_thread(accounts.set_password, user_id,
                                                   field(form, "password")[:1024])
                    done = "has a new password; its sign-ins have ended"
                else:
                    raise error_page(self.app, req, falcon.HTTP_400, "Unknown action",
                                     f"“{action}” is not something this page does.")
                if user is None or before is None:
                    raise ValueError(f"No staff account with id {user_id}.")
                changed = {"disable": "active", "enable": "active", "role": "role"}.get(action)
                old, new = ({changed: getattr(before, changed)}, {changed: getattr(user, changed)}) if changed else \
                    ({"password": "old"}, {"password": "new"})  # the audit log masks password values
                await audit(self.app, me.email, f"user.{action}", f"user:{user_id}", old, new)
                flash(req, resp, f"{user.email} {done}.")
        except ValueError as exc:
            flash(req, resp, str(exc), "error")
        raise see_other("/users")


PAGES = [Page("/users", UsersPage, MenuEntry("/users", "Users", "admin", 90))]
