"""``jack users ...``: manage staff accounts from the command line (the first admin, above all)."""

from __future__ import annotations

import sys

import click

from jack_host.builtin.staff import accounts
from jack_host.cli.main import build_app, check_database, fail, run_migrations
from jack_host.contract.services import Audit


@click.group()
def users() -> None:
    """Manage staff accounts (sign-in for the dashboard and the staff API).

    \b
    Example:
      jack users create-admin --email manager@hotel.example
    """


@users.command("create-admin")
@click.option("--email", required=True, help="The admin's e-mail address (used to sign in).")
@click.option("--name", default="", help="Display name, e.g. 'Ana Front Desk'.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_context
def create_admin(ctx: click.Context, email: str, name: str, password_stdin: bool) -> None:
    """Create an admin account; prompts for the password twice unless --password-stdin.

    Applies pending database migrations first, so it works on a fresh install.

    \b
    Examples:
      jack users create-admin --email gm@hotel.example --name "General Manager"
      printf '%s\\n' "$ADMIN_PASSWORD" | jack users create-admin --email gm@hotel.example --password-stdin
    """
    if problem := accounts.check_email(email):
        fail(f"--email {email!r}: {problem}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: standard input was empty; pipe the password in on one line")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat password")
    if problem := accounts.check_password(password):
        fail(f"password: {problem}")

    app = build_app(ctx)
    check_database(app)
    applied = run_migrations(app, echo=False)
    if applied:
        click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
    try:
        user = accounts.create_user(app.engine, email, password, name=name, role="admin")
        if audit := app.services.find(Audit):
            audit.record("cli", "user.create", f"user:{user.id}", None, user.as_dict())
    except accounts.AccountError as exc:
        fail(f"{exc}" + ("; sign in with it, or choose another --email" if isinstance(exc, accounts.EmailTaken) else ""))
    finally:
        app.engine.dispose()
    click.echo(f"Created admin {user.email} (id {user.id}). Sign in with POST /api/v1/auth/login.")
