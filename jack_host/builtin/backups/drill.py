"""The recovery drill: prove the latest off-site backup can be restored, and time it.

This automates the deployment document's "Testing Recovery": fetch the newest
off-site backup into a temporary folder, verify it, open it with Jack's own
models, compare row counts of the main tables with the live database, and
record the result (shown by ``/health``, the metrics and ``jack doctor``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, inspect
from sqlmodel import Session, SQLModel, create_engine, select

import jack_host.db.models  # noqa: F401  (the host's tables on the metadata)
from jack_host.builtin.backups.service import (
    STATE_LAST_DRILL,
    STATE_LAST_GOOD_DRILL,
    BackupError,
    Progress,
    noop_progress,
    verify_file,
    write_state,
)
from jack_host.contract.interfaces import Alert

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from jack_host.builtin.backups.service import BackupService


@dataclass
class TableCount:
    table: str
    backup: int | None
    live: int | None


@dataclass
class DrillResult:
    ok: bool
    destination: str
    offsite: bool
    key: str | None
    rto_seconds: float
    problems: list[str] = field(default_factory=list)
    tables: list[TableCount] = field(default_factory=list)
    revisions: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def choose_source(service: BackupService, source: str | None) -> tuple[str, bool]:
    """The destination to drill: the one named, else the first configured off-site one, else local."""
    if source:
        service.destination(source)
        return source, source != "local"
    for name, destination in service.destinations().items():
        if name != "local" and service.is_configured(destination)[0]:
            return name, True
    if "local" in service.destinations():
        return "local", False
    raise BackupError("no backup destination is configured")


def count_rows(engine: Engine) -> dict[str, int]:
    """Row counts of every table Jack's models know that exists in the database, read through the models."""
    present = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with Session(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in present:
                counts[table.name] = int(session.exec(select(func.count()).select_from(table)).one())
    return counts


def load_one_row_each(engine: Engine) -> list[str]:
    """Read one full row of each model table: proves the backup's columns match Jack's models."""
    present = set(inspect(engine).get_table_names())
    problems = []
    with Session(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in present:
                continue
            try:
                session.exec(select(table).limit(1)).all()
            except Exception as exc:
                problems.append(f"table {table.name} does not match Jack's model: {str(exc).splitlines()[0]}")
    return problems


def run_drill(service: BackupService, source: str | None = None, progress: Progress = noop_progress) -> DrillResult:
    """Fetch, verify, open and compare the latest backup; record and return the result."""
    service.ensure_sqlite()
    name, offsite = choose_source(service, source)
    started = time.monotonic()
    result = DrillResult(ok=False, destination=name, offsite=offsite, key=None, rto_seconds=0.0)
    try:
        latest = service.latest(name)
        result.key = latest.key
        with tempfile.TemporaryDirectory(prefix="jack-drill-") as folder:
            path = service.fetch(latest, Path(folder) / latest.key)
            verified = verify_file(path, latest.checksum, progress=progress, known_revisions=service.known_revisions())
            result.revisions = verified.revisions
            if not verified.ok:
                result.problems.append(verified.summary())
            else:
                _compare(service, path, verified.revisions, result)
    except BackupError as exc:
        result.problems.append(str(exc))
    result.rto_seconds = round(time.monotonic() - started, 3)
    result.ok = not result.problems
    _record(service, result)
    return result


def _compare(service: BackupService, path: Path, revisions: list[str], result: DrillResult) -> None:
    engine = create_engine(f"sqlite:///{path}")
    try:
        backup_counts = count_rows(engine)
        same_schema = set(revisions) == service.app.migrations.current(service.app.engine)
        if same_schema:
            result.problems.extend(load_one_row_each(engine))
    finally:
        engine.dispose()
    live_counts = count_rows(service.app.engine)
    for table in sorted(set(backup_counts) | set(live_counts)):
        result.tables.append(TableCount(table, backup_counts.get(table), live_counts.get(table)))
        if same_schema and table in live_counts and table not in backup_counts:
            result.problems.append(f"table {table} is missing from the backup")


def _record(service: BackupService, result: DrillResult) -> None:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    value: dict[str, Any] = {
        "at": now,
        "ok": result.ok,
        "destination": result.destination,
        "offsite": result.offsite,
        "key": result.key,
        "rto_seconds": result.rto_seconds,
        "problems": result.problems,
    }
    engine = service.app.engine
    write_state(engine, STATE_LAST_DRILL, value)
    if result.ok:
        write_state(engine, STATE_LAST_GOOD_DRILL, value)
    else:
        result.alerts.append(
            Alert(
                name="backup.drill_failed",
                severity="critical",
                summary=f"Recovery drill on '{result.destination}' failed: {'; '.join(result.problems)[:300]}",
                details=value,
                dedup_key="backup.drill_failed",
            )
        )
