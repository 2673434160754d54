"""The ``jack`` command line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from typing import NoReturn

import click
import pluggy

from jack_host import __version__
from jack_host.cli.doctor import run_doctor
from jack_host.config.logs import configure_logging
from jack_host.config.settings import Settings, SettingsError, load_settings
from jack_host.contract.hooks import Hooks
from jack_host.contract.plugins import PluginLoadError, make_plugin_manager, plugin_infos
from jack_host.db.engine import (
    DatabaseConfigError,
    DatabaseCorruptError,
    DatabaseEmptyError,
    check_integrity,
    is_sqlite,
    sqlite_path,
)
from jack_host.web.app import JackApp, create_app
from jack_host.web.body_limit import MAX_WEBSOCKET_MESSAGE_BYTES

EXIT_CONFIG = 2
EXIT_DATABASE = 3


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def load_checked_settings(pm: pluggy.PluginManager) -> Settings:
    """Load settings and validate everything the plugins declared; exit 2 on any error."""
    try:
        settings = load_settings()
        errors = settings.declare(Hooks(pm).settings_validators())
    except SettingsError as exc:
        errors = exc.errors
    if errors:
        for line in errors:
            click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_CONFIG)
    return settings


def build_app(ctx: click.Context, check_secrets: bool = True) -> JackApp:
    """Create the application for a command; configuration errors exit 2 with one line each."""
    pm: pluggy.PluginManager = ctx.obj["pm"]
    settings = load_checked_settings(pm)
    try:
        return create_app(settings, pm=pm, check_secrets=check_secrets)
    except SettingsError as exc:
        for line in exc.errors:
            click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_CONFIG)
    except DatabaseConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


def check_database(app: JackApp, *, init: bool = False) -> None:
    """Refuse a damaged or emptied SQLite file before anything writes to it.

    :param init: ``jack db migrate --init``: an empty (0-byte) file is made a new database.
    """
    if not is_sqlite(app.settings):
        return
    try:
        check_integrity(sqlite_path(app.settings))
    except DatabaseCorruptError as exc:
        fail(str(exc), EXIT_DATABASE)
    except DatabaseEmptyError as exc:
        if not init:
            fail(f"{exc} {_empty_database_hint(app)}", EXIT_DATABASE)


def _empty_database_hint(app: JackApp) -> str:
    newest = None
    for destination in app.backup_destinations.values():
        try:
            found = destination.list()
        except Exception:  # a destination that cannot list now is no reason to hide the others
            continue
        if found and (newest is None or found[0].created_at > newest.created_at):
            newest = found[0]
    if newest is not None:
        return (
            f"Jack will not start on it. Restore the newest backup ({newest.key} in {newest.destination}, "
            f"{newest.created_at:%Y-%m-%d %H:%M} UTC) with `jack restore --latest`, "
            "or create a new, empty database with `jack db migrate --init`."
        )
    return (
        "Jack will not start on it. No backup was found; restore one with `jack restore FILE` if you have it "
        "elsewhere, or create a new, empty database with `jack db migrate --init`."
    )


def run_migrations(app: JackApp, echo: bool = True) -> list[str]:
    try:
        pending = app.migrations.pending(app.engine)
        if pending:
            app.hooks.before_migrations(app, pending)
        applied = app.migrations.upgrade(app.engine)
    except Exception as exc:
        fail(f"database migration failed: {exc}", EXIT_DATABASE)
    if echo:
        if applied:
            click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
        else:
            click.echo("Database is up to date; no migrations to apply.")
    return applied


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jack")
def cli() -> None:
    """Jack The Butler: a self-hosted AI concierge for hotels.

    \b
    Quick start:
      jack serve                 start the server on http://localhost:3000
      jack config check          validate .env, oncall.yaml and costs.yaml
      jack doctor                run the deployment security checklist
      jack plugins list --all    see which plugins are loaded
    """


# ------------------------------------------------------------------ serve


@cli.command()
@click.option("--host", default=None, help="Interface to listen on [default: HOST or 0.0.0.0].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: PORT or 3000].")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Check the database, apply migrations and run the web server.

    Stops gracefully on SIGTERM or Ctrl+C.

    \b
    Example:
      jack serve --port 8080
    """
    import uvicorn  # a heavy import, kept off the start-up of every other command

    app = build_app(ctx)
    settings = app.settings
    configure_logging(str(settings.get("LOG_LEVEL")), json_lines=settings.is_production)
    check_database(app)
    run_migrations(app)
    host = host or str(settings.get("HOST") or "0.0.0.0")
    port = port or int(settings.get("PORT"))
    shown_host = "localhost" if host in ("0.0.0.0", "::") else host
    click.echo(f"Jack {__version__} ({settings.environment}) listening on http://{shown_host}:{port}")
    for line in app.hooks.serve_banner(app, f"http://{shown_host}:{port}"):
        click.echo(line)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            proxy_headers=False,  # ProxyHeadersMiddleware decides whom to trust
            log_config=None,
            access_log=False,
            lifespan="on",
            # Chat frames are a few hundred bytes; per-connection zlib state would cost ~90 KB
            # per open web chat (benchmarks/webchat_sessions.py) to save almost nothing.
            ws_per_message_deflate=False,
            # uvicorn's default is 16 MiB per WebSocket message; a larger one is closed with 1009.
            ws_max_size=MAX_WEBSOCKET_MESSAGE_BYTES,
            timeout_graceful_shutdown=int(settings.get("SHUTDOWN_GRACE_SECONDS")),
        )
    )
    # uvicorn re-raises SIGTERM after its graceful shutdown; a clean stop should exit 0.
    server.capture_signals = _quiet_signals(server)  # type: ignore[method-assign]
    server.run()
    click.echo("Jack stopped.")


def _quiet_signals(server):  # type: ignore[no-untyped-def]
    """Like uvicorn's capture_signals, but without re-raising the signal afterwards."""

    @contextlib.contextmanager
    def capture():  # type: ignore[no-untyped-def]
        previous = {sig: signal.signal(sig, server.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    return capture


# ------------------------------------------------------------------ db


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("migrate")
@click.option(
    "--init", is_flag=True,
    help="Make an empty (0-byte) database file a new, empty database instead of refusing it.",
)
@click.pass_context
def db_migrate(ctx: click.Context, init: bool) -> None:
    """Apply pending migrations and say what was done.

    An empty (0-byte) database file is refused, because the data it held is gone: restore it
    with `jack restore --latest`, or pass --init to start with a new, empty database.

    \b
    Examples:
      jack db migrate
      jack db migrate --init
    """
    app = build_app(ctx)
    check_database(app, init=init)
    run_migrations(app)


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the database location and where each feature's tables stand.

    One line per feature (its Alembic branch): the revision it is at, and what is pending.

    \b
    Example:
      jack db status
    """
    app = build_app(ctx)
    check_database(app)
    location = sqlite_path(app.settings) if is_sqlite(app.settings) else "DATABASE_URL (PostgreSQL)"
    pending = app.migrations.pending(app.engine)
    click.echo(f"database: {location}")
    for branch in app.migrations.status(app.engine):
        state = f"pending {', '.join(branch.pending)}" if branch.pending else "up to date"
        click.echo(f"  {branch.branch:<16} {branch.current or 'not created':<20} {state}")
    click.echo(f"pending:  {', '.join(pending) or 'none'}" + ("  (run `jack db migrate`)" if pending else ""))


# ------------------------------------------------------------------ plugins


@cli.group()
def plugins() -> None:
    """Inspect installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--all", "include_all", is_flag=True, help="Include the host's built-in plugins.")
@click.option(
    "--hook", default=None, help="Only plugins implementing this hook, e.g. jack_register_channels."
)
@click.pass_context
def plugins_list(ctx: click.Context, as_json: bool, include_all: bool, hook: str | None) -> None:
    """List plugins with their version and the hooks they implement.

    \b
    Examples:
      jack plugins list
      jack plugins list --all --json
      jack plugins list --hook jack_register_channels
    """
    infos = plugin_infos(ctx.obj["pm"], include_builtin=include_all, hook=hook)
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in infos], indent=2))
        return
    if not infos:
        click.echo("No plugins installed." + ("" if include_all else " (--all shows the built-in ones)"))
        return
    width = max(len(info.name) for info in infos)
    for info in infos:
        tag = " (built-in)" if info.builtin else ""
        click.echo(f"{info.name.ljust(width)}  {info.version or '?'}{tag}")
        click.echo(f"{' ' * width}  hooks: {', '.join(info.hooks)}")


# ------------------------------------------------------------------ config


@cli.group()
def config() -> None:
    """Check and show the merged settings (.env, oncall.yaml, costs.yaml, environment)."""


@config.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate every setting; exit 2 on errors, one line per problem.

    \b
    Example:
      JACK_CONFIG_DIR=/etc/jack jack config check
    """
    app = build_app(ctx)
    found = (
        ", ".join(str(p) for p in app.settings.files.present()) or "no files (defaults and environment only)"
    )
    click.echo(f"Configuration is valid ({app.settings.environment}). Read: {found}")


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """Print the merged settings with secrets masked."""
    app = build_app(ctx)
    shown = app.settings.as_display_dict()
    if as_json:
        click.echo(json.dumps(shown, indent=2, default=str))
        return
    import yaml  # only `jack config show` prints YAML

    click.echo(yaml.safe_dump(shown, sort_keys=False, default_flow_style=False).rstrip())


# ------------------------------------------------------------------ doctor


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Run the deployment security checklist against this configuration.

    Prints one line per item; exits 1 when a must-fix item fails.

    \b
    Example:
      jack doctor
    """
    # Weak secrets are checklist items here, reported as NOT OK, not a reason to refuse to run.
    app = build_app(ctx, check_secrets=False)
    checks, passed = run_doctor(app)
    for check in checks:
        click.echo(check.line())
    failed = sum(1 for c in checks if not c.ok and c.must_fix)
    click.echo(
        f"\n{len(checks)} checks, {failed} must-fix failing." if failed else f"\n{len(checks)} checks passed."
    )
    sys.exit(0 if passed else 1)


def make_cli(pm: pluggy.PluginManager) -> click.Group:
    """The ``jack`` group with the plugins' commands added."""
    Hooks(pm).register_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    try:
        pm = make_plugin_manager(os.environ)
    except PluginLoadError as exc:
        fail(str(exc), EXIT_CONFIG)
    make_cli(pm).main(args=argv, prog_name="jack", obj={"pm": pm})
