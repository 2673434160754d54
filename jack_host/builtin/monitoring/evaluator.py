"""Evaluating the thresholds in-process and raising, escalating and resolving their alerts.

Every ``THRESHOLD_EVALUATION_INTERVAL`` seconds the evaluator reads the app's registry (the
values ``/metrics`` serves), adds them to its sample history and evaluates each level the way
Prometheus evaluates the exported rules: a level *fires* once its condition has held for
``for`` seconds, and keeps firing until the condition has been false for ``keep_firing_for``
seconds (the hysteresis that keeps a flapping value from paging again and again).

Each threshold is one alert, ``dedup_key="threshold.<name>"`` (the AI latency one per provider,
``threshold.ai_latency_p95.<provider>``): raised once when its warning (or
critical) level fires, raised again as critical when the critical level fires later, and
resolved once when no level fires any more.  A critical alert whose value falls back to the
warning level stays open as it is: going down a level never pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jack_host.builtin.monitoring.promql import SampleHistory, Snapshot, snapshot_of
from jack_host.builtin.monitoring.thresholds import SEVERITIES, WINDOWED_SERIES, Levels, configured_levels
from jack_host.contract.interfaces import Alert
from jack_host.contract.services import Alerts

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.monitoring")
RANK = {None: 0, "warning": 1, "critical": 2}


@dataclass
class LevelState:
    """One level of one threshold, as Prometheus tracks one alerting rule."""

    active_since: float | None = None  # condition true since (pending or firing)
    firing: bool = False
    false_since: float | None = None  # while firing: condition false since (keep_firing_for)

    def update(self, at: float, crossed: bool, for_seconds: float, keep_seconds: float) -> None:
        if crossed:
            self.false_since = None
            if self.active_since is None:
                self.active_since = at
            if not self.firing and at - self.active_since >= for_seconds:
                self.firing = True
            return
        if self.firing and keep_seconds > 0:
            if self.false_since is None:
                self.false_since = at
            if at - self.false_since < keep_seconds:
                return  # still firing: the value has not stayed recovered long enough
        self.active_since, self.firing, self.false_since = None, False, None


@dataclass
class Page:
    """What the evaluator asked the Alerts service to do."""

    threshold: str
    severity: str
    resolved: bool
    value: float | None
    #: What had been paged before (restored when the page could not be sent, so the next evaluation retries).
    previous: str | None = None
    #: The value of the threshold's ``by`` label (``""`` for the thresholds without one).
    key: str = ""


@dataclass
class ThresholdEvaluator:
    """The thresholds' state over time; :meth:`evaluate` is pure bookkeeping, :meth:`alert_for` words the alerts."""

    levels: list[Levels]
    history: SampleHistory = field(default_factory=lambda: SampleHistory(windowed=WINDOWED_SERIES))

    def __post_init__(self) -> None:
        #: ``(threshold, key, severity)`` -> the level's state; ``key`` is the ``by`` label's value.
        self.states: dict[tuple[str, str, str], LevelState] = {}
        #: ``(threshold, key)`` -> the severity paged and not resolved yet.
        self.paged: dict[tuple[str, str], str | None] = {}
        self.values: dict[str, float | None | dict[str, float | None]] = {}

    def _values_of(self, lv: Levels) -> dict[str, float | None]:
        t = lv.threshold
        try:
            result = t.value(self.history)
        except Exception:  # one broken metric must not stop the other thresholds
            log.exception("threshold %s could not be evaluated", t.name)
            result = None
        self.values[t.name] = result
        values = dict(result) if isinstance(result, dict) else {"": result}
        for name, key, _ in self.states:  # a series that went away has no value: its levels recover
            if name == t.name:
                values.setdefault(key, None)
        return values

    def evaluate(self, at: float, snapshot: Snapshot) -> list[Page]:
        """Add one scrape taken at ``at`` (seconds) and return the pages it causes, in threshold order."""
        self.history.add(at, snapshot)
        pages = []
        for lv in self.levels:
            t = lv.threshold
            for key, value in sorted(self._values_of(lv).items()):
                for severity in SEVERITIES:
                    state = self.states.setdefault((t.name, key, severity), LevelState())
                    state.update(at, t.crosses(value, lv.level(severity)), lv.for_seconds, lv.keep_firing_seconds)
                top = next((s for s in reversed(SEVERITIES) if self.states[(t.name, key, s)].firing), None)
                paged = self.paged.get((t.name, key))
                if top is not None and RANK[top] > RANK[paged]:
                    pages.append(Page(t.name, top, False, value, paged, key))
                    self.paged[(t.name, key)] = top
                elif top is None and paged is not None:
                    pages.append(Page(t.name, paged, True, value, paged, key))
                    self.paged[(t.name, key)] = None
        return pages

    def firing(self) -> set[tuple[str, str, str]]:
        """``(threshold, severity, key)`` of every level firing now (what Prometheus would list)."""
        return {(name, severity, key) for (name, key, severity), state in self.states.items() if state.firing}

    def alert_for(self, page: Page) -> Alert:
        lv = next(lv for lv in self.levels if lv.threshold.name == page.threshold)
        t = lv.threshold
        shown = "no data" if page.value is None or math.isnan(page.value) else f"{page.value:.4g} {t.unit}"
        title = f"{t.title} of {t.by} {page.key}" if t.by else t.title
        level = lv.level(page.severity)
        if page.resolved:
            summary = f"{title} is back below its levels ({shown})"
        else:
            above = "at or above" if t.op == ">=" else "above"
            summary = f"{title} is {shown}: {above} the {page.severity} level of {level:g} ({t.action})"
        details: dict[str, Any] = {"threshold": t.name, "alert_type": t.alert_type, "value": page.value, "level": level,
                                   "unit": t.unit, "warning": lv.warning, "critical": lv.critical, "expr": t.expr,
                                   "action": t.action}
        if t.by:
            details[t.by] = page.key
        return Alert(
            name=f"threshold.{t.name}",
            severity=page.severity,  # type: ignore[arg-type]
            summary=summary,
            details=details,
            dedup_key=f"threshold.{t.name}" + (f".{page.key}" if t.by else ""),
            resolved=page.resolved,
        )


class ThresholdLoop:
    """Evaluates the thresholds every ``THRESHOLD_EVALUATION_INTERVAL`` seconds while Jack serves."""

    def __init__(self, app: App, clock: Callable[[], float] = time.time):
        self.app = app
        self.clock = clock
        self.interval = float(app.settings.get("THRESHOLD_EVALUATION_INTERVAL") or 60)
        self.evaluator = ThresholdEvaluator(configured_levels(app.settings))
        self.evaluations = 0
        self._task: asyncio.Task | None = None

    async def run_once(self) -> list[Page]:
        # Collecting runs every collector (some read files or the database): off the event loop.
        snapshot = await asyncio.to_thread(lambda: snapshot_of(self.app.metrics.collect()))
        pages = self.evaluator.evaluate(self.clock(), snapshot)
        self.evaluations += 1
        alerts = self.app.services.find(Alerts)
        for page in pages:
            if alerts is None:
                log.warning("threshold %s: %s (no Alerts service to page with)", page.threshold, page.severity)
                continue
            try:
                await alerts.raise_alert(self.evaluator.alert_for(page))
            except Exception:  # the next evaluation must still happen, and tries this page again
                log.exception("could not raise the alert of threshold %s", page.threshold)
                self.evaluator.paged[(page.threshold, page.key)] = page.previous
        return pages

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="jack-thresholds")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.run_once()
            except Exception:  # keep evaluating whatever happens
                log.exception("threshold evaluation failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

