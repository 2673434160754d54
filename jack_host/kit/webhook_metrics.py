"""Counts of rejected or failed webhooks and sends, per channel and reason, for monitoring.

The counts live in the app's own Prometheus registry (``app.metrics``, served at ``/metrics``),
never in the process-global default registry, so several apps in one process keep separate counts.
Operations alert on webhook failures (deployment guide: > 5/min warning, > 20/min critical).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp

COUNTER_KEY = "webhook_failures_counter"


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
