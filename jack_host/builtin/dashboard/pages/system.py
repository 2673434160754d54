"""``/system`` (managers and admins): ``/health``, the plugins and their versions, the last backup and
drill with "back up now", the open alerts with "acknowledge", the audit log and Jack's version."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import falcon

from jack_host.builtin.dashboard.guard import field, form_data, page_guard
from jack_host.builtin.dashboard.registry import MenuEntry, Page
from jack_host.builtin.dashboard.rendering import error_page, flash, render, see_other
from jack_host.contract.plugins import plugin_infos
from jack_host.contract.services import AlertNotFound, Alerts, Audit, Backups

if TYPE_CHECKING:
    from jack_host.web.app import JackApp

log = logging.getLogger("jack.dashboard.system")
AUDIT_SHOWN = 50


def system_view(app: JackApp) -> dict[str, Any]:
    health, _ = app.health_monitor.served_document()
    backups = app.services.find(Backups)
    alerts = app.services.find(Alerts)
    audit = app.services.find(Audit)
    return {
        "health": health,
        "plugins": plugin_infos(app.pm, include_builtin=True),
        "backups": backups.status() if backups is not None else None,
        "alerts": alerts.list("active", limit=50) if alerts is not None else None,
        "audit": audit.entries(AUDIT_SHOWN).items if audit is not None else None,
    }


@falcon.before(page_guard("manager"))
class SystemPage:
    def __init__(self, app: JackApp):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        view = await asyncio.to_thread(system_view, self.app)
        render(self.app, req, resp, "system.html", **view)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_data(req)
        action = field(form, "action")
        who = req.context.staff.email
        if action == "backup":
            backups = self.app.services.find(Backups)
            if backups is None:
                raise error_page(self.app, req, falcon.HTTP_409, "Backups are off", "The backups feature is disabled.")
            try:
                run = await asyncio.to_thread(backups.create, reason="dashboard")
            except Exception as exc:  # BackupError and the destinations' errors: show them as they are
                log.warning("backup from the dashboard failed: %s", exc)
                flash(req, resp, f"The backup failed: {exc}", "error")
            else:
                stored = ", ".join(o.destination for o in run.stored) or "no destination"
                failed = "; ".join(f"{o.destination}: {o.detail}" for o in run.failed)
                flash(req, resp, f"Backup {run.key} stored at {stored}." + (f" Failed: {failed}" if failed else ""),
                      "ok" if run.ok and not failed else "error")
        elif action == "acknowledge":
            alerts = self.app.services.find(Alerts)
            raw = field(form, "alert_id")
            if alerts is None or not raw.isdigit():
                raise error_page(self.app, req, falcon.HTTP_400, "Which alert?", "The form sent no alert number.")
            try:
                alert = await alerts.acknowledge(int(raw), by=who)
            except AlertNotFound:
                flash(req, resp, f"There is no alert {raw}.", "error")
            except ValueError as exc:
                flash(req, resp, str(exc), "error")
            else:
                flash(req, resp, f"Alert “{alert['summary']}” acknowledged: its escalation stops.")
        else:
            raise error_page(self.app, req, falcon.HTTP_400, "Unknown action", f"“{action}” is not something this page does.")
        raise see_other("/system")


PAGES = [Page("/system", SystemPage, MenuEntry("/system", "System", "manager", 80))]
