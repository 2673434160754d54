"""Alembic revisions of the channel_sms plugin (handed over through ``jack_register_migrations``)."""
