"""Monitoring: the gauges behind ``/metrics``, the twelve thresholds evaluated in-process, ``jack alerts export-rules``.

The thresholds raise and resolve their alerts through the Alerts service only; the alert
routes, escalation and on-call are the alerts feature's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

from jack_host import hookimpl
from jack_host.builtin.monitoring.cli import alerts_group, export_rules
from jack_host.builtin.monitoring.evaluator import ThresholdLoop
from jack_host.builtin.monitoring.gauges import GaugeRefresher, GaugeValues, MonitoringCollector
from jack_host.builtin.monitoring.thresholds import level_problems, threshold_settings
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import DoctorCheck

if TYPE_CHECKING:
    from jack_host.contract.app import App

STATE = "jack.monitoring"
log = logging.getLogger("jack.monitoring")


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("METRICS_TOKEN", str, "", "when set, GET /metrics needs the header Authorization: Bearer <token>", secret=True),
        Setting("METRICS_REFRESH_SECONDS", float, 10.0,
                "seconds between two readings of the database size, disk, queues and spend served at /metrics", minimum=0.01),
        *threshold_settings(),
    ]


@hookimpl
def jack_add_routes(app: App) -> None:
    values = GaugeValues()
    app.state[STATE] = {"values": values}
    app.metrics.register(MonitoringCollector(values))


@hookimpl
def jack_startup(app: App) -> Any:
    async def start() -> None:
        for problem in level_problems(app.settings):
            log.error("alert thresholds: %s", problem)
        state = app.state.setdefault(STATE, {"values": GaugeValues()})
        refresher = GaugeRefresher(app, state["values"])
        await refresher.start()
        loop = ThresholdLoop(app)
        loop.start()
        state.update(refresher=refresher, thresholds=loop)

    return start()


@hookimpl
def jack_shutdown(app: App) -> Any:
    async def stop() -> None:
        state = app.state.get(STATE, {})
        for key in ("thresholds", "refresher"):
            task = state.pop(key, None)
            if task is not None:
                await task.stop()

    return stop()


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    alerts_group(cli).add_command(export_rules)


@hookimpl
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
    problems = level_problems(app.settings)
    return [DoctorCheck(
        "alert thresholds",
        not problems,
        "; ".join(problems) if problems else "warning levels at or below critical ones",
        fix="lower the warning level or raise the critical one",
    )]
