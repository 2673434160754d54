"""The start refuses an emptied or index-corrupt SQLite file, with the restore hint (issue 11, defect 7)."""

from __future__ import annotations

import sqlite3

from jack_host.testing import run_jack

PAGE = 4096


def migrated(tmp_path):
    result = run_jack(tmp_path, "db", "migrate")
    assert result.returncode == 0, result.stderr
    return tmp_path / "data" / "jack.db"


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_an_emptied_database_is_refused_until_restored_or_initialised(tmp_path):
    database = migrated(tmp_path)
    backup = run_jack(tmp_path, "backup", "create")
    assert backup.returncode == 0, backup.stderr
    database.write_bytes(b"")  # the file is still there, with nothing in it

    for command in (("serve",), ("db", "migrate")):
        refused = run_jack(tmp_path, *command, timeout=60)
        assert refused.returncode == 3, (command, refused.stdout, refused.stderr)
        line = one_error_line(refused)
        assert "is empty (0 bytes)" in line and "`jack restore --latest`" in line and "jack-" in line
        assert "`jack db migrate --init`" in line
        assert database.stat().st_size == 0  # nothing was written to it

    init = run_jack(tmp_path, "db", "migrate", "--init")
    assert init.returncode == 0, init.stderr
    assert init.stdout.startswith("Applied ") and "host_0001" in init.stdout and database.stat().st_size > 0


def test_an_empty_database_without_backups_still_needs_init(tmp_path):
    database = tmp_path / "data" / "jack.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"")
    refused = run_jack(tmp_path, "db", "migrate")
    assert refused.returncode == 3
    assert "No backup was found" in one_error_line(refused) and "`jack db migrate --init`" in refused.stderr


def test_one_flipped_byte_in_the_last_index_page_is_refused(tmp_path):
    database = migrated(tmp_path)
    with sqlite3.connect(database) as connection:
        for i in range(1, 65):  # enough rows that the key index of jack_state takes the last page
            connection.execute("INSERT INTO jack_state (key, value, updated_at) VALUES (?, '1', '2026-01-01')",
                               (f"guest-note-{i:05d}-" + "k" * 40,))
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(database.read_bytes())
    last_page = len(data) - PAGE
    assert data[last_page] == 0x0A  # a leaf page of an index b-tree
    at = data.rindex(b"-" + b"k" * 40, last_page)
    data[at + 40] ^= 0x01  # one key in the index now disagrees with its row
    database.write_bytes(data)
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA quick_check").fetchall() == [("ok",)]  # what the start used to run

    refused = run_jack(tmp_path, "serve", timeout=60)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    line = one_error_line(refused)
    assert "is damaged" in line and "`jack restore --latest`" in line
    assert "integrity_check: row" in line and "missing from index sqlite_autoindex_jack_state_1" in line

    doctor = run_jack(tmp_path, "doctor")  # runs the same check as the start
    assert doctor.returncode == 1
    assert "NOT OK  database integrity" in doctor.stdout and "missing from index" in doctor.stdout
