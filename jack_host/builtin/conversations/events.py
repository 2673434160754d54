"""In-process event bus: the pipeline publishes, the staff WebSocket (and tests) subscribe.

Events are notifications, not the record: everything they describe is already
committed to the database, so a subscriber that falls behind loses events, never data.

Types: ``message.created``, ``message.status``, ``conversation.updated``,
``conversation.escalated``, ``task.created``, ``task.updated``, ``task.sla_breached``, ``typing``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("jack.events")

#: A subscriber this far behind is dropping events (a stuck browser tab must not grow memory).
QUEUE_SIZE = 1000


class EventBus:
    """``app.services.events``: ``publish(type, payload)`` and ``async with subscribe() as queue``."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def publish(self, type: str, payload: dict[str, Any]) -> None:
        """Hand ``{"type": type, "payload": payload}`` to every subscriber; never blocks."""
        event = {"type": type, "payload": payload}
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("event subscriber is %d events behind; dropped %s", QUEUE_SIZE, type)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """Receive every event published while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
