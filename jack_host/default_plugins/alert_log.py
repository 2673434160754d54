"""The built-in alert route: write alerts to the log (always available, never paged)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.interfaces import Alert, AlertRoute, ComponentHealth

if TYPE_CHECKING:
    from jack_host.app import JackApp

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
def jack_register_alert_routes(register: Callable[[AlertRoute], None], app: JackApp) -> None:
    register(LogAlertRoute())
