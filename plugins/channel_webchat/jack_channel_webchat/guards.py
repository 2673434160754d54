"""Checks a chat connection or message must pass: its origin, and the rates of its session and client address."""

from __future__ import annotations

import collections
import ipaddress
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


def client_key(req: falcon.asgi.Request) -> str:
    """The client address the per-address limits count against.

    The host's proxy middleware has already picked the address from trusted proxies'
    headers (``req.context.client_ip``; ``req.remote_addr`` otherwise).  An IPv6 client
    owns a whole /64, so its addresses count together.
    """
    address = getattr(req.context, "client_ip", None) or req.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    """A sliding one-minute window per key (a session, shared by its tabs; or a client address).

    Synchronous, so a check and its count happen with no await between them: concurrent
    chats on the event loop cannot all pass one last free place.
    """

    WINDOW = 60.0

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, collections.deque[float]] = {}

    def check(self, key: str) -> float:
        """Count one event; return 0 when allowed, else the seconds until one is allowed."""
        wait = self.wait(key)
        if not wait:
            self.hit(key)
        return wait

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may have one more event (0: now); counts nothing."""
        now = self.clock()
        hits = self._hits.get(key)
        if not hits:
            return 0.0
        while hits and now - hits[0] >= self.WINDOW:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return round(self.WINDOW - (now - hits[0]), 1) or 0.1
        return 0.0

    def hit(self, key: str) -> None:
        self._hits.setdefault(key, collections.deque()).append(self.clock())

    def prune(self) -> None:
        """Forget sessions with no message in the last minute (bounded memory)."""
        now = self.clock()
        for key in [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.WINDOW]:
            del self._hits[key]
