"""Who is looking at a page: the cookie sign-in, the role a page needs, and the CSRF check.

``@falcon.before(page_guard("manager"))`` on a page resource does all three (see the package
docstring); :func:`signed_in_user` alone tells whether anyone is signed in (the sign-in page).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import falcon

from jack_host.builtin.dashboard.rendering import error_page
from jack_host.builtin.staff import session_cookies
from jack_host.builtin.staff.auth import StaffAuth
from jack_host.builtin.staff.tokens import TokenError, hash_refresh_token
from jack_host.contract.services import STAFF_ROLES, role_allows

if TYPE_CHECKING:
    from jack_host.builtin.staff.models import StaffUser
    from jack_host.contract.app import App

RENEWALS_KEY = "jack.dashboard.renewals"
#: How long a rotated refresh token still yields the same new pair (concurrent requests of one page).
RENEWAL_GRACE_SECONDS = 10.0


def set_session(app: App, req: falcon.asgi.Request, resp: falcon.asgi.Response, user: StaffUser,
                refresh_token: str) -> None:
    """Put a fresh sign-in in the browser's cookies (after sign-in and after each renewal)."""
    tokens = StaffAuth.of(app).tokens
    access, lifetime = tokens.issue_access(user)
    session_cookies.set_cookie(req, resp, session_cookies.ACCESS_COOKIE, access, max_age=lifetime)
    session_cookies.set_cookie(req, resp, session_cookies.REFRESH_COOKIE, refresh_token,
                               max_age=int(tokens.refresh_ttl.total_seconds()))


def clear_session(req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
    session_cookies.clear_cookie(req, resp, session_cookies.ACCESS_COOKIE)
    session_cookies.clear_cookie(req, resp, session_cookies.REFRESH_COOKIE)


async def signed_in_user(app: App, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> StaffUser | None:
    """The account signed in by this browser's cookies, renewing an expired access token; else None."""
    auth = StaffAuth.of(app)
    access = req.cookies.get(session_cookies.ACCESS_COOKIE)
    if access:
        try:
            return await auth.user_for_token(access)
        except TokenError:
            pass  # expired or revoked: the refresh token decides
    refresh = req.cookies.get(session_cookies.REFRESH_COOKIE)
    if not refresh:
        return None
    try:
        user, next_refresh = await renew(app, refresh)
    except TokenError:
        clear_session(req, resp)
        return None
    set_session(app, req, resp, user, next_refresh)
    req.context.session_renewed = True  # the old refresh token is spent: never rotate it twice
    return user


@dataclass
class _Renewals:
    """Refresh tokens this process rotated in the last :data:`RENEWAL_GRACE_SECONDS`, by digest."""

    lock: asyncio.Lock = dataclass_field(default_factory=asyncio.Lock)
    done: dict[str, tuple[float, StaffUser, str]] = dataclass_field(default_factory=dict)


async def renew(app: App, refresh: str) -> tuple[StaffUser, str]:
    """Rotate the browser's refresh token; raise :class:`TokenError`.

    A page and its script often ask at the same moment with the same expired cookie; rotating the
    token twice would look like theft and end the sign-in.  So the second request within a few
    seconds gets the pair the first one got (in this process), instead of a second rotation.
    """
    renewals: _Renewals = app.state.setdefault(RENEWALS_KEY, _Renewals())
    digest = hash_refresh_token(refresh)
    async with renewals.lock:
        now = time.monotonic()
        for key in [k for k, (at, _, _) in renewals.done.items() if now - at > RENEWAL_GRACE_SECONDS]:
            del renewals.done[key]
        if digest in renewals.done:
            _, user, next_refresh = renewals.done[digest]
            return user, next_refresh
        user, next_refresh = await asyncio.to_thread(StaffAuth.of(app).tokens.rotate, refresh)
        renewals.done[digest] = (now, user, next_refresh)
        return user, next_refresh


async def form_data(req: falcon.asgi.Request) -> dict[str, Any]:
    """The posted form (``application/x-www-form-urlencoded``) as a dict; ``{}`` for anything else."""
    cached = getattr(req.context, "form", None)
    if cached is not None:
        return cached
    form: dict[str, Any] = {}
    if (req.content_type or "").startswith(falcon.MEDIA_URLENCODED):
        media = await req.get_media(default_when_empty={})
        form = media if isinstance(media, dict) else {}
    req.context.form = form
    return form


def field(form: dict[str, Any], name: str, default: str = "") -> str:
    """One form field as text (the first value when it was sent twice)."""
    value = form.get(name, default)
    if isinstance(value, list):
        value = value[0] if value else default
    return str(value)


async def check_csrf(app: App, req: falcon.asgi.Request) -> None:
    """Refuse (403 page) a state-changing request without this browser's CSRF token."""
    presented = req.get_header(session_cookies.CSRF_HEADER)
    if not presented:
        presented = field(await form_data(req), session_cookies.CSRF_FIELD) or None
    if not session_cookies.csrf_valid(StaffAuth.of(app).tokens.secret,
                                      req.cookies.get(session_cookies.CSRF_COOKIE), presented):
        raise error_page(app, req, falcon.HTTP_403, "This form has expired",
                         "The security token of this form is missing or out of date. Reload the page and try again.")


def login_redirect(req: falcon.asgi.Request) -> falcon.HTTPStatus:
    target = req.relative_uri if req.method == "GET" else req.path
    return falcon.HTTPStatus(falcon.HTTP_303, headers={"Location": "/login?next=" + quote(target, safe="")})


def page_guard(minimum_role: str = "staff") -> Any:
    """A Falcon ``before`` hook for dashboard pages: sign-in, role, CSRF (see the module docstring)."""
    if minimum_role not in STAFF_ROLES:
        raise ValueError(f"unknown role {minimum_role!r}")

    async def hook(req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, params: dict) -> None:
        app = resource.app
        user = await signed_in_user(app, req, resp)
        if user is None:
            raise login_redirect(req)
        req.context.staff = user
        if not role_allows(user.role, minimum_role):
            raise error_page(app, req, falcon.HTTP_403, "Not for your role",
                             f"This page needs the {minimum_role} role or higher; you are {user.role}.")
        if req.method not in session_cookies.SAFE_METHODS:
            await check_csrf(app, req)

    return hook


def safe_next(target: str | None) -> str:
    """Only a same-site relative path (``/inbox?state=ai``) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/inbox"
    if any(ord(ch) < 32 for ch in target) or target.startswith(("/login", "/logout", "/setup")):
        return "/inbox"
    return target
