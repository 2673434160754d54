"""Raising alerts: record every alert, then hand it to the alert routes in order."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlmodel import Session

from jack_host.builtin.alerts.models import AlertRecord
from jack_host.contract.interfaces import Alert
from jack_host.contract.services import Alerts

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.alerts")


class AlertService(Alerts):
    """``await app.services.alerts.raise_alert(Alert(...))`` from anywhere in the host or a plugin.

    Every alert is stored in the ``alerts`` table whatever happens to delivery, so
    nothing is lost while no route is configured.  Routes that are not configured
    are skipped; a failing route does not stop the next one.
    """

    def __init__(self, app: App):
        self.app = app

    async def raise_alert(self, alert: Alert) -> AlertRecord:
        delivered: list[str] = []
        failures: list[str] = []
        for name, route in self.app.alert_routes.items():
            try:
                health = await route.health()
                if health.state == "not_configured":
                    continue
                await route.send(alert)
                delivered.append(name)
            except Exception as exc:  # a route failing must never hide the alert
                failures.append(f"{name}: {exc}")
                log.warning("alert route %s failed for %s: %s", name, alert.name, exc)
        record = AlertRecord(
            name=alert.name,
            severity=alert.severity,
            summary=alert.summary,
            details=alert.details,
            dedup_key=alert.dedup_key,
            delivered_to=",".join(delivered),
            delivery_error="; ".join(failures),
            resolved=alert.resolved,
        )
        with Session(self.app.engine) as session:
            session.add(record)
            session.commit()
            session.refresh(record)
        return record
