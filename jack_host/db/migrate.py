"""Apply Alembic migrations programmatically (``jack db migrate`` and ``jack serve``).

Each feature owns its revisions: the host's own folder (``db/migrations/versions``) holds
``host_0001``, and every plugin hands over its folder through ``jack_register_migrations``.
A feature's first revision follows ``host_0001`` and carries the feature's branch label, so
``jack db status`` can say where each feature stands.

Databases made before the features were split (Jack 0.1's flat layout, whose revisions were
``0001_host``, ``0002_conversations``, ...) are adopted in place: a revision that holds the
schema of an old one says so with a module-level ``legacy_revision = "<old id>"``, and the
old ids in ``alembic_version`` are replaced by the new ones before anything is applied.

Revisions of a plugin that is not loaded now (disabled, uninstalled) stay in
``alembic_version`` untouched, and its tables stay as they are.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HOST_VERSIONS = MIGRATIONS_DIR / "versions"
#: Every revision of the flat layout descended from this one, so any of them implies it.
LEGACY_ROOT = "0001_host"


class MigrationError(RuntimeError):
    """The database's revisions cannot be reconciled with this Jack's; the message says why."""


@dataclass(frozen=True)
class BranchStatus:
    """Where one feature's tables stand: ``jack db status`` prints one line per branch."""

    branch: str
    current: str | None
    pending: list[str]


class Migrations:
    """The revisions of the host and every loaded plugin, as one Alembic script directory."""

    def __init__(self, folders: Iterable[Path]):
        self.folders = [HOST_VERSIONS, *(Path(f) for f in folders if Path(f) != HOST_VERSIONS)]
        self.config = Config()
        self.config.set_main_option("script_location", str(MIGRATIONS_DIR))
        self.config.set_main_option("path_separator", "os")
        self.config.set_main_option("version_locations", _join(self.folders))
        self.script = ScriptDirectory.from_config(self.config)
        self.revisions: dict[str, Script] = {rev.revision: rev for rev in self.script.walk_revisions("base", "heads")}
        self.legacy: dict[str, list[str]] = {}
        for rev in self.revisions.values():
            old = getattr(rev.module, "legacy_revision", None)
            if old:
                self.legacy.setdefault(old, []).append(rev.revision)

    # ------------------------------------------------------------------ the graph

    def parents(self, revision: str) -> list[str]:
        rev = self.revisions[revision]
        return [p for p in (*_tuple(rev.down_revision), *_tuple(rev.dependencies)) if p in self.revisions]

    def ordered(self) -> list[str]:
        """Every revision in dependency order; where several are ready, by name (so it reads naturally)."""
        waiting = {name: set(self.parents(name)) for name in self.revisions}
        ready = [name for name, parents in waiting.items() if not parents]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for child, parents in waiting.items():
                if name in parents:
                    parents.discard(name)
                    if not parents and child not in order and child not in ready:
                        heapq.heappush(ready, child)
        return order

    def ancestors(self, revision: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.parents(revision))
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(self.parents(name))
        return seen

    def branch_of(self, revision: str) -> str:
        node = revision
        while True:
            # The module's own labels: Alembic also lists the labels a revision inherits from its ancestors.
            labels = _tuple(getattr(self.revisions[node].module, "branch_labels", None))
            if labels:
                return sorted(labels)[0]
            parents = self.parents(node)
            if not parents:
                return node
            node = parents[0]

    def known_revisions(self) -> set[str]:
        """Every revision id this Jack can read, the flat layout's included (for checking backups)."""
        return set(self.revisions) | set(self.legacy) | {LEGACY_ROOT}

    # ------------------------------------------------------------------ a database's state

    def _translate(self, rows: set[str]) -> tuple[set[str], set[str]]:
        """(applied revisions of loaded plugins, rows to keep as they are) for ``alembic_version`` rows."""
        old = {row for row in rows if row not in self.revisions and (row in self.legacy or row == LEGACY_ROOT)}
        applied: set[str] = set()
        for row in rows:
            if row in self.revisions:
                applied |= {row, *self.ancestors(row)}
        if old:
            for name in {*old, LEGACY_ROOT}:
                for new in self.legacy.get(name, []):
                    applied |= {new, *self.ancestors(new)}
        untouched = {row for row in rows if row not in self.revisions and row not in self.legacy and row != LEGACY_ROOT}
        return applied, untouched

    def recorded(self, engine: Engine) -> set[str]:
        """The database's ``alembic_version`` rows as stored, disabled plugins' included."""
        return _version_rows(engine)

    def applied(self, engine: Engine) -> set[str]:
        """Revisions of the loaded plugins the database already has (old ids translated)."""
        return self._translate(_version_rows(engine))[0]

    def current(self, engine: Engine) -> set[str]:
        """The heads the database is at, as this Jack names them."""
        return self._heads(self.applied(engine))

    def pending(self, engine: Engine) -> list[str]:
        """Revisions not yet applied, in dependency order."""
        applied = self.applied(engine)
        return [name for name in self.ordered() if name not in applied]

    def status(self, engine: Engine) -> list[BranchStatus]:
        applied = self.applied(engine)
        branches: dict[str, BranchStatus] = {}
        for name in self.ordered():
            branch = self.branch_of(name)
            entry = branches.setdefault(branch, BranchStatus(branch, None, []))
            if name in applied:
                branches[branch] = BranchStatus(branch, name, entry.pending)
            else:
                entry.pending.append(name)
        return list(branches.values())

    def _heads(self, applied: set[str]) -> set[str]:
        covered: set[str] = set()
        for name in applied:
            covered |= self.ancestors(name)
        return applied - covered

    # ------------------------------------------------------------------ changing it

    def upgrade(self, engine: Engine) -> list[str]:
        """Apply every pending revision; return those applied, in dependency order."""
        pending = self.pending(engine)
        if not pending and not any(row in self.legacy or row == LEGACY_ROOT for row in _version_rows(engine)):
            return []
        with engine.begin() as connection:
            applied, untouched = self._translate(_version_rows(connection))
            # Alembic must see only revisions it knows: old ids become their new names, and a
            # plugin that is not loaded keeps its rows, put back once the upgrade is done.
            _write_version_rows(connection, self._heads(applied))
            self.config.attributes["connection"] = connection
            command.upgrade(self.config, "heads")
            heads = _version_rows(connection)
            _write_version_rows(connection, heads | untouched)
        return pending


def _version_rows(source: Engine | Connection) -> set[str]:
    if isinstance(source, Engine):
        with source.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    return set(MigrationContext.configure(source).get_current_heads())


def _write_version_rows(connection: Connection, heads: set[str]) -> None:
    context = MigrationContext.configure(connection)
    context._ensure_version_table()
    connection.execute(text("DELETE FROM alembic_version"))
    for head in sorted(heads):
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})


def _tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _join(folders: list[Path]) -> str:
    return os.pathsep.join(str(folder) for folder in folders)
