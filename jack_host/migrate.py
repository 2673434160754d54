"""Apply Alembic migrations programmatically (``jack db migrate`` and ``jack serve``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from jack_host.db import MIGRATIONS_DIR


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def script_heads() -> set[str]:
    """The revisions a fully migrated database is at."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending_revisions(engine: Engine) -> list[str]:
    """Revisions not yet applied, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revisions(engine)
    applied: set[str] = set()
    for rev in current:
        applied.update(r.revision for r in script.iterate_revisions(rev, "base"))
    ordered = list(script.walk_revisions("base", "heads"))
    ordered.reverse()
    return [rev.revision for rev in ordered if rev.revision not in applied]


def upgrade(engine: Engine) -> list[str]:
    """Apply every pending migration; return the revisions applied, oldest first."""
    pending = pending_revisions(engine)
    if not pending:
        return []
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    return pending
