"""``/ws/staff``: the live event stream for dashboards.

Authenticate with an access token, either as the subprotocols ``["bearer", "<token>"]``
(browsers cannot set headers on WebSockets), as ``?token=<token>``, or, from a dashboard page
of the same origin, as the ``jack_access`` cookie.  A bad token gets
the connection accepted and closed at once with code 4401 and a reason, so clients can
tell "sign in again" from a network error.

Frames are JSON: every ``app.services.events`` event as ``{"type", "payload"}``; the server sends
``{"type": "ping"}`` every ``STAFF_WS_PING_SECONDS`` and answers a client's
``{"type": "ping"}`` with ``{"type": "pong"}``.  A client may send ``{"type": "auth",
"token": ...}`` with a fresh access token to keep the stream open past the first one's expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

import falcon
import falcon.asgi
from falcon.errors import WebSocketDisconnected

from jack_host.builtin.staff import accounts, session_cookies
from jack_host.builtin.staff.auth import StaffAuth
from jack_host.builtin.staff.tokens import TokenError

if TYPE_CHECKING:
    from jack_host.builtin.staff.models import StaffUser
    from jack_host.contract.app import App

log = logging.getLogger("jack.staff.ws")
CLOSE_UNAUTHORIZED = 4401
SUBPROTOCOL = "bearer"


def offered_token(req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> str | None:
    protocols = list(ws.subprotocols)
    if SUBPROTOCOL in protocols:
        others = [p for p in protocols if p != SUBPROTOCOL]
        if others:
            return others[0]
    return req.get_param("token") or None


def cookie_token(req: falcon.asgi.Request) -> str | None:
    """The dashboard's ``jack_access`` cookie, only from a page of this same site.

    Browsers send cookies on cross-site WebSocket handshakes too, so the Origin must match.
    """
    token = req.cookies.get(session_cookies.ACCESS_COOKIE)
    origin = (req.get_header("Origin") or "").rstrip("/").lower()
    scheme = "https" if session_cookies.is_https(req) else "http"
    host = (getattr(req.context, "host", None) or req.get_header("Host") or "").lower()
    if not token or origin != f"{scheme}://{host}":
        return None
    return token


class StaffStream:
    def __init__(self, app: App):
        self.app = app
        self.ping_interval = float(app.settings.get("STAFF_WS_PING_SECONDS"))

    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        subprotocol = SUBPROTOCOL if SUBPROTOCOL in ws.subprotocols else None
        token = offered_token(req, ws) or cookie_token(req)
        auth = StaffAuth.of(self.app)
        try:
            if not token:
                raise TokenError("no access token: send subprotocols ['bearer', <token>] or ?token=")
            user = await auth.user_for_token(token)
            expires_at = auth.tokens.verify_access(token).expires_at
        except TokenError as exc:
            # Accept first: a close before the handshake reaches the client as a bare HTTP 403.
            await ws.accept(subprotocol=subprotocol)
            await ws.close(CLOSE_UNAUTHORIZED, _reason(str(exc)))
            return
        await ws.accept(subprotocol=subprotocol)
        session = _Session(self.app, ws, user, expires_at, self.ping_interval)
        await session.run()


class _Session:
    """One connected dashboard: forwards events, pings, and watches its token."""

    def __init__(self, app: App, ws: falcon.asgi.WebSocket, user: StaffUser, expires_at: dt.datetime, ping: float):
        self.app = app
        self.ws = ws
        self.user = user
        self.expires_at = expires_at
        self.ping_interval = ping

    async def run(self) -> None:
        async with self.app.services.events.subscribe() as queue:
            await self.ws.send_media({"type": "hello", "payload": {"user": self.user.as_dict()}})
            tasks = [
                asyncio.create_task(self._forward(queue)),
                asyncio.create_task(self._listen()),
                asyncio.create_task(self._keepalive()),
            ]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnected, Exception):
                        await task

    async def _forward(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await queue.get()
            await self.ws.send_media(event)

    async def _listen(self) -> None:
        while True:
            try:
                text = await self.ws.receive_text()
            except WebSocketDisconnected:
                return
            try:
                frame = json.loads(text)
            except json.JSONDecodeError:
                await self.ws.send_media({"type": "error", "payload": {"detail": "frames must be JSON objects"}})
                continue
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "ping":
                await self.ws.send_media({"type": "pong"})
            elif kind == "pong":
                continue
            elif kind == "auth":
                await self._reauthenticate(str(frame.get("token") or ""))
            else:
                await self.ws.send_media({"type": "error", "payload": {"detail": f"unknown frame type {kind!r}"}})

    async def _reauthenticate(self, token: str) -> None:
        auth = StaffAuth.of(self.app)
        try:
            user = await auth.user_for_token(token)
            if user.id != self.user.id:
                raise TokenError("that token belongs to another account")
            self.expires_at = auth.tokens.verify_access(token).expires_at
            self.user = user
        except TokenError as exc:
            await self.ws.send_media({"type": "error", "payload": {"detail": str(exc)}})
            return
        await self.ws.send_media({"type": "auth.ok", "payload": {"expires_at": self.expires_at.isoformat()}})

    async def _keepalive(self) -> None:
        """Ping, and close with 4401 once the token has expired or the account was disabled."""
        while True:
            now = dt.datetime.now(dt.UTC)
            wait = min(self.ping_interval, max(0.0, (self.expires_at - now).total_seconds()))
            await asyncio.sleep(wait)
            if dt.datetime.now(dt.UTC) >= self.expires_at:
                await self.ws.close(CLOSE_UNAUTHORIZED, "access token expired; reconnect with a fresh token")
                return
            current = await asyncio.to_thread(accounts.get_user, self.app.engine, self.user.id)
            if current is None or not current.active:
                await self.ws.close(CLOSE_UNAUTHORIZED, "this account is disabled")
                return
            await self.ws.send_media({"type": "ping"})


def _reason(text: str) -> str:
    """Close reasons are limited to 123 bytes by the protocol."""
    encoded = text.encode()[:123]
    return encoded.decode(errors="ignore")


def add_staff_ws_route(app: App) -> None:
    app.add_route("/ws/staff", StaffStream(app))
