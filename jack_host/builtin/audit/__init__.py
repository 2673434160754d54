"""The audit log: every change to apps, users, budgets and knowledge (``app.services.audit``).

Each entry says who (the staff account's e-mail, or ``cli``), when, what (``user.create``,
``app.settings``...), to what (``user:3``, ``app:channel_sms``), and the old and new values,
with secrets masked before they are written.  Read it with ``GET /api/v1/audit`` (managers
and admins) or on the dashboard's System page.
"""
