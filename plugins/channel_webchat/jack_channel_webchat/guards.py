"""Checks a chat connection or message must pass: its origin and the session's rate."""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING

from jack_channel_webchat.config import WebchatConfig, normalise_origin

if TYPE_CHECKING:
    import falcon.asgi

_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def own_origins(public_url: str, req: falcon.asgi.Request) -> set[str]:
    """The origins of pages Jack itself serves: ``PUBLIC_URL`` and the request's trusted scheme and host.

    ``req.context`` holds the scheme and host after ``ProxyHeadersMiddleware`` applied
    only trusted ``X-Forwarded-*`` headers.  A WebSocket's scheme is ``ws``/``wss``;
    the page that opened it is ``http``/``https``.
    """
    found = set()
    if public_url:
        origin = normalise_origin(public_url)
        if origin:
            found.add(origin)
    scheme = _HTTP_SCHEME.get(str(getattr(req.context, "scheme", req.scheme)).lower())
    host = getattr(req.context, "host", None) or req.host
    if scheme and host:
        origin = normalise_origin(f"{scheme}://{host}")
        if origin:
            found.add(origin)
    return found


def origin_allowed(origin: str | None, config: WebchatConfig, own: set[str]) -> bool:
    if not origin:
        return False
    normalised = normalise_origin(origin)
    if normalised is None:
        return False
    return config.allow_any_origin or normalised in own or normalised in config.allowed_origins


class RateLimiter:
    """A sliding one-minute window per session, shared by all of the session's tabs."""

    WINDOW = 60.0

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, collections.deque[float]] = {}

    def check(self, key: str) -> float:
        """Count one message; return 0 when allowed, else the seconds until one is allowed."""
        now = self.clock()
        hits = self._hits.setdefault(key, collections.deque())
        while hits and now - hits[0] >= self.WINDOW:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return round(self.WINDOW - (now - hits[0]), 1) or 0.1
        hits.append(now)
        return 0.0

    def prune(self) -> None:
        """Forget sessions with no message in the last minute (bounded memory)."""
        now = self.clock()
        for key in [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.WINDOW]:
            del self._hits[key]
