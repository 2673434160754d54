"""Time `jack backup create` and `jack restore` on a 1 GB database.

Builds a database with Jack's schema (`jack db migrate`) plus filler rows in the
``alerts`` table up to the target size, in a temporary folder, then runs the real
commands and prints the wall-clock time of each.

    .venv/bin/python benchmarks/backup_restore.py            # 1 GB
    .venv/bin/python benchmarks/backup_restore.py --mb 200   # quicker
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def jack() -> str:
    candidate = Path(sys.executable).with_name("jack")
    return str(candidate) if candidate.exists() else "jack"


def run(folder: Path, *args: str) -> float:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(folder)),
        "JACK_CONFIG_DIR": str(folder),
        "DATABASE_PATH": str(folder / "data" / "jack.db"),
        "BACKUP_DIR": str(folder / "data" / "backups"),
        "JACK_DISABLED_PLUGINS": "backup_s3",
        "LOG_LEVEL": "warning",
    }
    started = time.perf_counter()
    result = subprocess.run([jack(), *args], cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"jack {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    print(result.stdout.rstrip())
    return seconds


def build(db: Path, megabytes: int) -> None:
    """Fill ``alerts`` with ~4 KB rows of text (varied, so nothing compresses away) up to the size."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    words = ["".join(random.choices(string.ascii_lowercase, k=random.randint(3, 9))) for _ in range(5000)]
    row = 0
    target = megabytes * 1024 * 1024
    while db.stat().st_size < target:
        batch = []
        for _ in range(5000):
            text = " ".join(random.choices(words, k=650))
            batch.append((f"bench.{row}", "info", text[:200], f'{{"text": "{text}"}}', f"k{row % 1000}"))
            row += 1
        with con:
            con.executemany(
                "INSERT INTO alerts (name, severity, summary, details, dedup_key, delivered_to, delivery_error,"
                " resolved, created_at) VALUES (?, ?, ?, ?, ?, '', '', 0, '2026-01-01 00:00:00')",
                batch,
            )
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print(f"built {db}: {db.stat().st_size / 2**20:.0f} MB, {row} filler rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=1024, help="database size in MB (default 1024)")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jack-bench-", dir=args.dir) as name:
        folder = Path(name)
        run(folder, "db", "migrate")
        db = folder / "data" / "jack.db"
        started = time.perf_counter()
        build(db, args.mb)
        print(f"build: {time.perf_counter() - started:.1f}s")
        create = run(folder, "backup", "create")
        verify = run(folder, "backup", "verify", "--latest")
        restore = run(folder, "restore", "--latest")
        size = db.stat().st_size / 2**20
        print()
        print(f"database size:                     {size:.0f} MB")
        print(f"jack backup create:                {create:.1f}s")
        print(f"jack backup verify --latest:       {verify:.1f}s")
        print(f"jack restore --latest (+ verify):  {restore:.1f}s")


if __name__ == "__main__":
    main()
