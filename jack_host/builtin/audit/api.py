"""``GET /api/v1/audit``: the audit log, newest first (managers and admins).

Query: ``limit`` (1-200, default 50), ``offset`` (default 0), ``target`` (a prefix, e.g. ``user:``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon
import falcon.asgi

if TYPE_CHECKING:
    from jack_host.contract.app import App

MAX_LIMIT = 200
MAX_OFFSET = 2**63 - 1


def whole_number(req: falcon.asgi.Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within ``low..high``, or a 400 naming it."""
    raw = req.get_param(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise falcon.HTTPBadRequest(title="invalid_query", description=f"{name}={raw!r}: expected a whole number from {low} to {high}")
    return int(raw)


class AuditResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.app.services.staff_auth.authorize(req, "manager")
        limit = whole_number(req, "limit", 50, 1, MAX_LIMIT)
        offset = whole_number(req, "offset", 0, 0, MAX_OFFSET)
        target = (req.get_param("target") or "")[:200] or None
        page = await asyncio.to_thread(self.app.services.audit.entries, limit, offset, target)
        resp.media = {"items": page.items, "total": page.total, "limit": limit, "offset": offset}
