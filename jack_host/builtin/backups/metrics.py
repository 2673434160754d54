"""Backup metrics, registered on the app's registry and served at ``GET /metrics``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jack_host.builtin.backups.service import BackupService
from jack_host.kit.backup_files import parse_iso

if TYPE_CHECKING:
    from jack_host.contract.app import App


class BackupCollector(Collector):
    """Reads the recorded backup and drill state on each scrape."""

    def __init__(self, app: App):
        self.app = app

    def collect(self) -> Iterator[Metric]:
        status = BackupService.of(self.app).status()
        if "rpo_seconds" not in status:  # PostgreSQL: not ours to measure
            return
        age = GaugeMetricFamily("jack_backup_last_success_age_seconds", "Age of the last successful backup (-1: none yet)")
        age.add_metric([], status["last_success_age_seconds"] if status["last_success_age_seconds"] is not None else -1)
        yield age
        stamp = GaugeMetricFamily("jack_backup_last_success_timestamp_seconds", "Unix time of the last successful backup")
        last = parse_iso(status.get("last_success_at"))
        stamp.add_metric([], last.timestamp() if last else 0)
        yield stamp
        stale = GaugeMetricFamily("jack_backup_stale", "1 when the last successful backup is older than the RPO")
        stale.add_metric([], 1 if status["stale"] else 0)
        yield stale
        rpo = GaugeMetricFamily("jack_backup_rpo_seconds", "The configured recovery point objective")
        rpo.add_metric([], status["rpo_seconds"])
        yield rpo
        drill = GaugeMetricFamily("jack_backup_last_successful_drill_timestamp_seconds", "Unix time of the last successful recovery drill")
        drill_at = parse_iso(status.get("last_successful_drill_at"))
        drill.add_metric([], drill_at.timestamp() if drill_at else 0)
        yield drill
        drill_age = GaugeMetricFamily("jack_backup_last_successful_drill_age_seconds",
                                      "Age of the last successful recovery drill (-1: none yet)")
        drill_age.add_metric([], time.time() - drill_at.timestamp() if drill_at else -1)
        yield drill_age
        last_drill = status.get("last_drill") or {}
        rto = GaugeMetricFamily("jack_backup_drill_rto_seconds", "Measured recovery time of the last drill")
        rto.add_metric([], float(last_drill.get("rto_seconds") or 0))
        yield rto
        up = GaugeMetricFamily(
            "jack_backup_destination_last_ok", "1 when the last backup was stored at this destination", labels=["destination"]
        )
        for name, entry in (status.get("destinations") or {}).items():
            up.add_metric([name], 1 if entry.get("status") == "stored" else 0)
        yield up

