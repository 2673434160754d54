"""Request body caps, per route, enforced while the body streams in.

Every route accepts at most :data:`DEFAULT_MAX_BODY_BYTES` (64 KiB: the login, the staff API);
a resource that needs more says so with a class attribute::

    class WhatsappWebhook:
        max_body_bytes = 3 * 1024 * 1024   # Meta's documented webhook payload maximum

A request whose ``Content-Length`` is over the cap is answered 413 before its body is read. A
chunked body (no length) is counted as it arrives and answered 413 as soon as it passes the
cap; the rest is never read (the 413 closes the connection), so a 100 MB body costs the
server about one cap's worth of memory, not 100 MB.

WebSocket messages are capped by the server (``jack serve`` passes
:data:`MAX_WEBSOCKET_MESSAGE_BYTES` to uvicorn as ``ws_max_size``; a larger message is closed
with 1009).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import falcon
import falcon.asgi

DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: The largest WebSocket message ``jack serve`` accepts (uvicorn's ``ws_max_size``; its default is 16 MiB).
MAX_WEBSOCKET_MESSAGE_BYTES = 256 * 1024

_CAP = "jack.max_body_bytes"
_RECEIVED = "jack.body_bytes_received"

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


def body_too_large(cap: int, size: int | None = None) -> falcon.HTTPError:
    said = f"{size} bytes" if size is not None else "more than that"
    return falcon.HTTPContentTooLarge(
        title="body_too_large",
        description=f"this endpoint accepts request bodies of at most {cap} bytes; this one is {said}",
        # The rest of the body is not read, so the connection cannot carry another request.
        headers={"Connection": "close"},
    )


def max_body_bytes(resource: object) -> int:
    """The cap of a route: its resource's ``max_body_bytes``, else :data:`DEFAULT_MAX_BODY_BYTES`."""
    cap = getattr(resource, "max_body_bytes", None)
    return int(cap) if isinstance(cap, int) and cap > 0 else DEFAULT_MAX_BODY_BYTES


def counting_receive(scope: MutableMapping[str, Any], receive: Receive) -> Receive:
    """Wrap an HTTP request's ``receive`` to count body bytes and refuse past the route's cap.

    Falcon reads the first event before routing, when the cap is not known yet; it is counted
    then, and checked by :class:`BodyLimitMiddleware` once the route is found.
    """
    if scope.get("type") != "http":
        return receive
    scope[_RECEIVED] = 0

    async def counted() -> MutableMapping[str, Any]:
        event = await receive()
        if event.get("type") == "http.request":
            scope[_RECEIVED] += len(event.get("body") or b"")
            cap = scope.get(_CAP)
            if cap is not None and scope[_RECEIVED] > cap:
                raise body_too_large(cap)
        return event

    return counted


class BodyLimitMiddleware:
    """Set each route's body cap, and refuse a declared ``Content-Length`` over it at once."""

    async def process_resource(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object, params: dict[str, Any]
    ) -> None:
        if resource is None:
            return
        cap = max_body_bytes(resource)
        req.scope[_CAP] = cap
        length = req.content_length
        if length is not None and length > cap:
            raise body_too_large(cap, length)
        if req.scope.get(_RECEIVED, 0) > cap:
            raise body_too_large(cap)
