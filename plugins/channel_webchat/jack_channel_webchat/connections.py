"""Open chat sockets, grouped by session, and delivery of frames to all of a session's tabs."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import falcon.errors

log = logging.getLogger("jack.webchat")


class Connection:
    """One open tab.  Frames pushed before its history went out wait, so order is kept."""

    __slots__ = ("ws", "address", "ready", "_pending", "_lock")

    def __init__(self, ws: Any, address: str):
        self.ws = ws
        self.address = address
        self.ready = False
        self._pending: list[str] | None = []
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> bool:
        """Send now, or queue until :meth:`open` when the history is not out yet; False if the tab is gone."""
        text = json.dumps(frame, ensure_ascii=False)
        if not self.ready:
            assert self._pending is not None
            self._pending.append(text)
            return True
        return await self._send_text(text)

    async def send_direct(self, frame: dict[str, Any]) -> bool:
        """Send even before :meth:`open` (the handshake's own frames)."""
        return await self._send_text(json.dumps(frame, ensure_ascii=False))

    async def open(self) -> None:
        """The history is out: flush what waited and send directly from now on."""
        pending, self._pending = self._pending or [], None
        self.ready = True
        for text in pending:
            await self._send_text(text)

    async def _send_text(self, text: str) -> bool:
        async with self._lock:
            try:
                await self.ws.send_text(text)
                return True
            except (falcon.errors.WebSocketDisconnected, RuntimeError, OSError):
                return False


class ConnectionRegistry:
    """``address -> open connections``; per process (one Jack process serves the chat)."""

    def __init__(self) -> None:
        self._by_address: dict[str, set[Connection]] = {}

    def count(self, address: str) -> int:
        return len(self._by_address.get(address, ()))

    def add(self, connection: Connection) -> None:
        self._by_address.setdefault(connection.address, set()).add(connection)

    def remove(self, connection: Connection) -> None:
        group = self._by_address.get(connection.address)
        if group is not None:
            group.discard(connection)
            if not group:
                del self._by_address[connection.address]

    def addresses(self) -> list[str]:
        return list(self._by_address)

    def all(self) -> list[Connection]:
        return [c for group in self._by_address.values() for c in group]

    @property
    def total(self) -> int:
        return sum(len(group) for group in self._by_address.values())

    async def push(self, address: str, frame: dict[str, Any], *, exclude: Connection | None = None) -> int:
        """Send ``frame`` to every tab of ``address``; return how many took it."""
        targets = [c for c in self._by_address.get(address, ()) if c is not exclude]
        if not targets:
            return 0
        results = await asyncio.gather(*(c.send(frame) for c in targets))
        return sum(1 for ok in results if ok)
