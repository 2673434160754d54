"""The backup_s3 plugin against a real HTTP S3 endpoint (moto's server on loopback)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3

import jack_backup_s3.plugin
from sqlmodel import Session, select

from jack_host.builtin.alerts.models import AlertRecord
from jack_host.builtin.backups.drill import run_drill
from jack_host.testing import free_port, make_app, run_jack

PLUGIN = [("backup_s3", jack_backup_s3.plugin)]


def add_rows(app, count: int) -> None:
    con = sqlite3.connect(app.services.backups.database_path)
    with con:
        con.executemany(
            "INSERT INTO alerts (name, severity, summary, details, delivered_to, delivery_error, resolved, created_at)"
            " VALUES (?, 'info', 's', '{}', '', '', 0, '2026-01-01 00:00:00')",
            [(f"r{i}",) for i in range(count)],
        )
    con.close()


def objects(client, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_unconfigured_s3_is_not_configured_and_skipped_by_backup_create(tmp_path):
    app = make_app(tmp_path, plugins=PLUGIN)
    health = asyncio.run(app.backup_destinations["s3"].health())
    assert health.state == "not_configured" and "S3_BUCKET" in health.detail
    run = app.services.backups.create()
    assert {o.destination: o.status for o in run.outcomes} == {"local": "stored", "s3": "skipped"}
    assert run.alerts == []
    app.engine.dispose()


def test_backup_is_uploaded_with_checksum_and_encryption_and_listed(tmp_path, s3_env, s3_client):
    app = make_app(tmp_path, plugins=PLUGIN, env={**s3_env, "S3_SSE": "AES256"})
    assert asyncio.run(app.backup_destinations["s3"].health()).state == "connected"
    run = app.services.backups.create()
    assert [o.status for o in run.outcomes] == ["stored", "stored"]
    key = f"hotel/{run.key}"
    assert objects(s3_client, s3_env["S3_BUCKET"]) == [key]
    head = s3_client.head_object(Bucket=s3_env["S3_BUCKET"], Key=key)
    assert head["Metadata"]["sha256"] == run.checksum
    assert head["ServerSideEncryption"] == "AES256"
    [listed] = app.backup_destinations["s3"].list()
    assert listed.key == run.key and listed.checksum == run.checksum and listed.size == run.size
    app.engine.dispose()


def test_large_files_upload_in_parts(tmp_path, s3_env, s3_client):
    app = make_app(tmp_path, plugins=PLUGIN, env={**s3_env, "S3_MULTIPART_THRESHOLD_MB": "5", "S3_MULTIPART_CHUNK_MB": "5"})
    con = sqlite3.connect(app.services.backups.database_path)
    with con:
        con.execute("CREATE TABLE filler (payload BLOB)")
        con.executemany("INSERT INTO filler VALUES (?)", ((os.urandom(1 << 20),) for _ in range(12)))
    con.close()
    run = app.services.backups.create()
    assert run.ok and not run.failed
    head = s3_client.head_object(Bucket=s3_env["S3_BUCKET"], Key=f"hotel/{run.key}")
    assert "-" in head["ETag"], "a multipart upload has an ETag ending in -<parts>"
    fetched = app.backup_destinations["s3"].fetch(run.key, tmp_path / "back.db")
    assert fetched.stat().st_size == run.size
    app.engine.dispose()


def test_s3_outage_keeps_the_local_copy_and_raises_an_alert(tmp_path, s3_env):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens here: connection refused
    env = {**s3_env, "S3_ENDPOINT_URL": closed, "S3_CONNECT_TIMEOUT": "1"}
    make_app(tmp_path, plugins=PLUGIN, env=env).engine.dispose()
    result = run_jack(tmp_path, "backup", "create", env={**env, "JACK_ENABLED_PLUGINS": "backup_s3"})
    assert result.returncode == 4, result.stderr
    assert "s3: FAILED" in result.stderr and "Traceback" not in result.stderr
    local = sorted((tmp_path / "data" / "backups").glob("jack-*.db"))
    assert len(local) == 1
    app = make_app(tmp_path, plugins=PLUGIN, env=env, migrate=False)
    with Session(app.engine) as session:
        alerts = session.exec(select(AlertRecord).where(AlertRecord.name == "backup.destination_failed")).all()
    assert len(alerts) == 1 and "s3" in alerts[0].summary
    listed = run_jack(tmp_path, "backup", "list", env={**env, "JACK_ENABLED_PLUGINS": "backup_s3"})
    assert "s3: ERROR" in listed.stdout
    assert "FAILED here" in listed.stdout
    assert local[0].name in listed.stdout
    app.engine.dispose()


def test_drill_fetches_from_s3_and_detects_a_corrupted_object(tmp_path, s3_env, s3_client):
    app = make_app(tmp_path, plugins=PLUGIN, env=s3_env)
    add_rows(app, 40)
    run = app.services.backups.create()
    drill = run_drill(app.services.backups)
    assert drill.ok and drill.offsite and drill.destination == "s3", drill.problems
    assert {t.table: t.backup for t in drill.tables}["alerts"] == 40

    bucket, key = s3_env["S3_BUCKET"], f"hotel/{run.key}"
    body = bytearray(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    meta = s3_client.head_object(Bucket=bucket, Key=key)["Metadata"]
    s3_client.put_object(Bucket=bucket, Key=key, Body=bytes(body), Metadata=meta)
    failed = run_drill(app.services.backups)
    assert not failed.ok and "damaged" in failed.problems[0]
    assert failed.alerts and failed.alerts[0].name == "backup.drill_failed"
    assert app.services.backups.status()["last_successful_drill_at"] is not None
    app.engine.dispose()


def test_restore_latest_from_s3_round_trip(tmp_path, s3_env):
    env = {**s3_env, "JACK_ENABLED_PLUGINS": "backup_s3"}
    app = make_app(tmp_path, plugins=PLUGIN, env=s3_env)
    add_rows(app, 25)
    app.engine.dispose()
    assert run_jack(tmp_path, "backup", "create", env=env).returncode == 0
    (tmp_path / "data" / "backups").rename(tmp_path / "lost")  # the local copies are gone
    db = tmp_path / "data" / "jack.db"
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM alerts")
    con.close()
    result = run_jack(tmp_path, "restore", "--latest", "--from", "s3", env=env)
    assert result.returncode == 0, result.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM alerts WHERE name LIKE 'r%'").fetchone()[0] == 25
    con.close()


def test_retention_applies_off_site(tmp_path, s3_env, s3_client):
    app = make_app(tmp_path, plugins=PLUGIN, env={**s3_env, "BACKUP_RETENTION_DAYS": "30"})
    s3 = app.backup_destinations["s3"]
    old = tmp_path / "old.db"
    first = app.services.backups.create()
    (tmp_path / "data" / "backups" / first.key).rename(old)
    for days in (40, 45):
        created = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
        s3.store(old, f"jack-old-{days}.db", {"created_at": created})
    recent = app.services.backups.create()
    keys = {key.removeprefix("hotel/") for key in objects(s3_client, s3_env["S3_BUCKET"])}
    assert keys == {first.key, recent.key}
    assert [sorted(o.removed) for o in recent.outcomes if o.destination == "s3"] == [["jack-old-40.db", "jack-old-45.db"]]
    app.engine.dispose()
