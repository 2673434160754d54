"""Staff API: ``GET /api/v1/alerts``, ``POST /api/v1/alerts/{id}/ack`` and ``.../resolve``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import falcon
import falcon.asgi

from jack_host.builtin.alerts.models import INCIDENT_STATUSES
from jack_host.contract.services import AlertNotFound

if TYPE_CHECKING:
    from jack_host.contract.app import App

STATUSES = ("active", "all", *INCIDENT_STATUSES)


class AlertsResource:
    """Every member of staff may see the alerts (the dashboard's System page)."""

    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.app.services.staff_auth.authorize(req, "staff")
        status = req.get_param("status") or "active"
        if status not in STATUSES:
            raise falcon.HTTPBadRequest(title="invalid_status", description=f"status={status!r}: expected one of {', '.join(STATUSES)}")
        raw = req.get_param("limit") or "50"
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise falcon.HTTPBadRequest(title="invalid_limit", description=f"limit={raw!r}: expected a whole number from 1 to 1000")
        items = self.app.services.alerts.list(None if status == "all" else status, int(raw))
        resp.media = {"items": items, "total": len(items)}


class AlertActionResource:
    """``ack`` or ``resolve`` one alert; managers and on-call staff alike (``staff`` and above)."""

    def __init__(self, app: App, action: str):
        self.app = app
        self.action = action

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, alert_id: int) -> None:
        user = await self.app.services.staff_auth.authorize(req, "staff")
        by = str(user.email)
        alerts = self.app.services.alerts
        try:
            if self.action == "ack":
                resp.media = await alerts.acknowledge(alert_id, by)
            else:
                resp.media = await alerts.resolve(alert_id, by)
        except AlertNotFound as exc:
            raise falcon.HTTPNotFound(title="alert_not_found", description=str(exc)) from None
        except ValueError as exc:
            raise falcon.HTTPConflict(title="alert_not_active", description=str(exc)) from None
