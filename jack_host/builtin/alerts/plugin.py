"""Alerts: every alert is recorded and handed to the alert routes (``app.services.alerts``).

Also the built-in alert route, which writes alerts to the log (always available, never paged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.builtin.alerts.service import AlertService
from jack_host.contract.interfaces import Alert, AlertRoute, ComponentHealth
from jack_host.contract.services import Alerts

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.alerts.log")
LEVEL = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}


class LogAlertRoute(AlertRoute):
    name = "log"

    async def health(self) -> ComponentHealth:
        return ComponentHealth.connected("alerts are written to the log")

    async def send(self, alert: Alert) -> None:
        log.log(
            LEVEL.get(alert.severity, logging.WARNING),
            "ALERT %s [%s] %s",
            alert.name,
            alert.severity,
            alert.summary,
            extra={"alert": alert.name, "severity": alert.severity, "details": alert.details},
        )


@hookimpl
def jack_register_alert_routes(register: Callable[[AlertRoute], None], app: App) -> None:
    register(LogAlertRoute())


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    provide(Alerts, AlertService(app))


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")
