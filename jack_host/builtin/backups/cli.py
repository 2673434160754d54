"""``jack backup create|list|verify|drill|prune`` and ``jack restore``."""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import click

from jack_host.builtin.backups.drill import run_drill
from jack_host.builtin.backups.service import (
    PG_DUMP_HINT,
    BackupError,
    BackupService,
    ServerLock,
    ServerRunningError,
    StoredBackup,
    VerifyResult,
    raise_alerts_now,
    verify_file,
)
from jack_host.cli.main import EXIT_CONFIG, build_app, load_checked_settings
from jack_host.db.engine import is_sqlite

EXIT_FAILED = 1
EXIT_PARTIAL = 4
EXIT_SERVER_RUNNING = 5


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class TerminalProgress:
    """Percentage lines for long steps; a step that finishes in one go prints nothing."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.shown: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        percent = min(100, int(done * 100 / total))
        step = percent // 10 * 10
        last = self.shown.get(stage)
        if last is None and percent >= 100:
            return
        if last is None or step > last:
            self.shown[stage] = step
            click.echo(f"  {stage}: {step}%")


def service_for(ctx: click.Context) -> BackupService:
    """The app's backup service; PostgreSQL is refused before anything connects to it."""
    settings = load_checked_settings(ctx.obj["pm"])
    if not is_sqlite(settings):
        fail(PG_DUMP_HINT, EXIT_CONFIG)
    return BackupService.of(build_app(ctx))


def raise_alerts(service: BackupService, alerts: list) -> None:
    raise_alerts_now(service.app, alerts)


def print_verify(result: VerifyResult, label: str) -> None:
    if result.ok:
        click.echo(f"ok: {label}: {result.summary()} ({result.seconds:.1f}s)")
    else:
        click.echo(f"error: {label} FAILED verification: {result.summary()}", err=True)


# --------------------------------------------------------------------------- jack backup


@click.group()
def backup() -> None:
    """Back up the SQLite database, list, verify and drill backups.

    \b
    Examples:
      jack backup create
      jack backup list --destination s3
      jack backup verify --latest
      jack backup drill
    """


@backup.command("create")
@click.option("--quiet", is_flag=True, help="Print only the summary line (no progress).")
@click.pass_context
def backup_create(ctx: click.Context, quiet: bool) -> None:
    """Take a consistent copy of the live database and store it at every destination.

    Safe while Jack is running.  The copy is checked with PRAGMA integrity_check
    and its migration revision before it is stored.  Exit status: 0 stored
    everywhere configured, 4 stored but a destination failed (an alert is raised),
    1 not stored anywhere.

    \b
    Example:
      jack backup create
    """
    service = service_for(ctx)
    database = service.database_path
    if not quiet:
        size = database.stat().st_size if database.exists() else 0
        click.echo(f"Backing up {database} ({human_size(size)})...")
    try:
        run = service.create(progress=TerminalProgress(enabled=not quiet))
    except BackupError as exc:
        fail(str(exc))
    raise_alerts(service, run.alerts)
    for outcome in run.outcomes:
        if outcome.status == "stored":
            removed = f"; retention removed {len(outcome.removed)} old" if outcome.removed else ""
            line = f"  {outcome.destination}: stored {outcome.location} in {outcome.seconds:.1f}s{removed}"
        elif outcome.status == "skipped":
            line = f"  {outcome.destination}: skipped ({outcome.detail})"
        else:
            line = f"  {outcome.destination}: FAILED: {outcome.detail} (alert raised)"
        if not quiet or outcome.status == "failed":
            click.echo(line, err=outcome.status == "failed")
    where = ", ".join(o.destination for o in run.stored) or "nowhere"
    click.echo(
        f"Backup {run.key}: {human_size(run.size)}, revision {', '.join(run.revisions)}, "
        f"{run.seconds:.1f}s, stored at {where}."
    )
    if not run.ok:
        fail("the backup was not stored at any destination")
    if run.failed:
        sys.exit(EXIT_PARTIAL)


@backup.command("list")
@click.option("--destination", "destination", default=None, help="Only this destination, e.g. local or s3.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def backup_list(ctx: click.Context, destination: str | None, as_json: bool) -> None:
    """List backups, newest first, with time, size, destination and verification.

    A destination that cannot be listed, or whose last upload failed, is shown too.

    \b
    Examples:
      jack backup list
      jack backup list --destination s3
    """
    service = service_for(ctx)
    try:
        backups, errors = service.list_backups(destination)
    except BackupError as exc:
        fail(str(exc))
    recorded = service.status().get("destinations", {})
    if as_json:
        payload = {
            "backups": [
                {
                    "destination": b.destination,
                    "key": b.key,
                    "size": b.size,
                    "created_at": b.created_at.isoformat(),
                    "location": b.location,
                    "checksum": b.checksum,
                    "verified": b.metadata.get("verified", ""),
                    "revisions": b.metadata.get("revisions", ""),
                }
                for b in backups
            ],
            "errors": errors,
            "last_results": recorded,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if backups:
        click.echo(f"{'TIME (local)':<20}  {'SIZE':>9}  {'DESTINATION':<12} {'VERIFIED':<20} BACKUP")
        for b in backups:
            verified = b.metadata.get("verified") or ("checksum recorded" if b.checksum else "unknown")
            click.echo(f"{local_time(b.created_at):<20}  {human_size(b.size):>9}  {b.destination:<12} {verified:<20} {b.key}")
    else:
        click.echo("No backups found. Take one with `jack backup create`.")
    for name, problem in errors.items():
        click.echo(f"{name}: {'not listed' if 'not configured' in problem else 'ERROR'}: {problem}")
    for name, entry in recorded.items():
        if (destination is None or name == destination) and entry.get("status") == "failed":
            click.echo(f"{name}: the last backup ({entry.get('at')}) FAILED here: {entry.get('detail')}")


def pick(service: BackupService, source: str | None) -> StoredBackup:
    try:
        return service.latest(source)
    except BackupError as exc:
        fail(str(exc))


def choose_one(file: Path | None, latest: bool, command: str) -> None:
    """Exactly one of FILE and --latest; exit 2 naming what was wrong."""
    if file is None and not latest:
        fail(f"say which backup: give a backup FILE or --latest (e.g. `jack {command} --latest`)", EXIT_CONFIG)
    if file is not None and latest:
        fail("give a backup FILE or --latest, not both", EXIT_CONFIG)


@backup.command("verify")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--latest", is_flag=True, help="Verify the newest backup instead of a file.")
@click.option("--from", "source", default=None, help="With --latest: the destination to fetch from (default: any).")
@click.pass_context
def backup_verify(ctx: click.Context, file: Path | None, latest: bool, source: str | None) -> None:
    """Check a backup's checksum, integrity and migration revision; exit 1 if it fails.

    \b
    Examples:
      jack backup verify data/backups/jack-2026-01-31T03-00-00.000Z.db
      jack backup verify --latest --from s3
    """
    choose_one(file, latest, "backup verify")
    service = service_for(ctx)
    progress = TerminalProgress()
    if file is not None:
        result = service.verify_path(file, progress)
        print_verify(result, str(file))
        sys.exit(0 if result.ok else EXIT_FAILED)
    chosen = pick(service, source)
    click.echo(f"Verifying {chosen.key} from {chosen.destination}...")
    with tempfile.TemporaryDirectory(prefix="jack-verify-") as folder:
        try:
            path = service.fetch(chosen, Path(folder) / chosen.key)
        except BackupError as exc:
            fail(f"{chosen.destination}/{chosen.key} FAILED verification: {exc}")
        result = verify_file(path, chosen.checksum, progress=progress, known_revisions=service.known_revisions())
    print_verify(result, f"{chosen.destination}/{chosen.key}")
    sys.exit(0 if result.ok else EXIT_FAILED)


@backup.command("drill")
@click.option("--from", "source", default=None, help="Destination to drill (default: the off-site one, e.g. s3).")
@click.pass_context
def backup_drill(ctx: click.Context, source: str | None) -> None:
    """Run the quarterly recovery drill and record it.

    Fetches the latest off-site backup into a temporary folder, verifies it, opens
    it with Jack's models, compares row counts with the live database and reports
    the time taken (the measured RTO).  Exit 1 when the drill fails (an alert is raised).

    \b
    Example:
      jack backup drill
    """
    service = service_for(ctx)
    try:
        result = run_drill(service, source, progress=TerminalProgress())
    except BackupError as exc:
        fail(str(exc))
    raise_alerts(service, result.alerts)
    click.echo(f"Drill on '{result.destination}'{'' if result.offsite else ' (not off-site: no off-site destination configured)'}")
    click.echo(f"  backup: {result.key or 'none'}  revision: {', '.join(result.revisions) or '?'}")
    if result.tables:
        click.echo(f"  {'TABLE':<28} {'BACKUP':>10} {'LIVE':>10}")
        for row in result.tables:
            click.echo(f"  {row.table:<28} {_count(row.backup):>10} {_count(row.live):>10}")
    click.echo(f"  measured RTO (fetch + verify + open): {result.rto_seconds:.1f}s")
    if not result.ok:
        fail("recovery drill FAILED: " + "; ".join(result.problems))
    click.echo("Recovery drill passed.")


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


@backup.command("prune")
@click.option("--destination", default=None, help="Only this destination.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.pass_context
def backup_prune(ctx: click.Context, destination: str | None, dry_run: bool) -> None:
    """Apply retention now (jack backup create does this after every backup).

    Keeps BACKUP_RETENTION_DAYS days, plus BACKUP_KEEP_WEEKLY weekly and
    BACKUP_KEEP_MONTHLY monthly copies, and always the newest backup.

    \b
    Example:
      jack backup prune --dry-run
    """
    service = service_for(ctx)
    names = [destination] if destination else list(service.destinations())
    failed = False
    for name in names:
        try:
            dest = service.destination(name)
            if not service.is_configured(dest)[0]:
                continue
            removed = service.apply_retention_at(dest, dry_run=dry_run)
        except Exception as exc:
            click.echo(f"error: {name}: {exc}", err=True)
            failed = True
            continue
        verb = "would remove" if dry_run else "removed"
        click.echo(f"{name}: {verb} {len(removed)} backup(s){': ' + ', '.join(removed) if removed else ''}")
    sys.exit(EXIT_FAILED if failed else 0)


# --------------------------------------------------------------------------- jack restore


@click.command("restore")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--latest", is_flag=True, help="Restore the newest backup instead of a file.")
@click.option("--from", "source", default=None, help="With --latest: the destination to fetch from, e.g. s3.")
@click.pass_context
def restore(ctx: click.Context, file: Path | None, latest: bool, source: str | None) -> None:
    """Replace the database with a verified backup, atomically.

    Jack must be stopped.  The current database is kept beside it as
    <database>.pre-restore-<UTC time>; those copies are pruned like the backups
    (older than BACKUP_RETENTION_DAYS, the newest always kept).  A backup that fails verification is refused and the
    database is left untouched.

    \b
    Examples:
      jack restore --latest
      jack restore --latest --from s3
      jack restore data/backups/jack-2026-01-31T03-00-00.000Z.db
    """
    choose_one(file, latest, "restore")
    service = service_for(ctx)
    database = service.database_path
    probe = ServerLock(database)
    if not probe.try_acquire():  # say so before fetching gigabytes
        try:
            probe.acquire_for_restore()
        except ServerRunningError as exc:
            fail(str(exc), EXIT_SERVER_RUNNING)
    probe.release()
    progress = TerminalProgress()
    expected: str | None = None
    if latest:
        chosen = pick(service, source)
        click.echo(f"Fetching {chosen.key} from {chosen.destination}...")
        staging = database.with_name(database.name + ".restoring")
        try:
            file = service.fetch(chosen, staging)
        except BackupError as exc:
            staging.unlink(missing_ok=True)
            fail(f"{exc}. The database was not changed.")
        expected = chosen.checksum
    assert file is not None
    click.echo(f"Restoring {file} over {database}...")
    try:
        result = service.restore(file, progress=progress, expected_checksum=expected)
    except ServerRunningError as exc:
        fail(str(exc), EXIT_SERVER_RUNNING)
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"  verified: {result.verify.summary()}")
    if result.previous is not None:
        click.echo(f"  the replaced database is kept as {result.previous}")
    if result.pending_migrations:
        click.echo(f"  jack serve will apply {len(result.pending_migrations)} migration(s) on start")
    click.echo(f"Restored in {result.seconds:.1f}s. Start Jack again (docker start jack / systemctl start jack / jack serve).")
