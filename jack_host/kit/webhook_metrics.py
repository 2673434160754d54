"""Counts of rejected or failed webhooks and sends, per channel and reason, for monitoring.

The counts live in the app's own Prometheus registry (``app.metrics``, served at ``/metrics``),
never in the process-global default registry, so several apps in one process keep separate counts.
Operations alert on webhook failures (deployment guide: > 5/min warning, > 20/min critical).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING

from prometheus_client import Counter

from jack_host.contract.interfaces import Alert
from jack_host.contract.services import Alerts

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp

COUNTER_KEY = "webhook_failures_counter"
FORGED_KEY = "webhook_forged_times"
#: Refusals that mean someone who does not hold the provider's secret is calling the webhook.
FORGED_REASONS = ("bad_signature", "missing_signature", "bad_verify_token")


def _counter(app: JackApp) -> Counter:
    counter = app.state.get(COUNTER_KEY)
    if counter is None:
        counter = Counter(
            "jack_webhook_failures",
            "Webhook requests refused or failed, and failed sends, by channel and reason",
            ["channel", "reason"],
            registry=app.metrics,
        )
        app.state[COUNTER_KEY] = counter
    return counter


def count_webhook_failure(app: JackApp, channel: str, reason: str) -> None:
    """Add one failure; ``reason`` is a short stable word such as ``bad_signature`` or ``parse_error``."""
    _counter(app).labels(channel=channel, reason=reason).inc()
    if reason in FORGED_REASONS:
        _note_forged(app, channel)


def _note_forged(app: JackApp, channel: str) -> None:
    """Raise a security alert once more forged webhooks than ``SECURITY_FORGED_WEBHOOKS_PER_MINUTE`` came in a minute."""
    now = time.monotonic()
    recent: deque[float] = app.state.setdefault(FORGED_KEY, deque())
    recent.append(now)
    while recent and recent[0] < now - 60:
        recent.popleft()
    limit = int(app.settings.get("SECURITY_FORGED_WEBHOOKS_PER_MINUTE") or 10)
    alerts = app.services.find(Alerts)
    if len(recent) <= limit or alerts is None:
        return
    alert = Alert("security.forged_webhooks", "critical", f"{len(recent)} webhooks with a bad or missing signature in a minute (last on {channel})",
                  {"channel": channel, "per_minute": len(recent), "alert_type": "security_alert"}, "security.forged_webhooks")
    try:
        task = asyncio.get_running_loop().create_task(alerts.raise_alert(alert))
    except RuntimeError:  # counted outside an event loop (a CLI command): nobody to page from here
        return
    pending: set = app.state.setdefault(FORGED_KEY + ".tasks", set())
    pending.add(task)  # keep a reference until it is done
    task.add_done_callback(pending.discard)


def webhook_failure_counts(app: JackApp, channel: str | None = None) -> dict[str, dict[str, int]]:
    """``{channel: {reason: count}}`` so far (only ``channel`` when given)."""
    counts: dict[str, dict[str, int]] = {}
    for metric in _counter(app).collect():
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            name, reason = sample.labels["channel"], sample.labels["reason"]
            if channel is None or name == channel:
                counts.setdefault(name, {})[reason] = int(sample.value)
    return counts
