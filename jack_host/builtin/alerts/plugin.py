"""Alerts: every alert is recorded, walked through the on-call escalation and paged (``app.services.alerts``).

Also the built-in alert routes: the log (every alert, never paged), ``email`` (through the
Mailer service) and the generic Slack-compatible ``webhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jack_host import hookimpl
from jack_host.builtin.alerts import cli as alerts_cli
from jack_host.builtin.alerts.api import AlertActionResource, AlertsResource
from jack_host.builtin.alerts.email_route import EmailAlertRoute
from jack_host.builtin.alerts.service import AlertService, service_of
from jack_host.builtin.alerts.webhook_route import WebhookAlertRoute
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import Alert, AlertRoute, ComponentHealth, DoctorCheck
from jack_host.contract.services import Alerts

if TYPE_CHECKING:
    import click

    from jack_host.contract.app import App

log = logging.getLogger("jack.alerts.log")
LEVEL = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}
LOOP_KEY = "alerts.escalation_loop"


class LogAlertRoute(AlertRoute):
    name = "log"

    async def health(self) -> ComponentHealth:
        return ComponentHealth.connected("alerts are written to the log")

    async def send(self, alert: Alert) -> None:
        log.log(
            LEVEL.get(alert.severity, logging.WARNING),
            "ALERT %s [%s] %s%s",
            alert.name,
            alert.severity,
            "RESOLVED " if alert.resolved else "",
            alert.summary,
            extra={"alert": alert.name, "severity": alert.severity, "details": alert.details},
        )


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("ALERT_CHECK_INTERVAL", float, 15.0, "seconds between two passes of the alert escalation loop", minimum=0.05),
        Setting("ALERT_DELIVERY_ATTEMPTS", int, 5, "attempts to page one contact before the page is marked failed", minimum=1),
        Setting("ALERT_RETRY_SECONDS", float, 5.0, "first wait before a failed page is retried (doubled each attempt, at most 300)", minimum=0),
        Setting("SECURITY_FORGED_WEBHOOKS_PER_MINUTE", int, 10, "webhooks with a bad or missing signature in a minute above which a security alert is raised", minimum=1),
    ]


@hookimpl
def jack_register_alert_routes(register: Callable[[AlertRoute], None], app: App) -> None:
    register(LogAlertRoute())
    register(EmailAlertRoute(app))
    register(WebhookAlertRoute(app))


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    provide(Alerts, AlertService(app))


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app: App) -> None:
    app.add_route("/api/v1/alerts", AlertsResource(app))
    app.add_route("/api/v1/alerts/{alert_id:int}/ack", AlertActionResource(app, "ack"))
    app.add_route("/api/v1/alerts/{alert_id:int}/resolve", AlertActionResource(app, "resolve"))


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    alerts_cli.register(cli)


@hookimpl
def jack_startup(app: App) -> Any:
    async def start() -> None:
        service = service_of(app)
        interval = float(app.settings.get("ALERT_CHECK_INTERVAL") or 15.0)
        app.state[LOOP_KEY] = asyncio.create_task(service.loop(interval), name="jack-alert-escalation")

    return start()


@hookimpl
def jack_shutdown(app: App) -> Any:
    async def stop() -> None:
        task = app.state.pop(LOOP_KEY, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return stop()


@hookimpl
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
    service = service_of(app)
    oncall = service.oncall
    if not oncall.levels:
        return [DoctorCheck("On-call escalation", False, "no escalation levels: alerts are only logged (oncall.yaml)",
                            "add escalation.levels to oncall.yaml (see the deployment guide's On-Call Schedule)", must_fix=False)]
    checks = []
    empty = oncall.empty_contacts()
    checks.append(DoctorCheck(
        "On-call contacts set", not empty,
        f"{len(oncall.levels)} levels: {', '.join(level.name for level in oncall.levels)}" if not empty
        else "never paged, empty: " + "; ".join(empty),
        "set the variables oncall.yaml refers to (PAGERDUTY_SERVICE_KEY, ONCALL_PHONE...)", must_fix=False,
    ))
    routes = service.paging_routes()
    used = sorted({c.type for level in oncall.levels for c in level.contacts if c.target})
    missing = [kind for kind in used if kind not in routes]
    checks.append(DoctorCheck(
        "On-call contacts have a route", not missing,
        "routes: " + ", ".join(f"{kind}={routes[kind].name}" for kind in used if kind in routes) if not missing
        else f"no alert route installed for {', '.join(missing)} contacts",
        "install the plugin that pages them (alert_pagerduty for pagerduty, channel_sms for phone)",
    ))
    return checks
