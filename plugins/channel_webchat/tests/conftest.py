"""Fixtures for the web chat tests: a running Jack with the pipeline and the plugin, and a real chat client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import jack_channel_webchat.plugin
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from jack_host.testing import make_app, running_app

TIMEOUT = 10.0


class ChatClient:
    """One browser tab: connect, say hello, then send messages and wait for frames."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.session: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, base_url: str, *, origin: str | None = None, token: str | None = None,
                   language: str = "en", hello: bool = True, client_ip: str | None = None) -> ChatClient:
        """``client_ip``: the guest's address as the (trusted, loopback) proxy reports it in ``X-Forwarded-For``."""
        ws_url = base_url.replace("http://", "ws://") + "/ws"
        headers = {"X-Forwarded-For": client_ip} if client_ip else None
        ws = await connect(ws_url, origin=origin or base_url, open_timeout=TIMEOUT, ping_interval=None,
                           additional_headers=headers)
        client = cls(ws)
        if hello:
            await client.send({"type": "hello", "protocol": 1, "token": token, "language": language})
            client.session = await client.expect("session")
            client.history = (await client.expect("history"))["messages"]
        return client

    @property
    def token(self) -> str:
        assert self.session is not None
        return self.session["token"]

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def say(self, body: str, client_id: str | None = None) -> str:
        client_id = client_id or "c-" + uuid.uuid4().hex[:12]
        await self.send({"type": "message", "client_id": client_id, "body": body})
        return client_id

    async def next_frame(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def expect(self, type_: str, timeout: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """Read frames until one of ``type_`` whose fields equal ``match`` arrives (pings are skipped)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {type_} frame matching {match} within {timeout}s; got {self.frames[-5:]}")
            try:
                frame = await self.next_frame(remaining)
            except TimeoutError:
                continue
            if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def closed_with(self, timeout: float = TIMEOUT) -> int | None:
        """Wait for the server to close; return the close code."""
        try:
            while True:
                await self.next_frame(timeout)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None

    async def close(self) -> None:
        await self.ws.close()


@pytest.fixture
def serve(tmp_path):
    """``serve(env)`` builds an app with the pipeline and the web chat plugin and runs it; returns (app, base URL)."""
    stack = contextlib.ExitStack()

    def start(env: dict[str, str] | None = None, plugins: list[tuple[str, object]] | None = None):
        app = make_app(tmp_path, plugins=[("channel_webchat", jack_channel_webchat.plugin), *(plugins or [])], env=env)
        base_url = stack.enter_context(running_app(app))
        return app, base_url

    with stack:
        yield start


@pytest.fixture
async def open_chat():
    """``await open_chat(base_url, ...)`` opens a :class:`ChatClient`; every client is closed afterwards."""
    clients: list[ChatClient] = []

    async def opener(base_url: str, **kwargs: Any) -> ChatClient:
        client = await ChatClient.open(base_url, **kwargs)
        clients.append(client)
        return client

    yield opener
    for client in clients:
        await client.close()
