"""Built-in backups: the local folder destination, ``jack backup``/``jack restore``, the scheduler,
the server lock, ``/health`` and metrics data, doctor items and the pre-migration backup."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jack_host import hookimpl
from jack_host.backup_schedule import BackupScheduler, check_schedule_time
from jack_host.backups import (
    BackupError,
    BackupService,
    ServerLock,
    copy_with_checksum,
    fsync_dir,
    is_backup_key,
    parse_iso,
    read_sidecar,
    sidecar_path,
)
from jack_host.db import is_sqlite, sqlite_path
from jack_host.doctor import DoctorCheck
from jack_host.interfaces import BackupDestination, ComponentHealth, StoredBackup
from jack_host.settings import Setting

if TYPE_CHECKING:
    import click

    from jack_host.app import JackApp

log = logging.getLogger("jack.backups")
STATE = "jack.backups"
DRILL_EVERY_DAYS = 92


class LocalFolderDestination(BackupDestination):
    """Backups in ``BACKUP_DIR``, each with a ``.json`` sidecar holding its checksum and revision."""

    name = "local"

    def __init__(self, app: JackApp):
        self.app = app

    @property
    def folder(self) -> Path:
        return Path(str(self.app.settings.get("BACKUP_DIR") or "data/backups")).expanduser()

    async def health(self) -> ComponentHealth:
        folder = self.folder
        probe = folder if folder.exists() else folder.parent
        if not os.access(probe if probe.exists() else Path("."), os.W_OK):
            return ComponentHealth.error(f"{folder} is not writable")
        count = len(list(folder.glob("jack-*.db"))) if folder.exists() else 0
        return ComponentHealth.connected(f"{count} backup(s) in {folder}")

    def store(self, path: Path, key: str, metadata: dict[str, str]) -> StoredBackup:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / key
        partial = self.folder / f".{key}.partial"
        checksum = copy_with_checksum(path, partial)
        if metadata.get("sha256") and metadata["sha256"] != checksum:
            partial.unlink(missing_ok=True)
            raise BackupError(f"copy of {key} in {self.folder} does not match the backup's checksum")
        os.replace(partial, target)
        sidecar_path(target).write_text(json.dumps({**metadata, "sha256": checksum}, indent=2))
        fsync_dir(self.folder)
        return self._describe(target)

    def _describe(self, path: Path) -> StoredBackup:
        meta = read_sidecar(path)
        stat = path.stat()
        created = parse_iso(meta.get("created_at")) or dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        return StoredBackup(
            destination=self.name,
            key=path.name,
            size=stat.st_size,
            created_at=created,
            location=str(path),
            checksum=meta.get("sha256"),
            metadata={k: str(v) for k, v in meta.items()},
        )

    def list(self) -> list[StoredBackup]:
        if not self.folder.is_dir():
            return []
        found = [self._describe(p) for p in self.folder.iterdir() if p.is_file() and is_backup_key(p.name)]
        return sorted(found, key=lambda b: b.created_at, reverse=True)

    def path_of(self, key: str) -> Path:
        return self.folder / key

    def fetch(self, key: str, target: Path) -> Path:
        source = self.folder / key
        if not source.is_file():
            raise BackupError(f"no backup {key} in {self.folder}")
        expected = read_sidecar(source).get("sha256")
        target.parent.mkdir(parents=True, exist_ok=True)
        actual = copy_with_checksum(source, target)
        if expected and actual != expected:
            target.unlink(missing_ok=True)
            raise BackupError(f"{source} is damaged: its checksum does not match the one recorded when it was made")
        return target

    def delete(self, key: str) -> None:
        path = self.folder / key
        path.unlink(missing_ok=True)
        sidecar_path(path).unlink(missing_ok=True)


def backup_service(app: JackApp) -> BackupService:
    """``app.backups``, created on first use."""
    service = getattr(app, "backups", None)
    if service is None:
        service = BackupService(app)
        app.backups = service  # type: ignore[attr-defined]
    return service


def raise_alerts_now(app: JackApp, alerts: list) -> None:
    """Raise alerts from synchronous code (the command line, before the server's loop runs)."""
    if not alerts:
        return
    import asyncio

    async def send() -> None:
        for alert in alerts:
            await app.alerts.raise_alert(alert)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(send())
        return
    for alert in alerts:  # inside a running loop we cannot wait: at least log them
        log.warning("ALERT %s: %s", alert.name, alert.summary)


# --------------------------------------------------------------------------- hooks


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("BACKUP_DIR", str, "data/backups", "folder of the local backups (put it on another disk if you can)"),
        Setting(
            "BACKUP_SCHEDULE_TIME",
            str,
            "03:00",
            "local time of the daily backup taken by jack serve, or off",
            check=check_schedule_time,
        ),
        Setting("BACKUP_INTERVAL_HOURS", float, 0.0, "back up every N hours instead of daily (0: daily)", minimum=0),
        Setting("BACKUP_RETENTION_DAYS", int, 30, "keep every backup this many days", minimum=1),
        Setting("BACKUP_KEEP_WEEKLY", int, 0, "also keep the newest backup of this many past weeks", minimum=0),
        Setting("BACKUP_KEEP_MONTHLY", int, 0, "also keep the newest backup of this many past months", minimum=0),
        Setting("BACKUP_RPO_HOURS", float, 24.0, "alert when the last good backup is older than this", minimum=0.001),
    ]


@hookimpl
def jack_register_backup_destinations(register: Callable[[BackupDestination], None], app: JackApp) -> None:
    register(LocalFolderDestination(app))
    backup_service(app)


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    from jack_host.backup_cli import backup, restore

    cli.add_command(backup)
    cli.add_command(restore)


@hookimpl
def jack_add_routes(app: JackApp) -> None:
    from jack_host.backup_metrics import BackupCollector

    app.metrics.register(BackupCollector(app))


@hookimpl
def jack_startup(app: JackApp) -> Any:
    async def start() -> None:
        state = app.state.setdefault(STATE, {})
        if is_sqlite(app.settings):
            lock = ServerLock(sqlite_path(app.settings))
            if lock.try_acquire():
                state["lock"] = lock
            else:
                log.warning(
                    "another Jack (pid %s) already serves %s; jack restore stays blocked until it stops",
                    lock.holder_pid(),
                    lock.database,
                )
        scheduler = BackupScheduler(app, backup_service(app))
        state["scheduler"] = scheduler
        await scheduler.start()

    return start()


@hookimpl
def jack_shutdown(app: JackApp) -> Any:
    async def stop() -> None:
        state = app.state.get(STATE, {})
        scheduler = state.pop("scheduler", None)
        if scheduler is not None:
            await scheduler.stop()
        lock = state.pop("lock", None)
        if lock is not None:
            lock.release()

    return stop()


@hookimpl
def jack_health_extras(app: JackApp) -> dict[str, Any]:
    status = backup_service(app).status()
    if "destinations" in status:
        recorded = status["destinations"]
        status["destinations"] = {
            name: {
                "state": (health := app.health_monitor.get(dest)).state,
                "detail": health.detail,
                **{k: v for k, v in recorded.get(name, {}).items() if k in ("status", "at", "last_stored_at")},
                **({"last_error": recorded[name]["detail"]} if recorded.get(name, {}).get("status") == "failed" else {}),
            }
            for name, dest in app.backup_destinations.items()
        }
    scheduler = app.state.get(STATE, {}).get("scheduler")
    if scheduler is not None and scheduler.next_at is not None:
        status["next_scheduled_at"] = scheduler.next_at.isoformat(timespec="seconds")
    return {"backups": status}


@hookimpl
def jack_doctor_checks(app: JackApp) -> list[DoctorCheck]:
    if not is_sqlite(app.settings):
        return [
            DoctorCheck(
                "backups of the PostgreSQL database",
                False,
                "jack backup handles SQLite only",
                "schedule pg_dump (e.g. a daily cron job) and copy the dumps off-site",
                must_fix=False,
            )
        ]
    service = backup_service(app)
    status = service.status()
    age = status.get("last_success_age_seconds")
    rpo_hours = status["rpo_seconds"] / 3600
    checks = [
        DoctorCheck(
            f"a backup within the RPO ({rpo_hours:g} h)",
            age is not None and not status["stale"],
            f"last good backup {status['last_success_at']} ({age / 3600:.1f} h ago)" if age is not None else "no backup yet",
            "run `jack backup create`, keep `jack serve` running for the daily backup, and check `jack backup list`",
            must_fix=app.settings.is_production,
        )
    ]
    offsite = [
        name
        for name, dest in app.backup_destinations.items()
        if name != "local" and service.is_configured(dest)[0]
    ]
    checks.append(
        DoctorCheck(
            "an off-site backup copy is configured",
            bool(offsite),
            ", ".join(offsite) if offsite else "backups are only on this server",
            "set S3_BUCKET (and S3_ENDPOINT_URL for MinIO, R2 or B2) so a copy leaves the building",
            must_fix=False,
        )
    )
    drill_at = parse_iso(status.get("last_successful_drill_at"))
    recent = drill_at is not None and dt.datetime.now(dt.UTC) - drill_at < dt.timedelta(days=DRILL_EVERY_DAYS)
    checks.append(
        DoctorCheck(
            "a recovery drill in the last quarter",
            recent,
            f"last successful drill {status['last_successful_drill_at']}" if drill_at else "no successful drill recorded",
            "run `jack backup drill` (it restores the latest off-site backup into a temporary folder)",
            must_fix=False,
        )
    )
    return checks


@hookimpl
def jack_before_migrations(app: JackApp, pending: list[str]) -> None:
    """Back up the database before migrations change it; refuse to migrate if that fails."""
    if not is_sqlite(app.settings):
        log.warning("no automatic backup before migrations: PostgreSQL (take one with pg_dump)")
        return
    path = sqlite_path(app.settings)
    if not path.is_file() or path.stat().st_size == 0:
        return
    from jack_host.migrate import current_revisions

    if not current_revisions(app.engine):
        return  # a fresh database: nothing worth keeping yet
    import click

    run = backup_service(app).create(reason="pre-migration")
    raise_alerts_now(app, run.alerts)
    if not run.ok:
        raise BackupError(
            "the backup taken before migrating could not be stored anywhere: "
            + "; ".join(f"{o.destination}: {o.detail}" for o in run.outcomes)
        )
    log.info("backup %s taken before applying %s", run.key, ", ".join(pending))
    click.echo(f"Backed up the database before migrating: {', '.join(o.location for o in run.stored)}")
