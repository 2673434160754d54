"""``jack secrets rotate``: re-encrypt the dashboard's stored secrets after ``ENCRYPTION_KEY`` changes."""

from __future__ import annotations

import os

import click

from jack_host.builtin.app_settings.secret_box import SecretKeyError
from jack_host.cli.main import build_app, check_database, fail, run_migrations
from jack_host.contract.services import AppSettings, Audit


@click.group()
def secrets() -> None:
    """The secrets stored by the dashboard (Engine > Apps), encrypted with ENCRYPTION_KEY.

    \b
    Example:
      OLD_ENCRYPTION_KEY=<the previous key> jack secrets rotate --old-key-env OLD_ENCRYPTION_KEY
    """


@secrets.command("rotate")
@click.option(
    "--old-key-env", required=True, metavar="VARIABLE",
    help="Name of the environment variable holding the previous ENCRYPTION_KEY (the new one is ENCRYPTION_KEY).",
)
@click.pass_context
def secrets_rotate(ctx: click.Context, old_key_env: str) -> None:
    """Re-encrypt every stored secret from the old key to the current ENCRYPTION_KEY.

    Put the new key in ENCRYPTION_KEY (.env or the environment) and the old one in another
    variable, run this once, then remove the old one. Nothing changes if the old key does
    not open the stored secrets.

    \b
    Example:
      OLD_ENCRYPTION_KEY=<the previous key> jack secrets rotate --old-key-env OLD_ENCRYPTION_KEY
    """
    old_key = os.environ.get(old_key_env, "")
    if not old_key:
        fail(f"{old_key_env} is not set: put the previous ENCRYPTION_KEY in it")
    app = build_app(ctx)
    check_database(app)
    run_migrations(app, echo=False)
    store = app.services.get(AppSettings)
    if old_key == str(app.settings.get("ENCRYPTION_KEY") or ""):
        fail(f"{old_key_env} holds the same key as ENCRYPTION_KEY: set ENCRYPTION_KEY to the new key first")
    try:
        count = store.rotate(old_key)  # type: ignore[attr-defined]
    except SecretKeyError as exc:
        fail(str(exc))
    audit = app.services.find(Audit)
    if audit is not None:
        audit.record("cli", "secrets.rotate", "app_settings", None, {"secrets": count})
    click.echo(f"Re-encrypted {count} stored secret(s) with the current ENCRYPTION_KEY." if count
               else "No secrets are stored yet; nothing to re-encrypt.")
