"""Backups: consistent online copies, verification, restore, retention, scheduling, health and hooks."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from jack_host.builtin.alerts.models import AlertRecord
from jack_host.builtin.backups.drill import run_drill
from jack_host.builtin.backups.schedule import BackupScheduler, next_run
from jack_host.builtin.backups.service import (
    STATE_LAST_SUCCESS,
    BackupService,
    ServerLock,
    expired_backups,
    iso,
    snapshot_sqlite,
    verify_file,
    write_state,
)
from jack_host.contract.interfaces import StoredBackup
from jack_host.testing import JackProcess, make_app, run_jack, running_app, wait_until

WRITER = r"""
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
n = 0
while True:
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO pairs VALUES (?, 'a', randomblob(2048))", (n,))
    con.execute("INSERT INTO pairs VALUES (?, 'b', randomblob(2048))", (n,))
    con.execute("COMMIT")
    n += 1
"""


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "jack.db"


def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "backups"


def local_backups(tmp_path: Path) -> list[Path]:
    folder = backup_dir(tmp_path)
    return sorted(folder.glob("jack-*.db")) if folder.exists() else []


def add_alert_rows(db: Path, count: int, tag: str) -> None:
    con = sqlite3.connect(db)
    with con:
        con.executemany(
            "INSERT INTO alerts (name, severity, summary, details, delivered_to, delivery_error, resolved, created_at)"
            " VALUES (?, 'info', ?, ?, '', '', 0, '2026-01-01 00:00:00')",
            [(f"{tag}.{i}", f"row {i} ü ✓", f'{{"i": {i}}}') for i in range(count)],
        )
    con.close()


def dump(db: Path, table: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        con.close()


def flip_bytes(path: Path, offset: int, count: int = 16) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        data = handle.read(count)
        handle.seek(offset)
        handle.write(bytes(b ^ 0xFF for b in data))


def fill(db: Path, megabytes: int) -> None:
    con = sqlite3.connect(db)
    with con:
        con.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, payload BLOB)")
        con.executemany("INSERT INTO filler (payload) VALUES (?)", ((os.urandom(64 * 1024),) for _ in range(megabytes * 16)))
    con.close()


# --------------------------------------------------------------------------- consistency


@pytest.mark.slow
def test_backup_while_another_process_writes_is_consistent_and_complete(tmp_path):
    app = make_app(tmp_path)
    app.engine.dispose()
    db = db_path(tmp_path)
    fill(db, 40)  # several backup steps, so writes land between them
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE pairs (n INTEGER, side TEXT, payload BLOB)")
    con.commit()

    def pairs() -> int:
        return con.execute("SELECT count(*) FROM pairs").fetchone()[0]

    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)])
    try:
        wait_until(lambda: pairs() >= 200, timeout=30, what="the writer to commit rows")
        before = pairs()
        result = run_jack(tmp_path, "backup", "create")
        after = pairs()
    finally:
        writer.kill()
        writer.wait()
    assert result.returncode == 0, result.stderr
    assert "snapshot:" in result.stdout  # progress on a large database
    assert after > before, "the writer was blocked during the backup"
    [backup] = local_backups(tmp_path)
    assert verify_file(backup).ok
    copy = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    sides = dict(copy.execute("SELECT side, count(*) FROM pairs GROUP BY side").fetchall())
    filler = copy.execute("SELECT count(*) FROM filler").fetchone()[0]
    copy.close()
    con.close()
    assert sides["a"] == sides["b"], "a transaction was copied half-way"
    assert sides["a"] + sides["b"] >= before, "rows committed before the backup started are missing"
    assert filler == 40 * 16


def test_snapshot_reports_progress_in_steps(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    add_alert_rows(db_path(tmp_path), 2000, "p")
    monkeypatch.setattr("jack_host.builtin.backups.service.SNAPSHOT_STEP_PAGES", 8)
    seen = []
    snapshot_sqlite(db_path(tmp_path), tmp_path / "copy.db", lambda stage, done, total: seen.append((stage, done, total)))
    assert len(seen) > 3
    assert seen[-1][1] == seen[-1][2]
    assert dump(tmp_path / "copy.db", "alerts") == dump(db_path(tmp_path), "alerts")
    app.engine.dispose()


# --------------------------------------------------------------------------- verification


def test_corrupted_backup_is_detected_by_verify_restore_and_drill(tmp_path):
    make_app(tmp_path).engine.dispose()
    add_alert_rows(db_path(tmp_path), 300, "c")
    assert run_jack(tmp_path, "backup", "create").returncode == 0
    [backup] = local_backups(tmp_path)
    assert run_jack(tmp_path, "backup", "verify", str(backup)).returncode == 0
    live_before = dump(db_path(tmp_path), "alerts")

    flip_bytes(backup, backup.stat().st_size // 2)  # inside row data: only the checksum can tell

    verify = run_jack(tmp_path, "backup", "verify", str(backup))
    assert verify.returncode == 1
    assert "checksum mismatch" in verify.stderr
    restore = run_jack(tmp_path, "restore", str(backup))
    assert restore.returncode == 1
    assert "refusing to restore" in restore.stderr and "Traceback" not in restore.stderr
    assert dump(db_path(tmp_path), "alerts") == live_before
    assert list(db_path(tmp_path).parent.glob("jack.db.pre-restore*")) == []
    drill = run_jack(tmp_path, "backup", "drill", "--from", "local")
    assert drill.returncode == 1
    assert "damaged" in drill.stderr


def test_structural_damage_is_detected_without_a_checksum(tmp_path):
    make_app(tmp_path).engine.dispose()
    add_alert_rows(db_path(tmp_path), 300, "s")
    good = tmp_path / "copy.db"
    snapshot_sqlite(db_path(tmp_path), good)
    assert verify_file(good).ok
    page_size = sqlite3.connect(good).execute("PRAGMA page_size").fetchone()[0]
    flip_bytes(good, page_size + 0, 8)  # the b-tree header of page 2
    result = run_jack(tmp_path, "backup", "verify", str(good))
    assert result.returncode == 1
    assert "integrity" in result.stderr or "SQLite cannot read" in result.stderr


def test_verify_refuses_a_file_that_is_not_a_jack_database(tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    result = verify_file(other)
    assert not result.ok
    assert "not a Jack database" in result.summary()
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE alembic_version (version_num TEXT)")
    con.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    con.commit()
    known = make_app(tmp_path / "app").migrations.known_revisions()
    assert "unknown revision 9999_from_the_future" in verify_file(other, known_revisions=known).summary()
    con.execute("UPDATE alembic_version SET version_num = '0002_conversations'")  # a backup from Jack 0.1
    con.commit()
    assert "unknown revision" not in verify_file(other, known_revisions=known).summary()


# --------------------------------------------------------------------------- restore


def test_restore_round_trip_keeps_every_row(tmp_path):
    make_app(tmp_path).engine.dispose()
    db = db_path(tmp_path)
    add_alert_rows(db, 1000, "keep")
    at_backup = dump(db, "alerts")
    created = run_jack(tmp_path, "backup", "create")
    assert created.returncode == 0, created.stderr

    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM alerts WHERE id % 2 = 0")
    con.close()
    add_alert_rows(db, 10, "after")
    changed = dump(db, "alerts")

    restored = run_jack(tmp_path, "restore", "--latest")
    assert restored.returncode == 0, restored.stderr
    assert "checksum ok" in restored.stdout
    assert dump(db, "alerts") == at_backup
    [kept] = db.parent.glob("jack.db.pre-restore-*")
    assert dump(kept, "alerts") == changed
    assert not db.with_name("jack.db.restoring").exists()


def test_a_second_restore_keeps_the_first_set_aside_copy_and_old_copies_are_pruned(tmp_path):
    make_app(tmp_path).engine.dispose()
    db = db_path(tmp_path)
    assert run_jack(tmp_path, "backup", "create").returncode == 0
    add_alert_rows(db, 5, "first")
    first_state = dump(db, "alerts")
    assert run_jack(tmp_path, "restore", "--latest").returncode == 0
    add_alert_rows(db, 7, "second")
    second_state = dump(db, "alerts")
    assert run_jack(tmp_path, "restore", "--latest").returncode == 0

    copies = sorted(db.parent.glob("jack.db.pre-restore-*"))
    assert [dump(c, "alerts") for c in copies] == [first_state, second_state]  # timestamped, oldest first

    old = copies[0]
    month_ago = (dt.datetime.now() - dt.timedelta(days=31)).timestamp()
    os.utime(old, (month_ago, month_ago))  # older than BACKUP_RETENTION_DAYS (30)
    assert run_jack(tmp_path, "backup", "create").returncode == 0
    assert sorted(db.parent.glob("jack.db.pre-restore-*")) == [copies[1]]


def test_backups_are_found_beside_the_database_from_any_folder(tmp_path):
    """Without BACKUP_DIR the backups live beside the database, not in the current folder."""
    make_app(tmp_path).engine.dispose()
    db = db_path(tmp_path)
    add_alert_rows(db, 20, "here")
    at_backup = dump(db, "alerts")
    no_dir = {"BACKUP_DIR": ""}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    created = run_jack(tmp_path, "backup", "create", env=no_dir)
    assert created.returncode == 0, created.stderr
    assert len(local_backups(tmp_path)) == 1  # data/backups: beside data/jack.db

    listed = run_jack(elsewhere, "backup", "list", "--json", env={**no_dir, "DATABASE_PATH": str(db)})
    assert listed.returncode == 0, listed.stderr
    assert [b["key"] for b in json.loads(listed.stdout)["backups"]] == [local_backups(tmp_path)[0].name]
    add_alert_rows(db, 3, "later")
    restored = run_jack(elsewhere, "restore", "--latest", env={**no_dir, "DATABASE_PATH": str(db)})
    assert restored.returncode == 0, restored.stderr
    assert dump(db, "alerts") == at_backup
    assert not (elsewhere / "data").exists()


def test_after_a_restore_the_health_page_knows_the_last_backup(tmp_path):
    make_app(tmp_path).engine.dispose()
    assert run_jack(tmp_path, "backup", "create").returncode == 0
    [backup] = local_backups(tmp_path)
    assert run_jack(tmp_path, "restore", "--latest").returncode == 0
    app = make_app(tmp_path)
    try:
        status = BackupService.of(app).status()
    finally:
        app.engine.dispose()
    taken = json.loads(backup.with_name(backup.name + ".json").read_text())
    assert status["last_success_key"] == backup.name
    assert status["stale"] is False, status
    assert status["last_success_at"] is not None and taken["sha256"]


def test_a_backup_folder_that_is_a_file_is_a_one_line_error(tmp_path):
    make_app(tmp_path).engine.dispose()
    not_a_folder = tmp_path / "backups-file"
    not_a_folder.write_text("oops")
    env = {"BACKUP_DIR": str(not_a_folder)}
    created = run_jack(tmp_path, "backup", "create", env=env)
    assert created.returncode != 0
    assert "Traceback" not in created.stderr
    assert f"BACKUP_DIR {not_a_folder} is a file, not a folder" in created.stderr
    listed = run_jack(tmp_path, "backup", "list", env=env)
    assert f"local: ERROR: BackupError: BACKUP_DIR {not_a_folder} is a file, not a folder" in listed.stdout


@pytest.mark.parametrize("command", [["backup", "verify"], ["restore"]])
def test_verify_and_restore_say_which_argument_is_missing(tmp_path, command):
    neither = run_jack(tmp_path, *command)
    assert neither.returncode == 2
    assert neither.stderr.strip() == (
        f"error: say which backup: give a backup FILE or --latest (e.g. `jack {' '.join(command)} --latest`)"
    )
    both = run_jack(tmp_path, *command, "some.db", "--latest")
    assert both.returncode == 2
    assert both.stderr.strip() == "error: give a backup FILE or --latest, not both"


def test_restore_refuses_while_a_server_runs_on_the_database(tmp_path):
    make_app(tmp_path).engine.dispose()
    assert run_jack(tmp_path, "backup", "create").returncode == 0
    with JackProcess(tmp_path) as jack:
        result = run_jack(tmp_path, "restore", "--latest")
        assert result.returncode == 5
        assert f"Jack is running on {db_path(tmp_path)} (pid {jack.process.pid})" in result.stderr
        assert "docker stop jack" in result.stderr
        assert httpx.get(jack.url + "/health", timeout=5).status_code == 200
    result = run_jack(tmp_path, "restore", "--latest")
    assert result.returncode == 0, result.stderr


def test_server_lock_is_exclusive_and_released(tmp_path):
    db = db_path(tmp_path)
    first, second = ServerLock(db), ServerLock(db)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert second.holder_pid() == os.getpid()
    first.release()
    assert second.try_acquire()
    second.release()


def test_postgres_is_refused_with_a_pointer_to_pg_dump(tmp_path):
    env = {"DATABASE_URL": "postgresql://jack:pw@127.0.0.1:1/jack"}
    for args in (("backup", "create"), ("restore", "--latest"), ("backup", "drill")):
        result = run_jack(tmp_path, *args, env=env)
        assert result.returncode == 2
        assert "pg_dump" in result.stderr
        assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- retention


def stored(key: str, when: dt.datetime) -> StoredBackup:
    return StoredBackup(destination="local", key=key, size=1, created_at=when, location=key)


def test_retention_keeps_recent_days_and_weekly_and_monthly_copies():
    # One backup a day at noon for 120 days, the newest on Tuesday 30 June 2026.
    now = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
    backups = [stored(f"jack-{now - dt.timedelta(days=i):%Y-%m-%d}.db", now - dt.timedelta(days=i)) for i in range(120)]
    every = {b.key for b in backups}

    def kept(**policy: int) -> set[str]:
        expired = expired_backups(backups, now, **policy)
        assert len(expired) == len({b.key for b in expired}), "a backup was listed twice for removal"
        return every - {b.key for b in expired}

    def days(*dates: str) -> set[str]:
        return {f"jack-{date}.db" for date in dates}

    # days=7: the cutoff is 23 June 12:00, and a backup made exactly then is kept.
    last_week = days("2026-06-30", "2026-06-29", "2026-06-28", "2026-06-27", "2026-06-26", "2026-06-25", "2026-06-24", "2026-06-23")
    # weekly=4: the newest backup of ISO weeks 27 (30 June), 26 (28 June, already kept), 25 and 24 (Sundays).
    weekly = days("2026-06-21", "2026-06-14")
    # monthly=3: the newest backup of June (30 June, already kept), May and April.
    monthly = days("2026-05-31", "2026-04-30")

    assert kept(days=7) == last_week
    assert kept(days=7, weekly=4) == last_week | weekly
    assert kept(days=7, monthly=3) == last_week | monthly
    assert kept(days=7, weekly=4, monthly=3) == last_week | weekly | monthly
    # days=30 keeps 31 May 12:00 onwards; of the 8 newest weeks (27 down to 20) only weeks 21 and 20
    # end before that, and of the 4 newest months only April and March.
    last_month = {b.key for b in backups[:31]}
    assert kept(days=30) == last_month
    assert kept(days=30, weekly=8, monthly=4) == last_month | days("2026-05-24", "2026-05-17") | days("2026-04-30", "2026-03-31")


def test_retention_never_removes_the_newest_backup():
    now = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)
    old = [stored("jack-a.db", now - dt.timedelta(days=90)), stored("jack-b.db", now - dt.timedelta(days=100))]
    assert [b.key for b in expired_backups(old, now, days=30)] == ["jack-b.db"]


def test_retention_at_the_local_folder_deletes_only_expired_files(tmp_path):
    app = make_app(tmp_path, env={"BACKUP_RETENTION_DAYS": "7"})
    for _ in range(3):
        assert app.services.backups.create().ok
    local = app.backup_destinations["local"]
    files = local_backups(tmp_path)
    old = files[0]
    sidecar = old.with_name(old.name + ".json")
    meta = json.loads(sidecar.read_text())
    meta["created_at"] = "2000-01-01T00:00:00+00:00"
    sidecar.write_text(json.dumps(meta))
    removed = app.services.backups.apply_retention_at(local)
    assert removed == [old.name]
    assert not old.exists() and not sidecar.exists()
    assert local_backups(tmp_path) == files[1:]
    app.engine.dispose()


# --------------------------------------------------------------------------- schedule, RPO, health


def test_next_run_daily_in_the_hotel_time_zone_and_catch_up():
    from zoneinfo import ZoneInfo

    lisbon = ZoneInfo("Europe/Lisbon")
    now = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)  # 11:00 in Lisbon (summer time)
    due = next_run(now, now - dt.timedelta(hours=7), interval_hours=0, schedule_time="03:00", tz=lisbon)
    assert due == dt.datetime(2026, 7, 2, 2, 0, tzinfo=dt.UTC)
    missed = next_run(now, now - dt.timedelta(days=3), interval_hours=0, schedule_time="03:00", tz=lisbon)
    assert missed == now
    assert next_run(now, None, interval_hours=0, schedule_time="off", tz=lisbon) is None
    every_6h = next_run(now, now - dt.timedelta(hours=1), interval_hours=6, schedule_time="03:00", tz=lisbon)
    assert every_6h == now + dt.timedelta(hours=5)


def test_jack_startup_runs_scheduled_backups_and_health_shows_their_age(tmp_path):
    app = make_app(tmp_path, env={"BACKUP_INTERVAL_HOURS": "0.0003"})  # about a second
    with running_app(app) as url:
        wait_until(lambda: len(local_backups(tmp_path)) >= 2, timeout=30, what="two scheduled backups")

        def backups_in_health() -> dict:
            return httpx.get(url + "/health", timeout=5).json()["backups"]

        # /health is rebuilt in the background every HEALTH_REFRESH_SECONDS: wait for a build after the backups.
        wait_until(lambda: backups_in_health().get("destinations", {}).get("local", {}).get("status") == "stored",
                   timeout=15, what="the scheduled backups in /health")
        health = backups_in_health()
        metrics = httpx.get(url + "/metrics", timeout=5).text
    assert health["last_success_age_seconds"] is not None and health["last_success_age_seconds"] < 60
    assert health["stale"] is False
    assert health["destinations"]["local"]["status"] == "stored"
    assert "jack_backup_last_success_age_seconds" in metrics
    assert 'jack_backup_destination_last_ok{destination="local"} 1.0' in metrics
    app.engine.dispose()


async def test_a_backup_older_than_the_rpo_raises_an_alert_once_and_resolves(tmp_path):
    app = make_app(tmp_path, env={"BACKUP_RPO_HOURS": "24"})
    scheduler = BackupScheduler(app, app.services.backups)
    write_state(app.engine, STATE_LAST_SUCCESS, {"at": iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))})
    assert await scheduler.check_rpo()
    assert await scheduler.check_rpo()

    def stale_alerts() -> list[AlertRecord]:
        with Session(app.engine) as session:
            return list(session.exec(select(AlertRecord).where(AlertRecord.name == "backup.stale")).all())

    [alert] = stale_alerts()
    assert alert.severity == "critical" and "30.0 hours old" in alert.summary
    assert app.services.backups.status()["stale"] is True
    await asyncio.to_thread(app.services.backups.create)
    assert not await scheduler.check_rpo()
    assert [a.resolved for a in stale_alerts()] == [False, True]
    app.engine.dispose()


# --------------------------------------------------------------------------- drill and hooks


def test_drill_records_its_result_for_health_and_doctor(tmp_path):
    app = make_app(tmp_path)
    add_alert_rows(db_path(tmp_path), 50, "d")
    app.services.backups.create()
    result = run_drill(app.services.backups, "local")
    assert result.ok, result.problems
    counts = {t.table: (t.backup, t.live) for t in result.tables}
    assert counts["alerts"][0] == 50
    assert result.rto_seconds > 0
    status = app.services.backups.status()
    assert status["last_drill"]["ok"] is True
    assert status["last_successful_drill_at"]
    checks = {c.name: c for c in app.hooks.doctor_checks(app)}
    assert checks["a recovery drill in the last quarter"].ok
    assert checks["a backup within the RPO (24 h)"].ok
    app.engine.dispose()


def test_jack_health_extras_reports_backups_before_any_backup(tmp_path):
    app = make_app(tmp_path)
    extras = app.hooks.health_extras(app)["backups"]
    assert extras["last_success_at"] is None and extras["stale"] is True
    assert set(extras["destinations"]) == {"local"}
    app.engine.dispose()


def test_jack_doctor_checks_warn_without_backups_or_off_site_copy(tmp_path):
    app = make_app(tmp_path)
    checks = {c.name: c for c in app.hooks.doctor_checks(app)}
    assert not checks["a backup within the RPO (24 h)"].ok
    assert not checks["an off-site backup copy is configured"].ok
    app.engine.dispose()


def test_jack_before_migrations_takes_a_backup_of_an_existing_database(tmp_path):
    app = make_app(tmp_path)
    app.hooks.before_migrations(app, ["staff_0002_next"])
    [backup] = local_backups(tmp_path)
    assert backup.name.endswith("-pre-migration.db")
    assert verify_file(backup).ok
    app.engine.dispose()


def test_jack_serve_backs_up_an_older_database_before_migrating_it(tmp_path):
    from alembic import command

    from jack_host.testing import JackProcess

    app = make_app(tmp_path, migrate=False)
    config = app.migrations.config
    with app.engine.begin() as connection:  # a database from an older Jack: only the first revision
        config.attributes["connection"] = connection
        command.upgrade(config, "host_0001")
    app.engine.dispose()

    with JackProcess(tmp_path) as jack:
        pass
    [backup] = local_backups(tmp_path)
    assert backup.name.endswith("-pre-migration.db")
    assert verify_file(backup).ok
    assert "Applied" in jack.output() and "conversations_0001" in jack.output()


def test_jack_before_migrations_skips_a_new_database(tmp_path):
    result = run_jack(tmp_path, "db", "migrate")
    assert result.returncode == 0, result.stderr
    assert local_backups(tmp_path) == []
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    app = make_app(fresh, migrate=False)
    app.hooks.before_migrations(app, ["host_0001"])
    assert local_backups(fresh) == []
    app.engine.dispose()


def test_jack_register_commands_adds_backup_and_restore_with_examples(tmp_path):
    for args in (("backup", "--help"), ("backup", "create", "--help"), ("restore", "--help"), ("backup", "drill", "--help")):
        result = run_jack(tmp_path, *args)
        assert result.returncode == 0
        assert "Example" in result.stdout


#: A destination plugin whose bucket refuses everything, loaded by ``jack`` through JACK_EXTRA_PLUGINS.
REFUSING_DESTINATION = """
from jack_host import hookimpl
from jack_host.contract.interfaces import BackupDestination, BackupError, ComponentHealth


class Refusing(BackupDestination):
    name = "offsite"

    async def health(self):
        return ComponentHealth.error("bucket refuses us")

    def store(self, path, key, metadata):
        raise BackupError(f"upload of {key} refused: 403 Forbidden")

    def list(self):
        raise BackupError("listing the bucket refused: 403 Forbidden")

    def fetch(self, key, target):
        raise BackupError("download refused: 403 Forbidden")

    def delete(self, key):
        raise BackupError("delete refused: 403 Forbidden")


@hookimpl
def jack_register_backup_destinations(register, app):
    register(Refusing())
"""


def test_backup_list_shows_backups_and_a_failing_destination(tmp_path):
    make_app(tmp_path).engine.dispose()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "refusing_destination.py").write_text(REFUSING_DESTINATION)
    env = {"JACK_EXTRA_PLUGINS": "refusing_destination", "PYTHONPATH": str(plugins)}

    created = run_jack(tmp_path, "backup", "create", env=env)
    assert created.returncode == 4, created.stderr  # stored, but not everywhere
    [backup] = local_backups(tmp_path)
    assert f"offsite: FAILED: BackupError: upload of {backup.name} refused: 403 Forbidden (alert raised)" in created.stderr
    assert "stored at local." in created.stdout

    listed = run_jack(tmp_path, "backup", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if "jack-" in line and "FAILED" not in line]
    assert "local" in line and "integrity_check ok" in line and "KB" in line and backup.name in line
    lines = listed.stdout.splitlines()
    assert "offsite: ERROR: BackupError: listing the bucket refused: 403 Forbidden" in lines
    [failed] = [line for line in lines if line.startswith("offsite: the last backup (")]
    assert failed.endswith(f") FAILED here: BackupError: upload of {backup.name} refused: 403 Forbidden")

    as_json = run_jack(tmp_path, "backup", "list", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    assert [(b["destination"], b["key"]) for b in payload["backups"]] == [("local", backup.name)]
    assert payload["errors"]["offsite"] == "BackupError: listing the bucket refused: 403 Forbidden"
    assert "local" not in payload["errors"]  # (an installed, unconfigured s3 plugin is listed there too)
    assert payload["last_results"]["offsite"]["status"] == "failed"
    assert payload["last_results"]["local"]["status"] == "stored"

    # Without the plugin, the local backup is listed and nothing is reported as failing.
    plain = run_jack(tmp_path, "backup", "list")
    assert plain.returncode == 0, plain.stderr
    assert "ERROR" not in plain.stdout and backup.name in plain.stdout


def test_jack_shutdown_releases_the_server_lock(tmp_path):
    app = make_app(tmp_path)
    lock = ServerLock(db_path(tmp_path))
    with running_app(app):
        assert not lock.try_acquire()
    assert lock.try_acquire()
    lock.release()
    app.engine.dispose()


def test_jack_register_backup_destinations_adds_the_local_folder(tmp_path):
    app = make_app(tmp_path, env={"BACKUP_DIR": str(tmp_path / "elsewhere")})
    local = app.backup_destinations["local"]
    assert asyncio.run(local.health()).state == "connected"
    run = app.services.backups.create()
    assert run.stored[0].location == str(tmp_path / "elsewhere" / run.key)
    fetched = local.fetch(run.key, tmp_path / "fetched.db")
    assert verify_file(fetched, run.checksum).ok
    app.engine.dispose()


def test_jack_settings_validators_reject_a_bad_schedule_in_one_line(tmp_path):
    result = run_jack(tmp_path, "config", "check", env={"BACKUP_SCHEDULE_TIME": "3am", "HOTEL_TIMEZONE": "Mars/Base"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "error: BACKUP_SCHEDULE_TIME=3am: expected a local time like 03:00, or off" in lines
    assert any(line.startswith("error: HOTEL_TIMEZONE=Mars/Base") for line in lines)


def test_jack_add_routes_serves_backup_metrics(tmp_path):
    app = make_app(tmp_path)
    with running_app(app) as url:
        text = httpx.get(url + "/metrics", timeout=5).text
    assert "jack_backup_last_success_age_seconds -1.0" in text
    assert "jack_backup_stale 1.0" in text
    app.engine.dispose()
