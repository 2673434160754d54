"""A channel for tests and development: records what it sends, fails on request.

Load it as a plugin::

    app = make_app(tmp_path, plugins=[("test_channel", jack_host.testing.channel)])
    channel = app.channels["test"]

or, in a ``jack serve`` subprocess, with ``JACK_EXTRA_PLUGINS=jack_host.testing.channel``
(see ``jack_host.contract.plugins``).  When loaded it adds HTTP routes so a test can drive a
server it does not share memory with:

- ``POST /test-channel/inbound`` ``{"channel_message_id", "body", "sender_phone"|"sender_email"|"sender_address", ...}``
  hands an inbound message to ``app.services.inbox.receive`` and answers with the ``Received`` fields;
- ``GET /test-channel/sent`` lists what the channel sent;
- ``POST /test-channel/failures`` ``{"transient": n, "permanent": n, "retry_after": s}`` makes the next sends fail.

Never load it in production: the inbound route is unauthenticated by design.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import falcon

from jack_host import hookimpl
from jack_host.contract.interfaces import (
    Channel,
    ComponentHealth,
    InboundMessage,
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)

if TYPE_CHECKING:
    from jack_host.web.app import JackApp

INBOUND_FIELDS = {f.name for f in dataclasses.fields(InboundMessage)} - {"channel", "received_at"}


class TestChannel(Channel):
    """Channel ``test``: ``sent`` holds every delivered :class:`OutboundMessage`."""

    __test__ = False  # not a pytest test class
    name = "test"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.attempts = 0
        self._failures: list[tuple[str, float | None]] = []
        self._ids = itertools.count(1)
        self.delay = 0.0

    def fail_next(self, times: int = 1, *, permanent: bool = False, retry_after: float | None = None) -> None:
        """Make the next ``times`` sends raise a transient (or permanent) error."""
        self._failures.extend([("permanent" if permanent else "transient", retry_after)] * times)

    async def health(self) -> ComponentHealth:
        return ComponentHealth.connected("test channel")

    async def send(self, message: OutboundMessage) -> SendResult:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._failures:
            kind, retry_after = self._failures.pop(0)
            if kind == "permanent":
                raise PermanentSendError("test channel: recipient refused (permanent failure requested)")
            raise TransientSendError("test channel: provider busy (transient failure requested)", retry_after=retry_after)
        self.sent.append(message)
        return SendResult(provider_message_id=f"test-{next(self._ids)}", metadata={"test_channel": {"attempt": self.attempts}})


def sent_dict(message: OutboundMessage) -> dict[str, Any]:
    return dataclasses.asdict(message)


class InboundResource:
    def __init__(self, app: JackApp):
        self.app = app

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        data = await req.get_media()
        if not isinstance(data, dict):
            raise falcon.HTTPBadRequest(title="invalid_body", description="expected a JSON object")
        unknown = set(data) - INBOUND_FIELDS
        if unknown:
            raise falcon.HTTPBadRequest(title="invalid_body", description=f"unknown fields: {', '.join(sorted(unknown))}")
        try:
            received = await self.app.services.inbox.receive(InboundMessage(channel="test", **data))
        except (ValueError, TypeError) as exc:
            raise falcon.HTTPBadRequest(title="invalid_message", description=str(exc)) from None
        resp.media = dataclasses.asdict(received)


class SentResource:
    def __init__(self, channel: TestChannel):
        self.channel = channel

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"sent": [sent_dict(m) for m in self.channel.sent], "attempts": self.channel.attempts}


class FailuresResource:
    def __init__(self, channel: TestChannel):
        self.channel = channel

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        data = await req.get_media()
        retry_after = data.get("retry_after")
        self.channel.fail_next(int(data.get("transient", 0)), retry_after=retry_after)
        self.channel.fail_next(int(data.get("permanent", 0)), permanent=True)
        if "delay" in data:
            self.channel.delay = float(data["delay"])
        resp.media = {"queued_failures": len(self.channel._failures)}


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: JackApp) -> None:
    channel = TestChannel()
    app.state["test_channel"] = channel
    register(channel)


@hookimpl
def jack_add_routes(app: JackApp) -> None:
    channel = app.state["test_channel"]
    app.add_route("/test-channel/inbound", InboundResource(app))
    app.add_route("/test-channel/sent", SentResource(channel))
    app.add_route("/test-channel/failures", FailuresResource(channel))
