"""Backups of the SQLite database: snapshot, verify, store, list, restore and retention.

The ``Backups`` service (a :class:`BackupService`) does the work for ``jack backup ...``,
``jack restore``, the scheduler in ``jack serve`` and the pre-migration backup.
Its methods are synchronous (they copy files and run SQLite); the server calls
them through ``asyncio.to_thread``.  They never raise alerts themselves: they
return the :class:`~jack_host.contract.interfaces.Alert` objects to raise, so the caller
raises them on its own event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from jack_host.builtin.backups.local_folder import backup_folder, usable_folder
from jack_host.contract.interfaces import Alert, BackupDestination, BackupError, StoredBackup
from jack_host.db.engine import BUSY_TIMEOUT_MS, is_sqlite, sqlite_path
from jack_host.db.models import StateEntry, utcnow
from jack_host.kit.backup_files import (
    KEY_PREFIX,
    KEY_SUFFIX,
    Progress,
    copy_with_checksum,
    fsync_dir,
    is_backup_key,
    noop_progress,
    parse_iso,
    read_sidecar,
    sha256_file,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from jack_host.contract.app import App

log = logging.getLogger("jack.backups")

SNAPSHOT_STEP_PAGES = 4096
SQLITE_HEADER = b"SQLite format 3\x00"

STATE_KEY = "jack.backups"
STATE_LAST_RUN = "backups.last_run"
STATE_LAST_SUCCESS = "backups.last_success"
STATE_LAST_DRILL = "backups.last_drill"
STATE_LAST_GOOD_DRILL = "backups.last_successful_drill"
STATE_DESTINATIONS = "backups.destinations"

PG_DUMP_HINT = (
    "Jack's database is PostgreSQL (DATABASE_URL is set); jack backup and jack restore only handle the "
    "SQLite file. Back up PostgreSQL with pg_dump, e.g. "
    '`pg_dump --format=custom --file=jack-$(date +%Y%m%d).dump "$DATABASE_URL"`, '
    "and restore with `pg_restore --clean --dbname \"$DATABASE_URL\" FILE`."
)


class ServerRunningError(BackupError):
    """``jack restore`` found a server holding the database lock."""


# --------------------------------------------------------------------------- files


def backup_key(now: dt.datetime, reason: str = "") -> str:
    """A sortable file name such as ``jack-2026-01-31T03-00-00.123Z.db``."""
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H-%M-%S.") + f"{now.microsecond // 1000:03d}Z"
    suffix = f"-{reason}" if reason and reason != "manual" and reason != "scheduled" else ""
    return f"{KEY_PREFIX}{stamp}{suffix}{KEY_SUFFIX}"


# --------------------------------------------------------------------------- snapshot and verify


def snapshot_sqlite(source: Path, target: Path, progress: Progress = noop_progress) -> None:
    """Copy the live database at ``source`` to ``target`` with SQLite's online backup API.

    The source connection opens a read transaction first and keeps it for the
    whole copy.  In WAL mode writers carry on meanwhile, and every backup step
    reads the same snapshot, so the copy is consistent and does not restart
    each time the server commits (which it would, forever, on a busy database).
    """
    src = sqlite3.connect(source, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        src.execute("BEGIN")
        total = int(src.execute("PRAGMA page_count").fetchone()[0])
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # starts the read transaction
        dst = sqlite3.connect(target)
        try:
            src.backup(
                dst,
                pages=SNAPSHOT_STEP_PAGES,
                progress=lambda _status, remaining, pages: progress("snapshot", pages - remaining, pages or total),
            )
            # A self-contained file: no -wal beside it to forget when it is copied.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()


@dataclass
class VerifyResult:
    """The outcome of checking one backup file."""

    path: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    revisions: list[str] = field(default_factory=list)
    checksum: str | None = None
    checksum_checked: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.ok:
            return "; ".join(self.problems)
        parts = ["integrity ok", f"revision {', '.join(self.revisions)}"]
        parts.append("checksum ok" if self.checksum_checked else "no checksum recorded (structure checked only)")
        return ", ".join(parts)


def _readonly_uri(path: Path) -> str:
    # immutable=1: never create -wal/-shm files beside a backup while reading it.
    return path.absolute().as_uri() + "?mode=ro&immutable=1"


def verify_file(
    path: Path,
    expected_checksum: str | None = None,
    actual_checksum: str | None = None,
    progress: Progress = noop_progress,
    known_revisions: Collection[str] | None = None,
) -> VerifyResult:
    """Check a backup: its sha256 (when one was recorded), ``PRAGMA integrity_check`` and its revision.

    The checksum catches damage inside row data, which ``integrity_check`` cannot see.
    :param actual_checksum: the sha256 already computed while copying, to save a pass over the file.
    """
    started = time.monotonic()
    result = VerifyResult(path=str(path), ok=False)
    if not path.is_file():
        result.problems.append(f"{path}: no such file")
        return result
    with path.open("rb") as reader:
        if reader.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            result.problems.append(f"{path} is not an SQLite database (bad header)")
            return result
    if expected_checksum:
        actual = actual_checksum or sha256_file(path, progress)
        result.checksum = actual
        result.checksum_checked = True
        if actual != expected_checksum:
            result.problems.append(
                f"checksum mismatch: the file changed since it was backed up (sha256 {actual[:12]}..., "
                f"recorded {expected_checksum[:12]}...)"
            )
    else:
        result.checksum = actual_checksum
    try:
        connection = sqlite3.connect(_readonly_uri(path), uri=True)
        try:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
            problems = [str(row[0]) for row in rows if row and row[0] != "ok"]
            if problems:
                result.problems.append("integrity_check failed: " + "; ".join(problems[:3]))
            has_version = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            if has_version:
                result.revisions = sorted(r[0] for r in connection.execute("SELECT version_num FROM alembic_version"))
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        result.problems.append(f"SQLite cannot read it: {exc}")
    if not result.problems:
        if not result.revisions:
            result.problems.append("no migration revision in the file: it is not a Jack database")
        else:
            unknown = set(result.revisions) - set(known_revisions) if known_revisions is not None else set()
            if unknown:
                result.problems.append(
                    f"made by a newer or different Jack (unknown revision {', '.join(sorted(unknown))}); "
                    "upgrade Jack before using this backup"
                )
    result.ok = not result.problems
    result.seconds = time.monotonic() - started
    return result


# --------------------------------------------------------------------------- server lock


class ServerLock:
    """An exclusive ``flock`` on ``<database>.lock`` held by a running server.

    The kernel drops it when the process dies, so a crashed server never blocks a restore.
    """

    def __init__(self, database: Path):
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def holder_pid(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def try_acquire(self) -> bool:
        """Take the lock without waiting; False when another process (or app) holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def acquire_for_restore(self) -> None:
        if not self.try_acquire():
            pid = self.holder_pid()
            raise ServerRunningError(
                f"Jack is running on {self.database} (pid {pid or '?'}): stop it first "
                "(docker stop jack / systemctl stop jack / Ctrl+C), then run jack restore again"
            )

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# --------------------------------------------------------------------------- retention


def expired_backups(
    backups: Iterable[StoredBackup],
    now: dt.datetime,
    days: int,
    weekly: int = 0,
    monthly: int = 0,
) -> list[StoredBackup]:
    """The backups retention removes: older than ``days``, unless kept as a weekly or monthly copy.

    The newest backup of each of the last ``weekly`` ISO weeks and of the last
    ``monthly`` calendar months is kept.  The newest backup overall is never removed,
    so a server that stopped backing up still has something to restore.
    """
    ordered = sorted(backups, key=lambda b: _aware(b.created_at), reverse=True)
    if not ordered:
        return []
    now = _aware(now)
    keep: set[str] = {ordered[0].key}
    cutoff = now - dt.timedelta(days=days)
    keep.update(b.key for b in ordered if _aware(b.created_at) >= cutoff)
    for size, period in ((weekly, _week), (monthly, _month)):
        if size <= 0:
            continue
        seen: list[tuple[int, int]] = []
        for backup in ordered:  # newest first: the first one seen in a period is its newest
            bucket = period(_aware(backup.created_at))
            if bucket not in seen:
                seen.append(bucket)
                if len(seen) > size:
                    break
                keep.add(backup.key)
    return [b for b in ordered if b.key not in keep]


def _week(moment: dt.datetime) -> tuple[int, int]:
    year, week, _ = moment.isocalendar()
    return (year, week)


def _month(moment: dt.datetime) -> tuple[int, int]:
    return (moment.year, moment.month)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- durable state


def read_states(engine: Engine, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Read several ``jack_state`` entries in one query; missing keys (or table) are left out."""
    keys = list(keys)
    try:
        with Session(engine) as session:
            entries = session.exec(select(StateEntry).where(StateEntry.key.in_(keys))).all()  # type: ignore[attr-defined]
            return {entry.key: dict(entry.value) for entry in entries}
    except Exception as exc:  # an unmigrated database has no jack_state yet
        log.debug("cannot read backup state: %s", exc)
        return {}


def write_state(engine: Engine, key: str, value: dict[str, Any]) -> None:
    try:
        with Session(engine) as session:
            entry = session.get(StateEntry, key) or StateEntry(key=key)
            entry.value = value
            entry.updated_at = utcnow()
            session.add(entry)
            session.commit()
    except Exception as exc:  # recording must never undo a backup that worked
        log.warning("could not record %s: %s", key, exc)


def iso(moment: dt.datetime) -> str:
    return _aware(moment).astimezone(dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- the service


@dataclass
class StoreOutcome:
    """What happened at one destination."""

    destination: str
    status: str  # "stored", "skipped" or "failed"
    detail: str = ""
    location: str = ""
    seconds: float = 0.0
    removed: list[str] = field(default_factory=list)


@dataclass
class BackupRun:
    key: str
    reason: str
    created_at: dt.datetime
    size: int
    seconds: float
    checksum: str
    revisions: list[str]
    outcomes: list[StoreOutcome]
    alerts: list[Alert] = field(default_factory=list)

    @property
    def stored(self) -> list[StoreOutcome]:
        return [o for o in self.outcomes if o.status == "stored"]

    @property
    def failed(self) -> list[StoreOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return bool(self.stored)


@dataclass
class RestoreResult:
    database: Path
    previous: Path | None
    verify: VerifyResult
    seconds: float
    pending_migrations: list[str]


class BackupService:
    """Everything ``jack backup`` and ``jack restore`` do, for one app (the ``Backups`` service)."""

    @classmethod
    def of(cls, app: App) -> BackupService:
        """The backups feature's own handle (other features use ``app.services.backups``)."""
        return app.state[STATE_KEY]

    def __init__(self, app: App):
        self.app = app

    # ---- configuration
    @property
    def settings(self) -> Any:
        return self.app.settings

    def known_revisions(self) -> set[str]:
        """Every migration revision this Jack and its loaded plugins can read."""
        return self.app.migrations.known_revisions()

    @property
    def database_path(self) -> Path:
        return sqlite_path(self.settings)

    @property
    def backup_dir(self) -> Path:
        return backup_folder(self.settings)

    @property
    def rpo(self) -> dt.timedelta:
        return dt.timedelta(hours=float(self.settings.get("BACKUP_RPO_HOURS") or 24))

    def ensure_sqlite(self) -> None:
        if not is_sqlite(self.settings):
            raise BackupError(PG_DUMP_HINT)

    def destinations(self) -> dict[str, BackupDestination]:
        return dict(self.app.backup_destinations)

    def destination(self, name: str) -> BackupDestination:
        try:
            return self.app.backup_destinations[name]
        except KeyError:
            known = ", ".join(self.app.backup_destinations) or "none"
            raise BackupError(f"no backup destination named '{name}' (configured: {known})") from None

    def is_configured(self, destination: BackupDestination) -> tuple[bool, str]:
        missing = destination.missing_settings(self.settings)
        if missing:
            return False, f"not configured: set {', '.join(missing)}"
        return True, ""

    # ---- create
    def create(self, progress: Progress = noop_progress, reason: str = "manual") -> BackupRun:
        """Snapshot the live database, verify the copy and store it at every configured destination.

        :raises BackupError: the database is missing, on PostgreSQL, or the copy failed verification.
        """
        self.ensure_sqlite()
        source = self.database_path
        if not source.is_file() or source.stat().st_size == 0:
            raise BackupError(f"no database at {source}: nothing to back up (start Jack once, or check DATABASE_PATH)")
        started = time.monotonic()
        created_at = dt.datetime.now(dt.UTC)
        key = backup_key(created_at, reason)
        staging_dir = usable_folder(self.backup_dir) / ".staging"
        staging_dir.mkdir(exist_ok=True)
        staging = staging_dir / key
        try:
            try:
                snapshot_sqlite(source, staging, progress)
            except sqlite3.Error as exc:
                raise BackupError(f"could not copy {source}: {exc}") from None
            checksum = sha256_file(staging, progress)
            # the live database may hold revisions of plugins switched off now: they are its own
            known = self.known_revisions() | self.app.migrations.recorded(self.app.engine)
            verified = verify_file(staging, known_revisions=known)
            if not verified.ok:
                raise BackupError(f"the new backup failed verification, so it was not stored: {verified.summary()}")
            size = staging.stat().st_size
            metadata = {
                "sha256": checksum,
                "revisions": ",".join(verified.revisions),
                "created_at": iso(created_at),
                "reason": reason,
                "verified": "integrity_check ok",
                "jack_version": self.app.version,
            }
            outcomes = [self._store_at(dest, staging, key, metadata, progress) for dest in self.destinations().values()]
        finally:
            staging.unlink(missing_ok=True)
        run = BackupRun(
            key=key,
            reason=reason,
            created_at=created_at,
            size=size,
            seconds=time.monotonic() - started,
            checksum=checksum,
            revisions=verified.revisions,
            outcomes=outcomes,
        )
        for outcome in run.stored:
            try:
                outcome.removed = self.apply_retention_at(self.destination(outcome.destination))
            except Exception as exc:
                log.warning("retention at %s failed: %s", outcome.destination, exc)
        self.prune_pre_restore_copies()
        run.alerts = self._record_run(run)
        return run

    def _store_at(
        self, destination: BackupDestination, path: Path, key: str, metadata: dict[str, str], progress: Progress
    ) -> StoreOutcome:
        configured, why = self.is_configured(destination)
        if not configured:
            return StoreOutcome(destination.name, "skipped", why)
        started = time.monotonic()
        try:
            stored = destination.store(path, key, metadata)
        except Exception as exc:  # a failing destination never stops the others
            log.warning("backup destination %s failed: %s", destination.name, exc)
            return StoreOutcome(destination.name, "failed", f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started)
        return StoreOutcome(destination.name, "stored", location=stored.location, seconds=time.monotonic() - started)

    def _record_run(self, run: BackupRun) -> list[Alert]:
        engine = self.app.engine
        summary = {
            "key": run.key,
            "reason": run.reason,
            "at": iso(run.created_at),
            "size": run.size,
            "seconds": round(run.seconds, 3),
            "revisions": run.revisions,
            "ok": run.ok,
            "destinations": {o.destination: {"status": o.status, "detail": o.detail, "location": o.location} for o in run.outcomes},
        }
        write_state(engine, STATE_LAST_RUN, summary)
        if run.ok:
            write_state(engine, STATE_LAST_SUCCESS, summary)
        per_destination = read_states(engine, [STATE_DESTINATIONS]).get(STATE_DESTINATIONS, {})
        for outcome in run.outcomes:
            entry = per_destination.get(outcome.destination, {})
            entry.update({"status": outcome.status, "detail": outcome.detail, "at": iso(run.created_at)})
            if outcome.status == "stored":
                entry["last_stored_at"] = iso(run.created_at)
                entry["last_key"] = run.key
            per_destination[outcome.destination] = entry
        write_state(engine, STATE_DESTINATIONS, per_destination)

        alerts = [
            Alert(
                name="backup.destination_failed",
                severity="warning" if run.ok else "critical",
                summary=f"Backup {run.key} could not be stored at '{o.destination}': {o.detail}",
                details={"destination": o.destination, "key": run.key, "error": o.detail},
                dedup_key=f"backup.destination_failed.{o.destination}",
            )
            for o in run.failed
        ]
        if not run.ok:
            alerts.append(
                Alert(
                    name="backup.failed",
                    severity="critical",
                    summary=f"Backup {run.key} was not stored anywhere",
                    details={"key": run.key},
                    dedup_key="backup.failed",
                )
            )
        return alerts

    # ---- list and retention
    def list_backups(self, destination: str | None = None) -> tuple[list[StoredBackup], dict[str, str]]:
        """Backups at every configured destination (or one), newest first, and an error per failing one."""
        found: list[StoredBackup] = []
        errors: dict[str, str] = {}
        names = [destination] if destination else list(self.destinations())
        for name in names:
            dest = self.destination(name)
            configured, why = self.is_configured(dest)
            if not configured:
                errors[name] = why
                continue
            try:
                found.extend(dest.list())
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
        found.sort(key=lambda b: _aware(b.created_at), reverse=True)
        return found, errors

    def retention_policy(self) -> tuple[int, int, int]:
        s = self.settings
        return (
            int(s.get("BACKUP_RETENTION_DAYS") or 30),
            int(s.get("BACKUP_KEEP_WEEKLY") or 0),
            int(s.get("BACKUP_KEEP_MONTHLY") or 0),
        )

    def apply_retention_at(self, destination: BackupDestination, dry_run: bool = False) -> list[str]:
        days, weekly, monthly = self.retention_policy()
        backups = [b for b in destination.list() if is_backup_key(b.key)]
        expired = expired_backups(backups, dt.datetime.now(dt.UTC), days, weekly, monthly)
        if not dry_run:
            for backup in expired:
                destination.delete(backup.key)
        return [b.key for b in expired]

    def pre_restore_copies(self) -> list[Path]:
        """The databases set aside by earlier restores, newest first."""
        database = self.database_path
        copies = [p for p in database.parent.glob(f"{database.name}.pre-restore-*") if not p.name.endswith(("-wal", "-shm"))]
        return sorted(copies, key=lambda p: p.name, reverse=True)

    def prune_pre_restore_copies(self, now: dt.datetime | None = None) -> list[Path]:
        """Delete set-aside databases older than ``BACKUP_RETENTION_DAYS``; the newest is always kept."""
        now = now or dt.datetime.now(dt.UTC)
        days = self.retention_policy()[0]
        removed = []
        for copy in self.pre_restore_copies()[1:]:
            taken = dt.datetime.fromtimestamp(copy.stat().st_mtime, dt.UTC)
            if now - taken > dt.timedelta(days=days):
                for part in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
                    part.unlink(missing_ok=True)
                removed.append(copy)
        return removed

    # ---- fetch, verify, restore
    def latest(self, source: str | None = None) -> StoredBackup:
        """The newest backup at ``source`` (or at any configured destination)."""
        backups, errors = self.list_backups(source)
        if not backups:
            where = f"at '{source}'" if source else "at any destination"
            extra = "; ".join(f"{k}: {v}" for k, v in errors.items())
            raise BackupError(f"no backup found {where}" + (f" ({extra})" if extra else ""))
        return backups[0]

    def fetch(self, backup: StoredBackup, target: Path) -> Path:
        """Download ``backup`` to ``target``; the destination checks the recorded checksum."""
        try:
            return self.destination(backup.destination).fetch(backup.key, target)
        except BackupError:
            raise
        except Exception as exc:
            raise BackupError(f"could not fetch {backup.key} from '{backup.destination}': {exc}") from None

    def verify_path(self, path: Path, progress: Progress = noop_progress) -> VerifyResult:
        """Verify a backup file, using the checksum in its ``.json`` sidecar when there is one."""
        return verify_file(path, read_sidecar(path).get("sha256"), progress=progress, known_revisions=self.known_revisions())

    def restore(self, source: Path, progress: Progress = noop_progress, expected_checksum: str | None = None) -> RestoreResult:
        """Replace the live database with the backup at ``source``, atomically.

        The old database is kept as ``<database>.pre-restore-<UTC time>``.

        :raises ServerRunningError: a server holds the database lock.
        :raises BackupError: the backup fails verification (the live database is untouched).
        """
        self.ensure_sqlite()
        started = time.monotonic()
        database = self.database_path
        if not source.is_file():
            raise BackupError(f"{source}: no such backup file")
        if expected_checksum is None:
            expected_checksum = read_sidecar(source).get("sha256")
        lock = ServerLock(database)
        lock.acquire_for_restore()
        self.app.engine.dispose()  # pooled connections would keep writing to the old file
        staging = database.with_name(database.name + ".restoring")
        try:
            database.parent.mkdir(parents=True, exist_ok=True)
            if source.resolve() == staging.resolve():
                actual = sha256_file(staging, progress) if expected_checksum else None
            else:
                actual = copy_with_checksum(source, staging, progress)
            verified = verify_file(staging, expected_checksum, actual_checksum=actual, known_revisions=self.known_revisions())
            if not verified.ok:
                raise BackupError(f"refusing to restore {source}: {verified.summary()}. The database was not changed.")
            previous = self._set_aside(database)
            os.replace(staging, database)
            fsync_dir(database.parent)
        finally:
            staging.unlink(missing_ok=True)
            lock.release()
        self.app.engine.dispose()
        self._recall_last_success()
        current = set(verified.revisions)
        pending = self.app.migrations.pending(self.app.engine) if current else []
        return RestoreResult(database, previous, verified, time.monotonic() - started, pending)

    def _recall_last_success(self) -> None:
        """After a restore: the restored file predates its own backup record, so read it back from the backups."""
        backups, _errors = self.list_backups()
        if not backups:
            return
        newest = backups[0]
        summary = {"key": newest.key, "at": iso(_aware(newest.created_at)), "size": newest.size, "ok": True,
                   "reason": newest.metadata.get("reason"), "recalled_from": newest.destination}
        try:
            known = read_states(self.app.engine, [STATE_LAST_SUCCESS]).get(STATE_LAST_SUCCESS) or {}
            if (parse_iso(known.get("at")) or dt.datetime.min.replace(tzinfo=dt.UTC)) < _aware(newest.created_at):
                write_state(self.app.engine, STATE_LAST_SUCCESS, summary)
        except Exception as exc:  # an old backup without the state table: jack db migrate creates it
            log.warning("could not record the last backup after restore: %s", exc)

    def _set_aside(self, database: Path) -> Path | None:
        """Keep the live database as ``<database>.pre-restore-<UTC time>`` (with its WAL) and return that path."""
        if not database.exists():
            return None
        try:  # fold the WAL in, so the kept file is complete on its own
            connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
        except sqlite3.Error as exc:  # a damaged database: keep its WAL beside it instead
            log.warning("could not checkpoint %s before restore: %s", database, exc)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H-%M-%S.%fZ")
        previous = database.with_name(f"{database.name}.pre-restore-{stamp}")
        try:
            os.link(database, previous)  # the live path never disappears, even for a moment
        except OSError:
            shutil.copy2(database, previous)
        wal = Path(f"{database}-wal")
        if wal.exists():
            os.replace(wal, f"{previous}-wal")
        Path(f"{database}-shm").unlink(missing_ok=True)
        self.prune_pre_restore_copies()
        return previous

    # ---- status, for /health, metrics and doctor
    def status(self, now: dt.datetime | None = None) -> dict[str, Any]:
        now = _aware(now or dt.datetime.now(dt.UTC))
        if not is_sqlite(self.settings):
            return {"state": "not_applicable", "detail": PG_DUMP_HINT}
        states = read_states(
            self.app.engine,
            [STATE_LAST_RUN, STATE_LAST_SUCCESS, STATE_LAST_DRILL, STATE_LAST_GOOD_DRILL, STATE_DESTINATIONS],
        )
        success = states.get(STATE_LAST_SUCCESS) or {}
        last_at = parse_iso(success.get("at"))
        age = (now - last_at).total_seconds() if last_at else None
        rpo = self.rpo.total_seconds()
        drill = states.get(STATE_LAST_DRILL) or {}
        good_drill = states.get(STATE_LAST_GOOD_DRILL) or {}
        run = states.get(STATE_LAST_RUN) or {}
        return {
            "last_success_at": success.get("at"),
            "last_success_age_seconds": int(age) if age is not None else None,
            "last_success_key": success.get("key"),
            "last_success_size": success.get("size"),
            "rpo_seconds": int(rpo),
            "stale": age is None or age > rpo,
            "last_run": {k: run.get(k) for k in ("at", "key", "ok", "reason")} if run else None,
            "last_drill": {k: drill.get(k) for k in ("at", "ok", "destination", "key", "rto_seconds", "problems")}
            if drill
            else None,
            "last_successful_drill_at": good_drill.get("at"),
            "destinations": states.get(STATE_DESTINATIONS, {}),
        }


def as_dict(value: Any) -> dict[str, Any]:
    """A dataclass result as JSON-friendly data (for ``--json`` output)."""
    return json.loads(json.dumps(asdict(value), default=str))


def raise_alerts_now(app: App, alerts: list) -> None:
    """Raise alerts from synchronous code (the command line, before the server's loop runs)."""
    if not alerts:
        return
    async def send() -> None:
        for alert in alerts:
            await app.services.alerts.raise_alert(alert)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(send())
        return
    for alert in alerts:  # inside a running loop we cannot wait: at least log them
        log.warning("ALERT %s: %s", alert.name, alert.summary)
