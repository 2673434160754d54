"""Alerts from what the host already watches: the health monitor's channels and AI providers, and the database.

Run on every pass of the escalation loop.  A channel in ``error`` raises a *channel outage*, an
AI provider in ``error`` an *AI provider down* (a warning: the next provider in
``AI_PROVIDER_ORDER`` answers meanwhile), an unreachable database a *database error*; each is
resolved when its component is healthy again.  The health monitor checks every
``HEALTH_CHECK_INTERVAL`` seconds, so a state is only acted on once the monitor has seen it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from jack_host.contract.interfaces import Alert
from jack_host.db.engine import ping

if TYPE_CHECKING:
    from jack_host.contract.app import App
    from jack_host.contract.services import Alerts

STATE_KEY = "alerts.detector_states"
log = logging.getLogger("jack.alerts")


def health_alerts(app: App) -> list[Alert]:
    """The alerts (raised or resolved) that changed since the last call (on the first call: every state seen)."""
    previous: dict[str, bool] = app.state.setdefault(STATE_KEY, {})
    current: dict[str, tuple[bool, Alert]] = {}
    monitor = app.health_monitor
    if monitor.started:
        for name, channel in app.channels.items():
            health = monitor.get(channel)
            if health.state in ("error", "connected"):
                failing = health.state == "error"
                current[f"channel.{name}.outage"] = (failing, Alert(
                    f"channel.{name}.outage", "critical",
                    f"Channel {name} is down: {health.detail}" if failing else f"Channel {name} is back",
                    {"channel": name, "detail": health.detail, "alert_type": "channel_outage"},
                    f"channel.{name}.outage", resolved=not failing))
        for name, provider in app.llm_providers.items():
            health = monitor.get(provider)
            if health.state in ("error", "connected"):
                failing = health.state == "error"
                current[f"ai.{name}.down"] = (failing, Alert(
                    f"ai.{name}.down", "warning",
                    (f"AI provider {name} is down: {health.detail} (the next provider in AI_PROVIDER_ORDER answers meanwhile)"
                     if failing else f"AI provider {name} is back"),
                    {"provider": name, "detail": health.detail, "alert_type": "ai_provider_down", "auto_fallback": True},
                    f"ai.{name}.down", resolved=not failing))
    database_ok = ping(app.engine)
    current["database.error"] = (not database_ok, Alert(
        "database.error", "critical", "The database does not answer" if not database_ok else "The database answers again",
        {"alert_type": "database_error"}, "database.error", resolved=database_ok))
    changed = []
    for key, (failing, alert) in current.items():
        # First sight of a healthy component resolves what a previous process left open (a no-op otherwise).
        if key not in previous or previous[key] != failing:
            changed.append(alert)
            previous[key] = failing
    return changed


async def raise_health_alerts(app: App, alerts: Alerts) -> None:
    for alert in health_alerts(app):
        try:
            await alerts.raise_alert(alert)
        except Exception as exc:  # a database that is down cannot hold the alert: the log must still say it
            log.critical("ALERT %s [%s] %s (not stored: %s)", alert.name, alert.severity, alert.summary, exc)
            app.state[STATE_KEY].pop(alert.name, None)  # try again on the next pass
