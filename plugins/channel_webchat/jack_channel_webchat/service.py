"""The web chat's per-app service (``app.state["channel_webchat"]``): sessions, open sockets, background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from jack_channel_webchat.config import WebchatConfig
from jack_channel_webchat.connections import ConnectionRegistry
from jack_channel_webchat.guards import RateLimiter
from jack_channel_webchat.sessions import SessionStore
from jack_host.contract.interfaces import Inbox
from jack_host.contract.services import Conversations

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.webchat")
STATE_KEY = "channel_webchat"
#: Open sessions are marked active and expired ones deleted this often.
MAINTENANCE_INTERVAL = 300.0


class WebchatService:
    def __init__(self, app: App):
        self.app = app
        self.config = WebchatConfig.from_settings(app.settings)
        self.sessions = SessionStore(app.engine, self.config.session_idle_seconds)
        self.connections = ConnectionRegistry()
        self.rate_limiter = RateLimiter(self.config.rate_limit_per_minute)
        # Per client address: new sessions, and messages of all its sessions together.
        self.session_limiter = RateLimiter(self.config.sessions_per_address_per_minute)
        self.address_limiter = RateLimiter(self.config.messages_per_address_per_minute)
        self.serving = False
        self._tasks: list[asyncio.Task] = []

    @classmethod
    def of(cls, app: App) -> WebchatService:
        return app.state[STATE_KEY]

    @property
    def pipeline(self) -> Inbox | None:
        """Where guest messages go (``None`` while the conversations feature is disabled)."""
        return self.app.services.find(Inbox)

    @property
    def conversations(self) -> Conversations | None:
        """Where a returning guest's history comes from."""
        return self.app.services.find(Conversations)

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keepalive_loop(), name="webchat-keepalive"),
            asyncio.create_task(self._maintenance_loop(), name="webchat-maintenance"),
        ]
        self.serving = True

    async def stop(self) -> None:
        self.serving = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _keepalive_loop(self) -> None:
        """One task pings every open socket, so idle tabs cost no task of their own.

        The pings keep proxies (nginx's read timeout) from closing quiet chats and let
        the widget notice a dead connection and reconnect.
        """
        while True:
            await asyncio.sleep(self.config.ping_interval)
            frame = {"type": "ping", "ts": int(time.time())}
            connections = self.connections.all()
            for start in range(0, len(connections), 500):
                await asyncio.gather(*(c.send(frame) for c in connections[start : start + 500]))
            for limiter in (self.rate_limiter, self.session_limiter, self.address_limiter):
                limiter.prune()

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_INTERVAL)
            try:
                await asyncio.to_thread(self.sessions.touch, self.connections.addresses())
                removed = await asyncio.to_thread(self.sessions.delete_expired)
                if removed:
                    log.info("web chat: %d idle sessions expired", removed)
            except Exception:  # keep maintaining whatever one round hit
                log.exception("web chat session maintenance failed")

