"""Alembic environment: runs on the connection handed over by :class:`jack_host.db.migrate.Migrations`.

The revisions are written by hand (each feature's own folder), so no metadata is given for
autogenerate, and the ``alembic`` command is not used.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `jack db migrate`, not the alembic command")

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
