"""Hook implementations of the dashboard settings store (``app.services.app_settings``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.builtin.app_settings import api
from jack_host.builtin.app_settings.cli import secrets
from jack_host.builtin.app_settings.store import DashboardSettings
from jack_host.config.settings import Setting
from jack_host.contract.services import AppSettings

if TYPE_CHECKING:
    import click

    from jack_host.contract.app import App

STATE_KEY = "jack.app_settings"


# First, so the dashboard's values are in app.settings before any other feature builds its service.
@hookimpl(tryfirst=True)
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    store = DashboardSettings(app)  # type: ignore[arg-type]
    if _existing_database(app):
        store.load()
    app.state[STATE_KEY] = store
    provide(AppSettings, store)


def _existing_database(app: App) -> bool:
    """Whether reading the store now is safe: never create, touch or half-open a database here.

    Building the app precedes the command line's checks (a zero-byte file, a damaged file, a folder
    that is not writable); even a read would give SQLite's header to an empty file.  A database that
    is not there yet is read again at start-up, after migrating.
    """
    url = app.engine.url
    if url.get_backend_name() != "sqlite":
        return True
    path = Path(url.database or "")
    return bool(url.database) and path.is_file() and path.stat().st_size > 0


@hookimpl
def jack_settings_validators() -> list[Setting]:
    # Declared so `jack config check` does not take the documented rotation variable for a typo.
    return [Setting("OLD_ENCRYPTION_KEY", str, "", "the previous ENCRYPTION_KEY, only while running "
                    "`jack secrets rotate --old-key-env OLD_ENCRYPTION_KEY`", secret=True)]


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app: App) -> None:
    api.add_routes(app, app.state[STATE_KEY])  # type: ignore[arg-type]


@hookimpl
def jack_startup(app: App) -> Awaitable[None] | None:
    store: DashboardSettings = app.state[STATE_KEY]
    if not store.overrides():
        # `jack serve` migrates after the app is built: a first start only now has the table to read.
        store.load()
    return None


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    cli.add_command(secrets)
