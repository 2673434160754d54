"""``GET /api/v1/costs``: the cost report as JSON."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon
import falcon.asgi

from jack_host.costs.reports import build_report

if TYPE_CHECKING:
    from jack_host.app import JackApp

MAX_DAYS = 366


class CostsResource:
    # TODO(lead): protect this route like the staff API once issue3-staff lands (staff sign-in
    # required, admin/manager role); today it is open to anyone who can reach the server.
    def __init__(self, app: JackApp):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raw = req.get_param("days") or "30"
        try:
            days = int(raw)
        except ValueError:
            raise falcon.HTTPBadRequest(title="invalid_days", description=f"days={raw!r}: expected a whole number from 1 to {MAX_DAYS}") from None
        if not 1 <= days <= MAX_DAYS:
            raise falcon.HTTPBadRequest(title="invalid_days", description=f"days={days}: expected a whole number from 1 to {MAX_DAYS}")
        resp.media = await asyncio.to_thread(build_report, self.app, days)
