"""Built-in backups: the local folder destination, ``jack backup``/``jack restore``, the scheduler,
the server lock, ``/health`` and metrics data, doctor items and the pre-migration backup."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from jack_host import hookimpl
from jack_host.builtin.backups.cli import backup, restore
from jack_host.builtin.backups.local_folder import LocalFolderDestination
from jack_host.builtin.backups.metrics import BackupCollector
from jack_host.builtin.backups.schedule import BackupScheduler, check_schedule_time
from jack_host.builtin.backups.service import (
    STATE_KEY,
    BackupError,
    BackupService,
    ServerLock,
    raise_alerts_now,
)
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import BackupDestination, DoctorCheck
from jack_host.contract.services import Backups
from jack_host.db.engine import is_sqlite, sqlite_path
from jack_host.kit.backup_files import parse_iso

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.backups")
STATE = "jack.backups.server"
DRILL_EVERY_DAYS = 92


# --------------------------------------------------------------------------- hooks


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("BACKUP_DIR", str, None,
                "folder of the local backups [default: a backups folder beside the database]; put it on another disk if you can"),
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
def jack_register_backup_destinations(register: Callable[[BackupDestination], None], app: App) -> None:
    register(LocalFolderDestination(app))


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    service = BackupService(app)
    app.state[STATE_KEY] = service
    provide(Backups, service)


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    cli.add_command(backup)
    cli.add_command(restore)


@hookimpl
def jack_add_routes(app: App) -> None:

    app.metrics.register(BackupCollector(app))


@hookimpl
def jack_startup(app: App) -> Any:
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
        scheduler = BackupScheduler(app, BackupService.of(app))
        state["scheduler"] = scheduler
        await scheduler.start()

    return start()


@hookimpl
def jack_shutdown(app: App) -> Any:
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
def jack_health_extras(app: App) -> dict[str, Any]:
    status = BackupService.of(app).status()
    if "destinations" in status:
        recorded = status["destinations"]
        status["destinations"] = {
            name: {
                "state": (health := app.component_health(dest)).state,
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
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
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
    service = BackupService.of(app)
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
def jack_before_migrations(app: App, pending: list[str]) -> None:
    """Back up the database before migrations change it; refuse to migrate if that fails."""
    if not is_sqlite(app.settings):
        log.warning("no automatic backup before migrations: PostgreSQL (take one with pg_dump)")
        return
    path = sqlite_path(app.settings)
    if not path.is_file() or path.stat().st_size == 0:
        return
    if not app.migrations.current(app.engine):
        return  # a fresh database: nothing worth keeping yet
    run = BackupService.of(app).create(reason="pre-migration")
    raise_alerts_now(app, run.alerts)
    if not run.ok:
        raise BackupError(
            "the backup taken before migrating could not be stored anywhere: "
            + "; ".join(f"{o.destination}: {o.detail}" for o in run.outcomes)
        )
    log.info("backup %s taken before applying %s", run.key, ", ".join(pending))
    click.echo(f"Backed up the database before migrating: {', '.join(o.location for o in run.stored)}")
