"""Who is calling: bearer-token authentication, roles, and the errors they produce.

Resources protect their responders with ``@falcon.before(require_role("manager"))``;
the hook authenticates the ``Authorization: Bearer`` token, loads the account (so a
disabled or demoted account loses access at once, not when its token expires) and puts
it on ``req.context.staff``.  Without an ``Authorization`` header, the dashboard's
``jack_access`` cookie is accepted instead, with a CSRF check on state-changing methods
(:mod:`jack_host.builtin.staff.session_cookies`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import falcon

from jack_host.builtin.staff import accounts, session_cookies
from jack_host.builtin.staff.login_limits import LoginLimiter
from jack_host.builtin.staff.models import ROLES, StaffUser
from jack_host.builtin.staff.tokens import TokenError, TokenService, resolve_secret
from jack_host.contract.services import StaffAuth as StaffAuthService

if TYPE_CHECKING:
    from jack_host.contract.app import App

STATE_KEY = "jack.staff"
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}  # staff < manager < admin


class StaffAuth(StaffAuthService):
    """Tokens, login limits and account look-ups for one app (the ``StaffAuth`` service)."""

    @classmethod
    def of(cls, app: App) -> StaffAuth:
        """The staff feature's own handle (other features use ``app.services.staff_auth``)."""
        return app.state[STATE_KEY]

    def __init__(self, app: App):
        settings = app.settings
        self.settings = settings
        self.engine = app.engine
        self._tokens: TokenService | None = None
        self.limiter = LoginLimiter(
            app.engine,
            per_pair=int(settings.get("STAFF_LOGIN_MAX_FAILURES")),
            per_ip=int(settings.get("STAFF_LOGIN_MAX_FAILURES_PER_IP")),
            window=float(settings.get("STAFF_LOGIN_WINDOW_SECONDS")),
            slowdown_after=int(settings.get("STAFF_LOGIN_SLOWDOWN_AFTER")),
            max_delay=float(settings.get("STAFF_LOGIN_SLOWDOWN_MAX_SECONDS")),
        )

    @property
    def tokens(self) -> TokenService:
        """Built on first use (or at start-up), so commands that never sign anyone in never warn."""
        if self._tokens is None:
            self._tokens = TokenService(
                self.engine,
                resolve_secret(self.settings.get("JWT_SECRET")),
                access_ttl_seconds=int(self.settings.get("STAFF_ACCESS_TOKEN_SECONDS")),
                refresh_ttl_days=float(self.settings.get("STAFF_REFRESH_TOKEN_DAYS")),
            )
        return self._tokens

    async def user_for_token(self, token: str) -> StaffUser:
        """The active account an access token belongs to; raise :class:`TokenError` otherwise."""
        claims = self.tokens.verify_access(token)
        user = await asyncio.to_thread(accounts.get_user, self.engine, claims.user_id)
        if user is None or not user.active:
            raise TokenError("this account is disabled or no longer exists")
        # The account is loaded anyway (for its role and state), so this check costs nothing extra.
        if claims.token_version != user.token_version:
            raise TokenError("the access token was revoked (signed out); sign in again")
        return user

    async def authenticate(self, req: falcon.asgi.Request) -> StaffUser:
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if not header and req.cookies.get(session_cookies.ACCESS_COOKIE):
            return await self._authenticate_cookie(req)
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("send 'Authorization: Bearer <access token>' (get one from POST /api/v1/auth/login)")
        try:
            return await self.user_for_token(token.strip())
        except TokenError as exc:
            raise unauthorized(str(exc), invalid_token=True) from None

    async def _authenticate_cookie(self, req: falcon.asgi.Request) -> StaffUser:
        """The dashboard's cookie sign-in; state-changing methods must carry the CSRF token too."""
        try:
            user = await self.user_for_token(req.cookies[session_cookies.ACCESS_COOKIE])
        except TokenError as exc:
            raise unauthorized(str(exc), invalid_token=True) from None
        if req.method not in session_cookies.SAFE_METHODS and not session_cookies.csrf_valid(
            self.tokens.secret, req.cookies.get(session_cookies.CSRF_COOKIE), req.get_header(session_cookies.CSRF_HEADER)
        ):
            raise forbidden(f"signed in by cookie: send the page's CSRF token in the {session_cookies.CSRF_HEADER} header")
        return user

    async def authorize(self, req: falcon.asgi.Request, minimum_role: str) -> StaffUser:
        """Authenticate the request and insist on ``minimum_role`` or higher (401/403 otherwise)."""
        if minimum_role not in ROLE_RANK:
            raise ValueError(f"unknown role {minimum_role!r}")
        user = await self.authenticate(req)
        if not has_role(user, minimum_role):
            raise forbidden(f"this needs the {minimum_role} role or higher; you are {user.role}")
        return user


    def list_users(self) -> list[StaffUser]:
        return accounts.list_users(self.engine)

    def get_user(self, user_id: int) -> StaffUser | None:
        return accounts.get_user(self.engine, user_id)

    def create_user(self, email: str, password: str, *, name: str = "", role: str = "staff") -> StaffUser:
        return accounts.create_user(self.engine, email, password, name=name, role=role)

    def set_active(self, user_id: int, active: bool) -> StaffUser | None:
        return accounts.set_active(self.engine, user_id, active)

    def set_role(self, user_id: int, role: str) -> StaffUser | None:
        return accounts.set_role(self.engine, user_id, role)

    def set_password(self, user_id: int, password: str) -> StaffUser | None:
        return accounts.set_password(self.engine, user_id, password)


def has_role(user: StaffUser, minimum: str) -> bool:
    return ROLE_RANK.get(user.role, -1) >= ROLE_RANK[minimum]


def require_role(minimum: str) -> Any:
    """A Falcon ``before`` hook: authenticate, then insist on ``minimum`` role or higher."""
    if minimum not in ROLE_RANK:
        raise ValueError(f"unknown role {minimum!r}")

    async def hook(req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, params: dict) -> None:
        req.context.staff = await resource.app.services.staff_auth.authorize(req, minimum)

    return hook


# ---- errors, all rendered as {"error": ..., "detail": ...} by jack_host.web.errors
def unauthorized(detail: str, invalid_token: bool = False) -> falcon.HTTPError:
    challenge = 'Bearer realm="jack", error="invalid_token"' if invalid_token else 'Bearer realm="jack"'
    return falcon.HTTPUnauthorized(title="unauthorized", description=detail, challenges=[challenge])


def forbidden(detail: str) -> falcon.HTTPError:
    return falcon.HTTPForbidden(title="forbidden", description=detail)


def not_found(detail: str) -> falcon.HTTPError:
    return falcon.HTTPNotFound(title="not_found", description=detail)


def conflict(detail: str) -> falcon.HTTPError:
    return falcon.HTTPConflict(title="conflict", description=detail)


def rate_limited(detail: str, retry_after: int) -> falcon.HTTPError:
    return falcon.HTTPTooManyRequests(title="rate_limited", description=detail, retry_after=retry_after)
