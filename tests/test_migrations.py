"""Migrations owned by their features: order, per-feature status, old databases adopted in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from jack_host.testing import JackProcess, make_app, run_jack

FEATURE_HEADS = {"alerts_0002", "app_settings_0001", "audit_0001", "conversations_0003", "costs_0001", "email_0001", "knowledge_0001", "sms_0001",
                 "staff_0002", "webchat_0001"}


def row_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'knowledge_fts%'")]
        return {table: con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables if table != "alembic_version"}
    finally:
        con.close()


def versions(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT version_num FROM alembic_version")}
    finally:
        con.close()


def test_a_new_database_gets_every_feature_in_dependency_order(tmp_path):
    migrated = run_jack(tmp_path, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == (
        "Applied 15 migration(s): host_0001, alerts_0001, alerts_0002, app_settings_0001, audit_0001, conversations_0001, conversations_0002, conversations_0003, costs_0001, email_0001, knowledge_0001, sms_0001,"
        " staff_0001, staff_0002, webchat_0001"
    )
    status = run_jack(tmp_path, "db", "status").stdout.splitlines()
    lines = {line.split()[0]: line.split()[1:] for line in status[1:-1]}
    assert lines == {
        "host": ["host_0001", "up", "to", "date"],
        "alerts": ["alerts_0002", "up", "to", "date"],
        "app_settings": ["app_settings_0001", "up", "to", "date"],
        "audit": ["audit_0001", "up", "to", "date"],
        "conversations": ["conversations_0003", "up", "to", "date"],
        "costs": ["costs_0001", "up", "to", "date"],
        "channel_email": ["email_0001", "up", "to", "date"],
        "knowledge": ["knowledge_0001", "up", "to", "date"],
        "channel_sms": ["sms_0001", "up", "to", "date"],
        "staff": ["staff_0002", "up", "to", "date"],
        "channel_webchat": ["webchat_0001", "up", "to", "date"],
    }
    assert status[-1] == "pending:  none"


def test_a_database_made_by_jack_0_1_upgrades_in_place_with_no_data_lost(tmp_path, fixtures):
    database = tmp_path / "data" / "jack.db"
    database.parent.mkdir()
    con = sqlite3.connect(database)
    con.executescript((fixtures / "jack-0.1-database.sql").read_text())
    con.close()
    before = row_counts(database)
    assert versions(database) == {"0002_conversations", "0002_webchat_sessions", "0003_costs", "0005_staff"}
    assert all(before.values()), before  # the fixture holds data in every table

    status = run_jack(tmp_path, "db", "status")
    # only the SMS plugin's tables are new (0.1 kept its opt-outs and keyword messages in jack_state),
    # and staff_0002 adds the sign-in counters and the token version; conversations_0002 folds split guests (none here)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == "pending:  alerts_0002, app_settings_0001, audit_0001, conversations_0002, conversations_0003, email_0001, sms_0001, staff_0002  (run `jack db migrate`)", status.stdout

    migrated = run_jack(tmp_path, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert versions(database) == FEATURE_HEADS
    after = row_counts(database)
    # sms_0001 moved the fixture's one sms.keyword.* row; the pre-migration backup wrote backups.* state
    assert (after.pop("sms_keyword_events"), after.pop("sms_opt_outs")) == (1, 0)
    assert after.pop("email_messages") == 0  # email_0001: the e-mail channel's new, empty thread index
    assert after.pop("staff_login_counters") == 0  # staff_0002: sign-in attempts, counted in the database
    assert (after.pop("alert_incidents"), after.pop("alert_deliveries")) == (0, 0)  # alerts_0002: alert state and pages
    assert after.pop("staff_notes") == 0  # conversations_0003: the dashboard's private staff notes, new and empty
    # app_settings_0001 and audit_0001: the dashboard's settings and the audit log, new and empty
    assert (after.pop("app_settings"), after.pop("app_settings_key"), after.pop("audit_log")) == (0, 0, 0)
    con = sqlite3.connect(database)
    assert [r[0] for r in con.execute("SELECT key FROM jack_state WHERE key LIKE 'sms.%'")] == []
    con.close()
    assert {k: v for k, v in after.items() if k != "jack_state"} == {k: v for k, v in before.items() if k != "jack_state"}
    again = run_jack(tmp_path, "db", "status").stdout
    assert "pending:  none" in again and "not created" not in again

    found = run_jack(tmp_path, "kb", "search", "parking", "garage")
    assert "Parking" in found.stdout and "confident" in found.stdout
    with JackProcess(tmp_path) as jack:
        pass
    assert "Applied" not in jack.output()
    con = sqlite3.connect(database)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT name FROM hotel_profile").fetchone()[0] == "Hotel Mirador"


def test_a_disabled_plugin_keeps_its_tables_and_its_revision(tmp_path):
    assert run_jack(tmp_path, "db", "migrate").returncode == 0
    database = tmp_path / "data" / "jack.db"
    env = {"JACK_DISABLED_PLUGINS": "channel_webchat"}
    status = run_jack(tmp_path, "db", "status", env=env)
    assert status.returncode == 0 and "channel_webchat" not in status.stdout and "pending:  none" in status.stdout

    app = make_app(tmp_path, env={**env, "DATABASE_PATH": str(database)}, load_entrypoints=True)
    assert "webchat_0001" not in app.migrations.ordered()
    app.engine.dispose()
    assert "webchat_0001" in versions(database)
    assert "webchat_sessions" in row_counts(database)


def test_a_plugin_enabled_later_gets_its_tables_then(tmp_path):
    first = run_jack(tmp_path, "db", "migrate", env={"JACK_DISABLED_PLUGINS": "channel_webchat"})
    assert "webchat_0001" not in first.stdout
    database = tmp_path / "data" / "jack.db"
    assert "webchat_sessions" not in row_counts(database)
    later = run_jack(tmp_path, "db", "migrate")
    assert later.stdout.splitlines()[-1] == "Applied 1 migration(s): webchat_0001"
    assert "Backed up the database before migrating" in later.stdout
    assert "webchat_sessions" in row_counts(database)


def test_an_old_database_is_adopted_feature_by_feature_when_a_plugin_is_off(tmp_path, fixtures):
    database = tmp_path / "data" / "jack.db"
    database.parent.mkdir()
    con = sqlite3.connect(database)
    con.executescript((fixtures / "jack-0.1-database.sql").read_text())
    con.close()
    off = run_jack(tmp_path, "db", "migrate", env={"JACK_DISABLED_PLUGINS": "channel_webchat"})
    assert off.returncode == 0, off.stderr
    assert versions(database) == (FEATURE_HEADS - {"webchat_0001"}) | {"0002_webchat_sessions"}
    on = run_jack(tmp_path, "db", "migrate")
    assert on.returncode == 0 and "webchat_0001" not in on.stdout, on.stdout + on.stderr
    assert versions(database) == FEATURE_HEADS
