"""The ``jack`` command line.

Only ``click`` and ``pluggy`` load up front: ``jack --version`` and ``jack --help`` answer without
importing a plugin (the plugins' command names come from :mod:`jack_host.cli.command_cache`), and
the settings, database and web modules are imported by the functions that need them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING, NoReturn

import click
import pluggy

from jack_host import __version__
from jack_host.cli import command_cache
from jack_host.contract.plugins import DEFAULT_PLUGINS, PluginLoadError, make_plugin_manager

if TYPE_CHECKING:
    from jack_host.config.settings import Settings
    from jack_host.web.app import JackApp

EXIT_CONFIG = 2
EXIT_DATABASE = 3


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def load_checked_settings(pm: pluggy.PluginManager) -> Settings:
    """Load settings and validate everything the plugins declared; exit 2 on any error.

    Warnings (a misspelt setting name, a file that is not used) go to stderr and do not stop the command.
    """
    # Dynaconf and the settings module are kept off the start-up of `jack --version` and `jack --help`.
    from jack_host.config.settings import SettingsError, load_settings, settings_warnings
    from jack_host.contract.hooks import Hooks

    try:
        settings = load_settings()
        errors = settings.declare(Hooks(pm).settings_validators())
    except SettingsError as exc:
        errors = exc.errors
    if errors:
        for line in errors:
            click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_CONFIG)
    for line in settings_warnings(settings):
        click.echo(f"warning: {line}", err=True)
    return settings


def build_app(
    ctx: click.Context,
    check_secrets: bool = True,
    settings: Settings | None = None,
    refuse_unwritable: bool = True,
) -> JackApp:
    """Create the application for a command; configuration errors exit 2 with one line each.

    :param refuse_unwritable: exit 3 first when this user cannot write the SQLite database or its
        folder (``jack doctor`` reports it as an item instead).
    """
    # The web app imports Falcon, SQLAlchemy and every feature: only commands that build it pay for it.
    from jack_host.config.settings import SettingsError
    from jack_host.db.engine import DatabaseConfigError
    from jack_host.web.app import create_app

    pm: pluggy.PluginManager = ctx.obj["pm"]
    settings = settings or load_checked_settings(pm)
    if refuse_unwritable:
        refuse_unwritable_database(settings)
    try:
        return create_app(settings, pm=pm, check_secrets=check_secrets)
    except SettingsError as exc:
        for line in exc.errors:
            click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_CONFIG)
    except DatabaseConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


def refuse_unwritable_database(settings: Settings) -> None:
    """Exit 3 with one line when this user cannot write the SQLite file or its folder (before anything opens it)."""
    from jack_host.db.engine import DatabaseNotWritableError, check_writable, is_sqlite, sqlite_path

    if is_sqlite(settings):
        try:
            check_writable(sqlite_path(settings))
        except DatabaseNotWritableError as exc:
            fail(str(exc), EXIT_DATABASE)


def check_database(app: JackApp, *, init: bool = False) -> None:
    """Refuse a damaged or emptied SQLite file before anything writes to it.

    :param init: ``jack db migrate --init``: an empty (0-byte) file is made a new database.
    """
    # SQLAlchemy comes with the engine module; only commands that open the database import it.
    from jack_host.db.engine import (
        DatabaseCorruptError,
        DatabaseEmptyError,
        DatabaseNotWritableError,
        check_integrity,
        check_writable,
        is_sqlite,
        sqlite_path,
    )

    if not is_sqlite(app.settings):
        return
    try:
        # Writability first: a healthy file in a read-only folder must not be called damaged.
        check_writable(sqlite_path(app.settings))
        check_integrity(sqlite_path(app.settings))
    except DatabaseNotWritableError as exc:
        fail(str(exc), EXIT_DATABASE)
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
        # SQLAlchemy's text adds the SQL and a link to its FAQ; the driver's own words say what went wrong.
        fail(f"database migration failed: {getattr(exc, 'orig', None) or exc}", EXIT_DATABASE)
    if echo:
        if applied:
            click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
        else:
            click.echo("Database is up to date; no migrations to apply.")
    return applied


def untruncated_help(command: click.Command) -> None:
    """Give ``command`` and every sub-command a full first sentence as short help.

    click cuts a listing's descriptions to the terminal width minus the name, with "..."; an
    explicit ``short_help`` is wrapped instead.  Run on the whole tree, plugins' commands included.
    """
    if not command.short_help and command.help:
        command.short_help = command.get_short_help_str(limit=10_000)
    for sub in getattr(command, "commands", {}).values():
        untruncated_help(sub)


class JackGroup(click.Group):
    """The top-level ``jack`` group: the plugins load when a command runs, not for ``--version`` or ``--help``.

    ``ctx.obj["pm"]`` is the plugin manager; a caller that passes one has registered the plugins'
    commands already (tests do), otherwise the first command lookup builds it.
    """

    def load_plugins(self, ctx: click.Context) -> pluggy.PluginManager:
        # Imported here: the hook wrapper pulls in the contract's interfaces.
        from jack_host.contract.hooks import Hooks

        obj = ctx.find_root().ensure_object(dict)
        if obj.get("pm") is not None:
            return obj["pm"]
        try:
            pm = make_plugin_manager(os.environ)
        except PluginLoadError as exc:
            fail(str(exc), EXIT_CONFIG)
        before = set(self.commands)
        Hooks(pm).register_commands(self)
        untruncated_help(self)
        added = [(name, self.commands[name].get_short_help_str(limit=10_000)) for name in sorted(self.commands)
                 if name not in before and not self.commands[name].hidden]
        path, stamp = command_cache.cache_file(os.environ), self._fingerprint()
        if command_cache.read(path, stamp) != added:
            command_cache.write(path, stamp, added)
        obj["pm"] = pm
        return pm

    def _fingerprint(self) -> str:
        return command_cache.fingerprint(os.environ, DEFAULT_PLUGINS.values())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = self.commands.get(cmd_name)
        if own is not None and getattr(own, "jack_loads_plugins_itself", False):
            return own  # `jack serve` takes its port first, then loads the plugins
        self.load_plugins(ctx)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugins(ctx)
        return super().list_commands(ctx)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        obj = ctx.find_root().ensure_object(dict)
        cached = None if obj.get("pm") is not None else command_cache.read(
            command_cache.cache_file(os.environ), self._fingerprint()
        )
        if cached is None:
            self.load_plugins(ctx)
            cached = []
        rows = dict(cached)
        for name, command in self.commands.items():
            if not command.hidden:
                rows[name] = command.short_help or command.get_short_help_str(limit=10_000)
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows.items()))


@click.group(cls=JackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jack")
def cli() -> None:
    """Jack The Butler: a self-hosted AI concierge for hotels.

    \b
    Quick start:
      jack serve                 start the server on http://localhost:3000
      jack config check          validate .env, oncall.yaml and costs.yaml
      jack doctor                run the deployment security checklist
      jack plugins list --all    see which plugins are loaded

    \b
    Example:
      jack --version
    """


# ------------------------------------------------------------------ serve


@cli.command()
@click.option("--host", default=None, help="Interface to listen on [default: HOST or 0.0.0.0, all interfaces].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: PORT or 3000].")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Check the database, apply migrations and run the web server.

    The port is taken first: when another program holds it, Jack says so and stops at once.
    Stops gracefully on SIGTERM or Ctrl+C.

    \b
    Examples:
      jack serve --port 8080
      jack serve --host 127.0.0.1      only this machine (behind a reverse proxy)
    """
    from jack_host.config.logs import configure_logging
    from jack_host.config.settings import SettingsError, load_settings

    # The port is taken before the plugins load (a second or more), from the raw PORT and HOST;
    # a value that is not a port is left to the full validation below, which names it.
    sock = None
    try:
        raw = load_settings()
        early_host = host or str(raw.get("HOST") or "0.0.0.0")
        early_port = int(str(raw.get("PORT") or 3000)) if port is None else port
    except (SettingsError, ValueError):
        early_port = None
    if early_port is not None and 0 < early_port < 65536:
        sock = bind_socket(early_host, early_port, "--port" if port is not None else "PORT")
    pm = ctx.find_root().command.load_plugins(ctx)  # type: ignore[attr-defined]
    settings = load_checked_settings(pm)
    configure_logging(str(settings.get("LOG_LEVEL")), json_lines=settings.is_production)
    host = host or str(settings.get("HOST") or "0.0.0.0")
    port = int(settings.get("PORT")) if port is None else port
    if sock is None or sock.getsockname()[1] != port:
        if sock is not None:
            sock.close()
        sock = bind_socket(host, port, "--port" if ctx.params.get("port") is not None else "PORT")
    # uvicorn and the web app (Falcon, SQLAlchemy, every feature) load once the port is ours.
    import uvicorn

    from jack_host.web.body_limit import MAX_WEBSOCKET_MESSAGE_BYTES

    app = build_app(ctx, settings=settings)
    check_database(app)
    run_migrations(app)
    bound_host, bound_port = sock.getsockname()[:2]
    for line in listening_lines(settings.environment, bound_host, bound_port):
        click.echo(line)
    local_url = f"http://{'localhost' if bound_host in ('0.0.0.0', '::') else _url_host(bound_host)}:{bound_port}"
    for line in app.hooks.serve_banner(app, local_url):
        click.echo(line)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=bound_port,
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
    server.run(sockets=[sock])
    click.echo("Jack stopped.")


def bind_socket(host: str, port: int, chosen_by: str = "PORT") -> socket.socket:
    """Take ``host:port`` now (as uvicorn would), or exit 1 with one line naming the port and how to pick another."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror} (set HOST or --host to an address of this machine)")
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        shown = f"[{host}]" if ":" in host else host
        if exc.errno == 98:  # EADDRINUSE
            fail(
                f"port {port} is already in use on {shown} (another Jack or program is listening there); "
                f"stop it, or choose another port with PORT=<port> in .env or `jack serve --port <port>`"
            )
        if exc.errno == 13:  # EACCES
            fail(f"port {port} on {shown} needs root (ports below 1024); choose a port of 1024 or more with PORT or --port")
        fail(f"cannot listen on {shown}:{port}: {exc.strerror} (check HOST or --host, and {chosen_by})")
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def listening_lines(environment: str, host: str, port: int) -> list[str]:
    """The banner, printed once the socket is bound: the real address, and what 0.0.0.0 means."""
    head = f"Jack {__version__} ({environment})"
    if host in ("0.0.0.0", "::"):
        return [
            f"{head} listening on all interfaces ({_url_host(host)}:{port}): http://localhost:{port} on this machine",
        ]
    return [f"{head} listening on http://{_url_host(host)}:{port}"]


serve.jack_loads_plugins_itself = True  # type: ignore[attr-defined]


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
    """Database maintenance: apply migrations and show where each feature's tables stand.

    \b
    Examples:
      jack db status
      jack db migrate
    """


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
    from jack_host.db.engine import is_sqlite, sqlite_path

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
    """Inspect installed plugins: names, versions and the hooks they implement.

    \b
    Example:
      jack plugins list --all
    """


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
    from jack_host.contract.plugins import plugin_infos

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
    """Check and show the merged settings (.env, oncall.yaml, costs.yaml, environment).

    \b
    Examples:
      jack config check
      jack config show
    """


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
    from jack_host.config.settings import settings_warnings

    warned = len(settings_warnings(app.settings))
    note = f", with {warned} warning(s) above" if warned else ""
    click.echo(f"Configuration is valid ({app.settings.environment}{note}). Read: {found}")


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """Print the merged settings with secrets masked, and where each value comes from.

    The source column says default, file (.env or a YAML file) or environment.
    The YAML sections (on-call, costs) follow, masked too.

    \b
    Examples:
      jack config show
      jack config show --json
    """
    app = build_app(ctx)
    shown = app.settings.as_display_dict()
    if as_json:
        click.echo(json.dumps(shown, indent=2, default=str))
        return
    import yaml  # only `jack config show` prints YAML

    flat = {key: value for key, value in shown.items() if not isinstance(value, dict)}
    sections = {key: value for key, value in shown.items() if isinstance(value, dict)}
    width = max((len(key) for key in flat), default=0)
    rendered = {key: "" if value is None else str(value) for key, value in flat.items()}
    value_width = min(max((len(text) for text in rendered.values()), default=0), 48)
    click.echo(f"{'SETTING'.ljust(width)}  {'VALUE'.ljust(value_width)}  SOURCE")
    for key, text in rendered.items():
        click.echo(f"{key.ljust(width)}  {text.ljust(value_width)}  {app.settings.source(key)}")
    if sections:
        click.echo("")
        click.echo(yaml.safe_dump(sections, sort_keys=False, default_flow_style=False).rstrip())


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
    from jack_host.cli.doctor import run_doctor

    # Weak secrets are checklist items here, reported as NOT OK, not a reason to refuse to run.
    app = build_app(ctx, check_secrets=False, refuse_unwritable=False)
    checks, passed = run_doctor(app)
    for check in checks:
        click.echo(check.line())
    failed = sum(1 for c in checks if not c.ok and c.must_fix)
    click.echo(
        f"\n{len(checks)} checks, {failed} must-fix failing." if failed else f"\n{len(checks)} checks passed."
    )
    sys.exit(0 if passed else 1)


def make_cli(pm: pluggy.PluginManager) -> click.Group:
    """The ``jack`` group with the plugins' commands added (pass ``obj={"pm": pm}`` when invoking it)."""
    from jack_host.contract.hooks import Hooks

    Hooks(pm).register_commands(cli)
    untruncated_help(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    # The plugins load on the first command lookup (JackGroup), so `jack --version` never waits for them.
    cli.main(args=argv, prog_name="jack", obj={})
