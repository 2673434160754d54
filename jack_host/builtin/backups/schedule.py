"""Scheduled backups inside ``jack serve`` and the RPO watch.

Daily at ``BACKUP_SCHEDULE_TIME`` in the hotel's time zone, or every
``BACKUP_INTERVAL_HOURS`` when that is set.  A backup older than
``BACKUP_RPO_HOURS`` raises the ``backup.stale`` alert once, and a resolving
alert when a fresh backup lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

from jack_host.builtin.backups.service import BackupError, BackupService, parse_iso
from jack_host.contract.interfaces import Alert
from jack_host.db.engine import is_sqlite

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.backups.schedule")
MAX_SLEEP = 60.0
RETRY_AFTER_FAILURE = dt.timedelta(hours=1)


def check_schedule_time(value: str) -> str | None:
    """Setting check for ``BACKUP_SCHEDULE_TIME``: ``HH:MM`` or ``off``."""
    if value.strip().lower() == "off" or parse_schedule_time(value) is not None:
        return None
    return "a local time like 03:00, or off"


def parse_schedule_time(value: str) -> dt.time | None:
    try:
        hours, minutes = value.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        return None


def next_daily_run(now: dt.datetime, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The next moment the wall clock in ``tz`` shows ``at``, strictly after ``now``."""
    local = now.astimezone(tz)
    candidate = dt.datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=tz)
    return candidate.astimezone(dt.UTC)


def next_run(
    now: dt.datetime,
    last_success: dt.datetime | None,
    *,
    interval_hours: float,
    schedule_time: str,
    tz: dt.tzinfo,
) -> dt.datetime | None:
    """When the next scheduled backup is due (``None``: scheduling is off).

    A missed run (the server was down at 03:00 and the last backup is more than a
    day old) is due at once rather than waiting for tomorrow.
    """
    if interval_hours > 0:
        if last_success is None:
            return now
        return max(now, last_success + dt.timedelta(hours=interval_hours))
    at = parse_schedule_time(schedule_time)
    if at is None:
        return None
    if last_success is not None and now - last_success > dt.timedelta(days=1, hours=1):
        return now
    return next_daily_run(now, at, tz)


class BackupScheduler:
    """A background task in ``jack serve``: take due backups, watch the RPO."""

    def __init__(self, app: App, service: BackupService):
        self.app = app
        self.service = service
        self.started_at = dt.datetime.now(dt.UTC)
        self.next_at: dt.datetime | None = None
        self.stale_alerted = False
        self._task: asyncio.Task | None = None
        self.runs = 0

    def _settings(self) -> tuple[float, str, dt.tzinfo]:
        s = self.app.settings
        return (
            float(s.get("BACKUP_INTERVAL_HOURS") or 0),
            str(s.get("BACKUP_SCHEDULE_TIME") or "03:00"),
            self.app.hotel_timezone(),
        )

    def last_success(self) -> dt.datetime | None:
        return parse_iso(self.service.status().get("last_success_at"))

    def plan(self, now: dt.datetime) -> dt.datetime | None:
        interval, at, tz = self._settings()
        self.next_at = next_run(now, self.last_success(), interval_hours=interval, schedule_time=at, tz=tz)
        return self.next_at

    async def start(self) -> None:
        if not is_sqlite(self.app.settings):
            log.info("scheduled backups are off: the database is PostgreSQL (use pg_dump)")
            return
        self.plan(dt.datetime.now(dt.UTC))
        self._task = asyncio.create_task(self._loop(), name="jack-backup-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            now = dt.datetime.now(dt.UTC)
            if self.next_at is not None and now >= self.next_at:
                await self.run_once()
            try:
                await self.check_rpo()
            except Exception:  # keep watching whatever happens
                log.exception("RPO check failed")
            now = dt.datetime.now(dt.UTC)
            wait = MAX_SLEEP if self.next_at is None else (self.next_at - now).total_seconds()
            await asyncio.sleep(min(max(wait, 0.05), MAX_SLEEP))

    async def run_once(self) -> None:
        """Take one scheduled backup in a worker thread and raise its alerts."""
        started = time.monotonic()
        try:
            run = await asyncio.to_thread(self.service.create, reason="scheduled")
        except BackupError as exc:
            await self.app.services.alerts.raise_alert(
                Alert(name="backup.failed", severity="critical", summary=f"Scheduled backup failed: {exc}", dedup_key="backup.failed")
            )
            self.next_at = dt.datetime.now(dt.UTC) + RETRY_AFTER_FAILURE
            return
        except Exception as exc:
            log.exception("scheduled backup crashed")
            await self.app.services.alerts.raise_alert(
                Alert(name="backup.failed", severity="critical", summary=f"Scheduled backup crashed: {exc}", dedup_key="backup.failed")
            )
            self.next_at = dt.datetime.now(dt.UTC) + RETRY_AFTER_FAILURE
            return
        self.runs += 1
        log.info("scheduled backup %s: %d bytes in %.1fs", run.key, run.size, time.monotonic() - started)
        for alert in run.alerts:
            await self.app.services.alerts.raise_alert(alert)
        if run.ok:
            self.plan(dt.datetime.now(dt.UTC))
        else:
            self.next_at = dt.datetime.now(dt.UTC) + RETRY_AFTER_FAILURE

    async def check_rpo(self, now: dt.datetime | None = None) -> bool:
        """Raise ``backup.stale`` once when the last good backup is older than the RPO; True if stale."""
        now = now or dt.datetime.now(dt.UTC)
        last = self.last_success()
        reference = last or self.started_at
        age = now - reference
        stale = age > self.service.rpo
        if stale and not self.stale_alerted:
            hours = age.total_seconds() / 3600
            summary = (
                f"The last successful backup is {hours:.1f} hours old (RPO {self.service.rpo.total_seconds() / 3600:g} h)"
                if last
                else f"No successful backup since Jack started {hours:.1f} hours ago (RPO {self.service.rpo.total_seconds() / 3600:g} h)"
            )
            await self.app.services.alerts.raise_alert(
                Alert(
                    name="backup.stale",
                    severity="critical",
                    summary=summary + ": run `jack backup create` and check `jack backup list`",
                    details={"last_success_at": last.isoformat() if last else None, "age_seconds": int(age.total_seconds())},
                    dedup_key="backup.stale",
                )
            )
            self.stale_alerted = True
        elif not stale and self.stale_alerted:
            await self.app.services.alerts.raise_alert(
                Alert(name="backup.stale", severity="info", summary="Backups are recent again", dedup_key="backup.stale", resolved=True)
            )
            self.stale_alerted = False
        return stale
