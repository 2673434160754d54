"""``/``, ``/login``, ``/logout``, ``/setup`` (first run) and ``/session/refresh``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon

from jack_host.builtin.dashboard.audit_trail import audit
from jack_host.builtin.dashboard.guard import (
    check_csrf,
    clear_session,
    field,
    form_data,
    page_guard,
    renew,
    safe_next,
    set_session,
    signed_in_user,
)
from jack_host.builtin.dashboard.registry import Page
from jack_host.builtin.dashboard.rendering import flash, render, see_other
from jack_host.builtin.staff import accounts, session_cookies
from jack_host.builtin.staff.auth import StaffAuth
from jack_host.builtin.staff.auth_api import sign_in
from jack_host.builtin.staff.tokens import TokenError

if TYPE_CHECKING:
    from jack_host.contract.app import App

SETUP_LOCK = "jack.dashboard.setup_lock"


class HomeResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if await signed_in_user(self.app, req, resp) is not None:
            raise see_other("/inbox")
        if not await asyncio.to_thread(accounts.admin_exists, self.app.engine):
            raise see_other("/setup")
        raise see_other("/login")


class LoginResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        target = safe_next(req.get_param("next"))
        if await signed_in_user(self.app, req, resp) is not None:
            raise see_other(target)
        first_run = not await asyncio.to_thread(accounts.admin_exists, self.app.engine)
        render(self.app, req, resp, "login.html", next=target, email="", error=None, first_run=first_run)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await check_csrf(self.app, req)
        form = await form_data(req)
        email, password = field(form, "email").strip(), field(form, "password")
        target = safe_next(field(form, "next"))
        if not email or not password:
            render(self.app, req, resp, "login.html", http_status=falcon.HTTP_400, next=target, email=email,
                   error="Enter your e-mail and password.", first_run=False)
            return
        try:
            user = await sign_in(self.app, email[:320], password[:1024], req.context.client_ip)
        except falcon.HTTPError as exc:  # 401 wrong password, 429 too many attempts
            render(self.app, req, resp, "login.html", http_status=exc.status, next=target, email=email,
                   error=exc.description, first_run=False)
            if exc.headers and "Retry-After" in exc.headers:
                resp.set_header("Retry-After", exc.headers["Retry-After"])
            return
        refresh = await asyncio.to_thread(StaffAuth.of(self.app).tokens.issue_refresh, user.id)
        set_session(self.app, req, resp, user, refresh)
        # A new CSRF nonce with the new sign-in: one known before sign-in is worth nothing after.
        session_cookies.set_cookie(req, resp, session_cookies.CSRF_COOKIE, session_cookies.new_csrf_nonce(), None)
        raise see_other(target)


class LogoutResource:
    def __init__(self, app: App):
        self.app = app

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await check_csrf(self.app, req)
        tokens = StaffAuth.of(self.app).tokens
        refresh = req.cookies.get(session_cookies.REFRESH_COOKIE)
        if refresh:
            await asyncio.to_thread(tokens.revoke, refresh)  # this sign-in and the account's access tokens
        user = await signed_in_user(self.app, req, resp)
        if user is not None and user.id is not None:
            await asyncio.to_thread(tokens.revoke_access, user.id)
        clear_session(req, resp)
        flash(req, resp, "You are signed out.")
        raise see_other("/login")


class SetupResource:
    """The first-run page: creates the first admin account, and only while no admin exists."""

    def __init__(self, app: App):
        self.app = app

    async def _refuse_if_done(self) -> None:
        if await asyncio.to_thread(accounts.admin_exists, self.app.engine):
            raise falcon.HTTPStatus(falcon.HTTP_303, headers={"Location": "/login"})

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self._refuse_if_done()
        render(self.app, req, resp, "setup.html", errors={}, values={})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await check_csrf(self.app, req)
        form = await form_data(req)
        values = {name: field(form, name).strip() for name in ("email", "name")}
        password, confirm = field(form, "password"), field(form, "confirm")
        errors: dict[str, str] = {}
        if problem := accounts.check_email(values["email"]):
            errors["email"] = f"E-mail: {problem}."
        if problem := accounts.check_password(password):
            errors["password"] = f"Password: {problem}."
        elif password != confirm:
            errors["confirm"] = "The two passwords differ."
        lock = self.app.state.setdefault(SETUP_LOCK, asyncio.Lock())
        async with lock:  # two first-run forms sent at once create one admin
            if await asyncio.to_thread(accounts.admin_exists, self.app.engine):
                render(self.app, req, resp, "error.html", http_status=falcon.HTTP_409, title="Already set up",
                       detail="An admin account exists already; sign in instead.")
                return
            if errors:
                render(self.app, req, resp, "setup.html", http_status=falcon.HTTP_400, errors=errors, values=values)
                return
            try:
                user = await asyncio.to_thread(accounts.create_user, self.app.engine, values["email"], password,
                                               name=values["name"][:200], role="admin")
            except accounts.AccountError as exc:
                render(self.app, req, resp, "setup.html", http_status=falcon.HTTP_400,
                       errors={exc.field or "email": str(exc)}, values=values)
                return
        await audit(self.app, user.email, "user.create", f"user:{user.id}", None, {**user.as_dict(), "via": "first run"})
        refresh = await asyncio.to_thread(StaffAuth.of(self.app).tokens.issue_refresh, user.id)
        set_session(self.app, req, resp, user, refresh)
        flash(req, resp, f"Welcome, {user.name or user.email}: your admin account is ready.")
        raise see_other("/inbox")


@falcon.before(page_guard("staff"))
class RefreshResource:
    """``POST /session/refresh``: the page's script renews the cookies (e.g. before reconnecting /ws/staff)."""

    def __init__(self, app: App):
        self.app = app

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        user = req.context.staff
        refresh = req.cookies.get(session_cookies.REFRESH_COOKIE)
        if refresh and not getattr(req.context, "session_renewed", False):
            try:
                user, refresh = await renew(self.app, refresh)
            except TokenError:
                clear_session(req, resp)
                raise falcon.HTTPUnauthorized(title="unauthorized", description="sign in again") from None
            set_session(self.app, req, resp, user, refresh)
        resp.media = {"user": user.as_dict()}


PAGES = [
    Page("/", HomeResource),
    Page("/login", LoginResource),
    Page("/logout", LogoutResource),
    Page("/setup", SetupResource),
    Page("/session/refresh", RefreshResource),
]
