"""A throwaway PostgreSQL server on loopback, for tests that run Jack on ``DATABASE_URL``.

Uses the machine's PostgreSQL binaries (Debian's ``postgresql`` package keeps them in
``/usr/lib/postgresql/<version>/bin``); the cluster lives in a temporary folder, listens
on a free loopback port and trusts local connections::

    with PostgresServer() as pg:
        app = make_app(tmp_path, env={"DATABASE_URL": pg.create_database("jack")})

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
(its folder is a fresh one under the system's temporary folder, which that user can reach).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from jack_host.testing import wait_until
from jack_host.testing.loopback import free_port


def find_bin(name: str) -> str | None:
    """Path of a PostgreSQL program (``initdb``, ``pg_ctl``, ``createdb``), newest version first."""
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    return shutil.which(name)


def available() -> bool:
    return all(find_bin(name) for name in ("initdb", "pg_ctl", "createdb"))


class PostgresServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="jack-postgres-"))
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)

    def __enter__(self) -> PostgresServer:
        data = self.folder / "data"
        data.mkdir(parents=True)
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(data, "postgres")
        self._run(find_bin("initdb") or "initdb", "-D", str(data), "-A", "trust", "-U", "jack", "--no-sync")
        self._run(
            find_bin("pg_ctl") or "pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-w",
            "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        )
        wait_until(lambda: (data / "postmaster.pid").exists(), timeout=30, what="PostgreSQL start")
        return self

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns its SQLAlchemy URL."""
        self._run(find_bin("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "jack", name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://jack@127.0.0.1:{self.port}/{name}"

    def __exit__(self, *exc: object) -> None:
        try:
            self._run(find_bin("pg_ctl") or "pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
