"""``/api/v1/auth/*``: sign in, refresh, sign out, and who am I."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon
from pydantic import Field

from jack_host.builtin.staff import accounts
from jack_host.builtin.staff.auth import StaffAuth, rate_limited, require_role, unauthorized
from jack_host.builtin.staff.models import StaffUser
from jack_host.builtin.staff.tokens import TokenError
from jack_host.builtin.staff.validation import Body, read_body
from jack_host.contract.interfaces import Alert
from jack_host.contract.services import Alerts

if TYPE_CHECKING:
    from jack_host.contract.app import App


class LoginBody(Body):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RefreshBody(Body):
    refresh_token: str = Field(min_length=1, max_length=512)


def token_response(app: App, user: StaffUser, refresh_token: str) -> dict:
    access, expires_in = StaffAuth.of(app).tokens.issue_access(user)
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": refresh_token,
        "user": user.as_dict(),
    }


class LoginResource:
    def __init__(self, app: App):
        self.app = app

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await read_body(req, LoginBody)
        user = await sign_in(self.app, body.email, body.password, req.context.client_ip)
        refresh = await asyncio.to_thread(StaffAuth.of(self.app).tokens.issue_refresh, user.id)
        resp.media = token_response(self.app, user, refresh)


async def sign_in(app: App, email: str, password: str, ip: str) -> StaffUser:
    """Check a password under the login limits (the API and the dashboard's sign-in page both use it).

    Raises 429 (limit reached) or 401 (wrong e-mail or password) as ``falcon.HTTPError``.
    """
    auth = StaffAuth.of(app)
    email = accounts.normalize_email(email)
    # Counted before the (slow) password check, so parallel guesses cannot outrun the limit.
    attempt = await asyncio.to_thread(auth.limiter.attempt, email, ip)
    if attempt.refused:
        await alert_login_failures(app, email, ip)
        raise rate_limited(f"too many failed sign-ins; try again in {attempt.retry_after} s", attempt.retry_after)
    if attempt.delay:
        await asyncio.sleep(attempt.delay)  # the account is under attack: slow every guess, lock no one out
    user = await asyncio.to_thread(accounts.authenticate, app.engine, email, password)
    if user is None:
        raise unauthorized("wrong e-mail or password, or the account is disabled")
    await asyncio.to_thread(auth.limiter.succeeded, email, ip)
    return user


async def alert_login_failures(app: App, email: str, ip: str) -> None:
    """A security alert (routed to the security team) once sign-ins are being refused; repeats are no-ops while it is open."""
    alerts = app.services.find(Alerts)
    if alerts is not None:
        await alerts.raise_alert(Alert(
            "security.login_failures", "critical", f"Repeated failed staff sign-ins: {email} from {ip} is now refused",
            {"email": email, "ip": ip, "alert_type": "security_alert"}, "security.login_failures"))


class RefreshResource:
    def __init__(self, app: App):
        self.app = app

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await read_body(req, RefreshBody)
        try:
            user, refresh = await asyncio.to_thread(StaffAuth.of(self.app).tokens.rotate, body.refresh_token)
        except TokenError as exc:
            raise unauthorized(str(exc), invalid_token=True) from None
        resp.media = token_response(self.app, user, refresh)


class LogoutResource:
    def __init__(self, app: App):
        self.app = app

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await read_body(req, RefreshBody)
        auth = StaffAuth.of(self.app)
        # Unknown tokens are fine: signing out twice is not an error worth showing anyone.
        await asyncio.to_thread(auth.tokens.revoke, body.refresh_token)
        scheme, _, access = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and access.strip():
            try:
                claims = auth.tokens.verify_access(access.strip())
            except TokenError:
                pass  # an expired or foreign access token has nothing left to revoke
            else:
                await asyncio.to_thread(auth.tokens.revoke_access, claims.user_id)
        resp.status = falcon.HTTP_204


@falcon.before(require_role("staff"))
class MeResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = req.context.staff.as_dict()


def add_auth_routes(app: App) -> None:
    app.add_route("/api/v1/auth/login", LoginResource(app))
    app.add_route("/api/v1/auth/refresh", RefreshResource(app))
    app.add_route("/api/v1/auth/logout", LogoutResource(app))
    app.add_route("/api/v1/auth/me", MeResource(app))
