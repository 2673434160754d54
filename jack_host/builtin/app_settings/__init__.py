"""Settings made in the dashboard (Engine > Apps), stored in the database (``app.services.app_settings``).

A value set here overrides the defaults, the settings files, ``.env`` and the process
environment, and takes effect without a restart: the store writes it into ``app.settings``,
rebuilds the AI providers (they keep their model and server from the moment they are made),
checks the health of the changed plugins' components and the AI providers again and publishes
``settings.changed``. Channels read
their settings on every use, so a new token is used at the next message.

Secrets (settings whose name ends in ``_SECRET``, ``_TOKEN``, ``_KEY``, ``_PASSWORD``, ``_SID``
or that are declared ``secret=True``) are encrypted with Fernet under a key derived from
``ENCRYPTION_KEY`` by scrypt with a random salt kept in the database. They are shown masked
and never sent to a browser. ``jack secrets rotate --old-key-env OLD_ENCRYPTION_KEY``
re-encrypts them after ``ENCRYPTION_KEY`` changes.

The host's own settings (``jack.host``: ports, database, ``JWT_SECRET``, ``ENCRYPTION_KEY``...)
are read before the database is open, so they are shown but not editable here.
"""
