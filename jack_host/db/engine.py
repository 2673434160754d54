"""The database: engine, SQLite pragmas, integrity check and migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

if TYPE_CHECKING:
    from jack_host.config.settings import Settings

log = logging.getLogger("jack.db")
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 5000


#: Up to this size the start runs ``PRAGMA integrity_check`` (which also compares every index
#: with its table: 1.2-1.5 s for a 51 MB file on a loaded 2-core box, quick_check 0.1-0.2 s);
#: bigger files get the faster ``quick_check``.
INTEGRITY_CHECK_MAX_BYTES = 200 * 1024 * 1024


class DatabaseCorruptError(RuntimeError):
    """The SQLite file failed ``PRAGMA integrity_check`` or ``quick_check``; the message says how to restore."""


class DatabaseEmptyError(RuntimeError):
    """The SQLite file exists but is empty (0 bytes): the data is gone, not yet to be created."""


class DatabaseConfigError(RuntimeError):
    """``DATABASE_PATH`` or ``DATABASE_URL`` cannot be used."""


class DatabaseNotWritableError(RuntimeError):
    """The SQLite file or its folder cannot be written by this user: a permission problem, not damage."""


def current_user() -> str:
    """This process's user name (``uid 1000`` when the user has no name, as in some containers)."""
    import pwd  # POSIX only; the name is only needed for a message

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def check_writable(path: Path) -> None:
    """Raise :class:`DatabaseNotWritableError` when this user cannot write the database at ``path``.

    SQLite in WAL mode writes the file and creates ``<name>-wal`` and ``<name>-shm`` beside it,
    so the folder must be writable too.  A folder that does not exist yet is left to
    :func:`make_engine`, which creates it or says why not.
    """
    folder = path.parent
    user = current_user()
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseNotWritableError(
            f"The database file {path} is not writable by user {user} (a permission problem, not damage: "
            f"do not restore it). Give {user} write access, e.g. `chown {user} {path}`, then start Jack again."
        )
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        what = "SQLite keeps its -wal and -shm files beside the database" if path.exists() else "the database is created there"
        raise DatabaseNotWritableError(
            f"The folder {folder} is not writable by user {user} ({what}; a permission problem, not damage). "
            f"Make it writable, e.g. `chown {user} {folder}`, or set DATABASE_PATH to a file in a writable folder."
        )


def write_problem(engine: Engine) -> str | None:
    """A cheap write probe: ``None`` when the database takes writes, else why not (one line).

    SQLite: permissions first, then a table created and rolled back in its own connection, which
    fails on a read-only file or mount although reads and ``BEGIN IMMEDIATE`` still succeed.
    A busy database (another writer holds the lock) counts as writable.  Other databases: ``None``.
    """
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    path = Path(engine.url.database)
    try:
        check_writable(path)
    except DatabaseNotWritableError as exc:
        return str(exc)
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("CREATE TABLE jack_write_probe (x INTEGER)")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None
        return f"the database {path} cannot be written: {exc} (user {current_user()})"
    except sqlite3.DatabaseError as exc:
        return f"the database {path} cannot be written: {exc}"
    return None


def database_url(settings: Settings) -> str:
    url = str(settings.get("DATABASE_URL") or "").strip()
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return url
    return f"sqlite:///{sqlite_path(settings)}"


def sqlite_path(settings: Settings) -> Path:
    return Path(str(settings.get("DATABASE_PATH") or "./data/jack.db")).expanduser()


def is_sqlite(settings: Settings) -> bool:
    return database_url(settings).startswith("sqlite")


def make_engine(settings: Settings) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    url = database_url(settings)
    if url.startswith("sqlite"):
        path = sqlite_path(settings)
        _make_data_folder(path)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=10,
            max_overflow=20,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise DatabaseConfigError(
            f"DATABASE_URL needs the database driver '{exc.name}', which is not installed: "
            "pip install 'jack-host[postgres]' (PostgreSQL), or unset DATABASE_URL to use SQLite in DATABASE_PATH"
        ) from None


def _make_data_folder(path: Path) -> None:
    """Create the database's missing folder, except a new top-level folder of the file system.

    The deployment document's ``DATABASE_PATH=/app/data/jack.db`` is meant for the container; used
    outside it, Jack says what is missing instead of creating ``/app`` on the host.  Below the
    current folder, or inside any existing folder but ``/`` (``/srv/jack/data`` when ``/srv``
    exists), the missing folders are made.
    """
    folder = path.parent
    if folder.is_dir():
        return
    absolute = folder.absolute()
    existing = next(parent for parent in absolute.parents if parent.is_dir())
    if not absolute.is_relative_to(Path.cwd()) and existing == Path(absolute.anchor):
        top = absolute.relative_to(existing).parts[0]
        raise DatabaseConfigError(
            f"DATABASE_PATH={path}: the folder {existing / top} does not exist (that path is the container's; "
            f"outside Docker Jack does not create top-level folders): create it (mkdir -p {folder}), "
            "or set DATABASE_PATH to a file in an existing folder (the default is ./data/jack.db)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = f"not writable by user {current_user()}" if exc.errno in (1, 13, 30) else exc.strerror
        raise DatabaseConfigError(f"DATABASE_PATH={path}: cannot create the folder {folder} ({reason})") from None


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Hot-path tuning: a 16 MB page cache per connection (the default 2 MB is re-read from
    # disk under 20 concurrent conversations), temporary b-trees (ORDER BY, FTS5 ranking) in
    # memory, and reads through a 64 MB memory map instead of read() calls.
    cursor.execute("PRAGMA cache_size=-16000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA mmap_size=67108864")
    cursor.close()


def quick_check(path: Path) -> None:
    """Raise :class:`DatabaseCorruptError` unless the SQLite file at ``path`` passes ``quick_check``.

    A missing or empty file is fine here (see :func:`check_integrity` for the start-up check).
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    _run_check(path, "quick_check")


def check_integrity(path: Path) -> str:
    """The start-up check of the SQLite file at ``path``; returns the check that ran.

    ``integrity_check`` when the file is under :data:`INTEGRITY_CHECK_MAX_BYTES` (it finds an
    index that disagrees with its table, which ``quick_check`` misses), ``quick_check`` above.
    A missing file is fine (``"none"``): the first migration creates it.

    :raises DatabaseEmptyError: the file is there but holds 0 bytes.
    :raises DatabaseCorruptError: the check found damage.
    """
    if not path.exists():
        return "none"
    size = path.stat().st_size
    if size == 0:
        raise DatabaseEmptyError(f"The database file {path} is empty (0 bytes): the data it held is gone.")
    pragma = "integrity_check" if size < INTEGRITY_CHECK_MAX_BYTES else "quick_check"
    _run_check(path, pragma)
    return pragma


def _run_check(path: Path, pragma: str) -> None:
    restore_hint = (
        f"The database file {path} is damaged. Jack will not start on it. "
        "Restore the latest good backup with `jack restore --latest` "
        "(or copy a backup over the file while Jack is stopped), then start Jack again."
    )
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            rows = connection.execute(f"PRAGMA {pragma}").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorruptError(f"{restore_hint} (SQLite says: {exc})") from None
    problems = [row[0] for row in rows if row and row[0] != "ok"]
    if problems:
        raise DatabaseCorruptError(f"{restore_hint} ({pragma}: {'; '.join(problems[:3])})")


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any driver error means "not connected"
        log.warning("database ping failed: %s", exc)
        return False
