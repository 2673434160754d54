"""Gauges that need a file, the database or another feature's service: refreshed in the background, served cheaply.

Every ``METRICS_REFRESH_SECONDS`` a thread reads the database size, the data volume, the
memory and CPU limits, the message and escalation queues (``Conversations``) and the spend
against budget (``Costs``); every ``HEALTH_CHECK_INTERVAL`` seconds it reads the ``/health``
result and counts consecutive failures.  A scrape of ``/metrics`` only copies the last values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from jack_host.contract.services import Conversations, Costs
from jack_host.db.engine import is_sqlite, sqlite_path

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.monitoring")


@dataclass
class GaugeValues:
    """The last values read; ``None`` means unknown (the gauge is left out of the scrape)."""

    database_size_bytes: float | None = None
    volume_used_bytes: float | None = None
    volume_size_bytes: float | None = None
    memory_limit_bytes: float | None = None
    cpu_limit_cores: float | None = None
    queue: dict[str, float] = field(default_factory=dict)  # direction -> waiting
    escalation_queue: float | None = None
    spend: list[tuple[str, str, float, float | None]] = field(default_factory=list)  # (kind, period, spend, budget)
    health_consecutive_failures: int = 0
    health_failures_total: int = 0
    health_checks_total: int = 0


# --------------------------------------------------------------------------- readings


def database_size(app: App) -> float | None:
    if is_sqlite(app.settings):
        path = sqlite_path(app.settings)
        sizes = [p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        return float(sum(sizes)) if sizes else None
    with app.engine.connect() as connection:
        return float(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def data_volume(app: App) -> Path:
    """The folder whose file system holds Jack's data: the SQLite database's, else the working folder."""
    if is_sqlite(app.settings):
        folder = sqlite_path(app.settings).resolve().parent
        if folder.exists():
            return folder
    return Path.cwd()


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def memory_limit() -> float | None:
    """The container's memory limit (cgroup v2 or v1), else the machine's memory."""
    limit = _read("/sys/fs/cgroup/memory.max") or _read("/sys/fs/cgroup/memory/memory.limit_in_bytes")
    if limit and limit.isdigit() and int(limit) < 1 << 60:  # v1 writes a huge number for "no limit"
        return float(limit)
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return float(line.split()[1]) * 1024
    return None


def cpu_limit() -> float:
    """The container's CPU quota in cores (cgroup v2 ``cpu.max``), else the CPUs this process may use."""
    quota = (_read("/sys/fs/cgroup/cpu.max") or "").split()
    if len(quota) == 2 and quota[0].isdigit() and quota[1].isdigit() and int(quota[1]) > 0:
        return int(quota[0]) / int(quota[1])
    try:
        return float(len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return float(os.cpu_count() or 1)


def read_values(app: App, values: GaugeValues) -> None:
    """Refresh everything but the health check (blocking: run it in a thread)."""
    for name, read in (("database size", lambda: setattr(values, "database_size_bytes", database_size(app))),
                       ("data volume", lambda: _volume(app, values)),
                       ("memory limit", lambda: setattr(values, "memory_limit_bytes", memory_limit())),
                       ("CPU limit", lambda: setattr(values, "cpu_limit_cores", cpu_limit())),
                       ("queues", lambda: _queues(app, values)),
                       ("spend", lambda: _spend(app, values))):
        try:
            read()
        except Exception as exc:  # one reading failing leaves its last value and the others
            log.warning("monitoring: could not read the %s: %s", name, exc)


def _volume(app: App, values: GaugeValues) -> None:
    usage = shutil.disk_usage(data_volume(app))
    values.volume_used_bytes, values.volume_size_bytes = float(usage.used), float(usage.total)


def _queues(app: App, values: GaugeValues) -> None:
    conversations = app.services.find(Conversations)
    if conversations is None:
        return
    queue = conversations.health_summary().get("queue", {})
    values.queue = {"inbound": float(queue.get("replies_pending", 0)), "outbound": float(queue.get("outbox_pending", 0))}
    values.escalation_queue = float(conversations.count_state("escalated"))


def _spend(app: App, values: GaugeValues) -> None:
    costs = app.services.find(Costs)
    if costs is None:
        return
    status = costs.status()
    ai, sms = status.get("ai", {}), status.get("sms", {})
    values.spend = [
        ("ai", "day", float(ai.get("spend_today_usd") or 0), ai.get("daily_budget_usd")),
        ("ai", "month", float(ai.get("spend_month_usd") or 0), ai.get("monthly_budget_usd")),
        ("sms", "month", float(sms.get("spend_month_usd") or 0), sms.get("monthly_budget_usd")),
    ]


def health_check_failed(app: App) -> bool:
    """The ``/health`` check as a container's health check sees it: failed when it answers 503.

    Reads the document ``/health`` serves (the health monitor builds it in the background).
    """
    _, unhealthy = app.health_monitor.served_document()  # type: ignore[attr-defined]  # JackApp's monitor
    return unhealthy


# --------------------------------------------------------------------------- the collector and its refresh


class MonitoringCollector(Collector):
    """Yields the last values read; never blocks a scrape."""

    def __init__(self, values: GaugeValues):
        self.values = values

    def collect(self) -> Iterator[Metric]:
        v = self.values

        def single(name: str, help: str, value: float | None) -> Iterator[Metric]:
            if value is not None:
                gauge = GaugeMetricFamily(name, help)
                gauge.add_metric([], value)
                yield gauge

        yield from single("jack_database_size_bytes", "Size of the database (SQLite: the file and its WAL)", v.database_size_bytes)
        yield from single("jack_data_volume_used_bytes", "Bytes used on the file system of the data folder", v.volume_used_bytes)
        yield from single("jack_data_volume_size_bytes", "Size of the file system of the data folder", v.volume_size_bytes)
        yield from single("jack_memory_limit_bytes", "Memory available to Jack (container limit, else the machine's)", v.memory_limit_bytes)
        yield from single("jack_cpu_limit_cores", "CPU cores available to Jack (container quota, else the CPUs)", v.cpu_limit_cores)
        if v.queue:
            queue = GaugeMetricFamily("jack_message_queue_depth", "Messages waiting: inbound for a reply, outbound to be sent",
                                      labels=["direction"])
            for direction, waiting in sorted(v.queue.items()):
                queue.add_metric([direction], waiting)
            yield queue
        yield from single("jack_escalation_queue_depth", "Conversations handed to staff that nobody has taken yet", v.escalation_queue)
        if v.spend:
            spend = GaugeMetricFamily("jack_spend_usd", "Spend so far in the current period", labels=["kind", "period"])
            budget = GaugeMetricFamily("jack_budget_usd", "Budget of the period (costs.yaml)", labels=["kind", "period"])
            for kind, period, spent, limit in v.spend:
                spend.add_metric([kind, period], spent)
                if limit is not None:
                    budget.add_metric([kind, period], float(limit))
            yield spend
            yield budget
        yield from single("jack_health_check_consecutive_failures", "Health checks failed in a row (0: the last one passed)",
                          v.health_consecutive_failures)
        failures = CounterMetricFamily("jack_health_check_failures", "Health checks that failed (/health answered 503)")
        failures.add_metric([], v.health_failures_total)
        yield failures
        checks = CounterMetricFamily("jack_health_checks", "Health checks run")
        checks.add_metric([], v.health_checks_total)
        yield checks


class GaugeRefresher:
    """The background refresh of :class:`GaugeValues` while Jack serves."""

    def __init__(self, app: App, values: GaugeValues):
        self.app = app
        self.values = values
        self.interval = float(app.settings.get("METRICS_REFRESH_SECONDS") or 10)
        self.health_interval = float(app.settings.get("HEALTH_CHECK_INTERVAL") or 60)
        self._tasks: list[asyncio.Task] = []

    async def refresh(self) -> None:
        await asyncio.to_thread(read_values, self.app, self.values)

    async def check_health(self) -> None:
        try:
            failed = await asyncio.to_thread(health_check_failed, self.app)
        except Exception as exc:  # a check that cannot run is a failed check
            log.warning("monitoring: the health check failed to run: %s", exc)
            failed = True
        v = self.values
        v.health_checks_total += 1
        if failed:
            v.health_failures_total += 1
            v.health_consecutive_failures += 1
        else:
            v.health_consecutive_failures = 0

    async def start(self) -> None:
        """Start refreshing (the first reading at once, without holding up the start)."""
        self._tasks = [
            asyncio.create_task(self._every(self.interval, self.refresh, first_at_once=True), name="jack-metrics-refresh"),
            asyncio.create_task(self._every(self.health_interval, self.check_health), name="jack-health-failures"),
        ]

    async def _every(self, interval: float, work: Any, first_at_once: bool = False) -> None:
        while True:
            if not first_at_once:
                await asyncio.sleep(interval)
            first_at_once = False
            started = time.monotonic()
            try:
                await work()
            except Exception:
                log.exception("monitoring refresh failed")
            if time.monotonic() - started > interval:
                log.warning("monitoring: a refresh took longer than its interval of %gs", interval)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
