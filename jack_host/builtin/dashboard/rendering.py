"""Rendering pages: the Jinja2 environment, the common page context, flash messages, redirects."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import falcon
import jinja2

from jack_host.builtin.dashboard.registry import MenuEntry, menu_for
from jack_host.builtin.staff import session_cookies
from jack_host.builtin.staff.auth import StaffAuth
from jack_host.contract.services import role_allows

if TYPE_CHECKING:
    from jack_host.contract.app import App

STATE_KEY = "jack.dashboard"
FLASH_COOKIE = "jack_flash"
TEMPLATES = Path(__file__).parent / "templates"
#: Sent with every page: no inline script, nothing from other origins, never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@dataclass
class DashboardState:
    """Per-app: the template environment and the menu (``app.state["jack.dashboard"]``)."""

    env: jinja2.Environment
    menu: list[MenuEntry] = field(default_factory=list)

    @classmethod
    def of(cls, app: App) -> DashboardState:
        return app.state[STATE_KEY]


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_when
    env.filters["tojson_attr"] = lambda value: json.dumps(value)
    env.globals["has_role"] = lambda user, minimum: user is not None and role_allows(user.role, minimum)
    return env


def format_when(value: str | None) -> str:
    """``2026-12-02 16:05`` (UTC) from an ISO timestamp; empty for None."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def csrf_for(app: App, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> str:
    """The CSRF token of this browser, creating its nonce cookie on the first page it sees."""
    nonce = getattr(req.context, "csrf_nonce", None) or req.cookies.get(session_cookies.CSRF_COOKIE)
    if not nonce:
        nonce = session_cookies.new_csrf_nonce()
        session_cookies.set_cookie(req, resp, session_cookies.CSRF_COOKIE, nonce, max_age=None)
    req.context.csrf_nonce = nonce
    return session_cookies.csrf_token(StaffAuth.of(app).tokens.secret, nonce)


def flash(req: falcon.asgi.Request, resp: falcon.asgi.Response, message: str, kind: str = "ok") -> None:
    """Show ``message`` on the next page this browser renders (after a redirect)."""
    value = quote(json.dumps({"kind": kind, "text": message[:300]}))
    session_cookies.set_cookie(req, resp, FLASH_COOKIE, value, max_age=60)


def take_flash(req: falcon.asgi.Request, resp: falcon.asgi.Response) -> list[dict[str, str]]:
    raw = req.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    session_cookies.clear_cookie(req, resp, FLASH_COOKIE)
    try:
        data = json.loads(unquote(raw))
        return [{"kind": str(data["kind"]), "text": str(data["text"])}]
    except (ValueError, KeyError, TypeError):
        return []


def see_other(location: str) -> falcon.HTTPStatus:
    """Raise this after a successful POST: the browser loads ``location`` with GET."""
    return falcon.HTTPStatus(falcon.HTTP_303, headers={"Location": location})


def render_text(app: App, req: falcon.asgi.Request, resp: falcon.asgi.Response, template: str,
                **context: Any) -> str:
    state = DashboardState.of(app)
    user = getattr(req.context, "staff", None)
    page = {
        "user": user,
        "menu": menu_for(state.menu, user),
        "csrf_token": csrf_for(app, req, resp),
        "flashes": take_flash(req, resp),
        "path": req.path,
        "version": app.version,
    }
    page.update(context)
    return state.env.get_template(template).render(**page)


def render(app: App, req: falcon.asgi.Request, resp: falcon.asgi.Response, template: str, *,
           http_status: str = falcon.HTTP_200, **context: Any) -> None:
    """Answer with ``template`` (which extends ``base.html``) and the common context."""
    resp.status = http_status
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Content-Security-Policy", CSP)
    resp.set_header("X-Content-Type-Options", "nosniff")
    resp.set_header("Referrer-Policy", "same-origin")
    resp.cache_control = ["no-store"]
    resp.text = render_text(app, req, resp, template, **context)


def error_page(app: App, req: falcon.asgi.Request, status: str, title: str, detail: str) -> falcon.HTTPStatus:
    """A rendered error page to raise (403 for a role that is too low, 404...)."""
    resp = falcon.asgi.Response()
    text = render_text(app, req, resp, "error.html", title=title, detail=detail)
    headers = {"Content-Type": falcon.MEDIA_HTML, "Content-Security-Policy": CSP, "Cache-Control": "no-store"}
    return falcon.HTTPStatus(status, headers=headers, text=text)
