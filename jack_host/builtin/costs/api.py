"""``GET /api/v1/costs``: the cost report as JSON."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon
import falcon.asgi

from jack_host.builtin.costs.reports import build_report

if TYPE_CHECKING:
    from jack_host.contract.app import App

MAX_DAYS = 366


class CostsResource:
    """Spend is management information: managers and admins only."""

    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.app.services.staff_auth.authorize(req, "manager")
        raw = req.get_param("days") or "30"
        try:
            days = int(raw)
        except ValueError:
            raise falcon.HTTPBadRequest(title="invalid_days", description=f"days={raw!r}: expected a whole number from 1 to {MAX_DAYS}") from None
        if not 1 <= days <= MAX_DAYS:
            raise falcon.HTTPBadRequest(title="invalid_days", description=f"days={days}: expected a whole number from 1 to {MAX_DAYS}")
        resp.media = await asyncio.to_thread(build_report, self.app, days)
