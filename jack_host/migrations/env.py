"""Alembic environment: runs on the connection handed over by ``jack_host.migrations_runner``."""

from alembic import context
from sqlmodel import SQLModel

import jack_host.models  # noqa: F401  (registers the host's tables on the metadata)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `jack db migrate`, not the alembic command")

context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
