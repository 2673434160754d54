"""Every hook a Jack plugin can implement.

A plugin is a module (or object) with functions decorated ``@jack_host.hookimpl``
and named like the specs below.  Third-party plugins are found through the
``jack`` entry-point group; the host's own features use the very same hooks
(see ``jack_host/builtin``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import click

    from jack_host.config.settings import Setting
    from jack_host.contract.app import App
    from jack_host.contract.interfaces import AlertRoute, BackupDestination, Channel, DoctorCheck, LLMProvider

PROJECT = "jack"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def jack_register_channels(register: Callable[[Channel], None], app: App) -> None:
    """Register guest channels (WhatsApp, SMS, web chat...).

    :param register: call once per :class:`~jack_host.contract.interfaces.Channel` instance.
    :param app: the Jack application, for settings and the pipeline.
    """


@hookspec
def jack_register_llm_providers(register: Callable[[LLMProvider], None], app: App) -> None:
    """Register LLM providers; order of use is set by ``AI_PROVIDER_ORDER``.

    :param register: call once per :class:`~jack_host.contract.interfaces.LLMProvider` instance.
    :param app: the Jack application.
    """


@hookspec
def jack_register_backup_destinations(register: Callable[[BackupDestination], None], app: App) -> None:
    """Register places backups are copied to.

    :param register: call once per :class:`~jack_host.contract.interfaces.BackupDestination`.
    :param app: the Jack application.
    """


@hookspec
def jack_register_alert_routes(register: Callable[[AlertRoute], None], app: App) -> None:
    """Register ways to alert people (PagerDuty, phone, e-mail, log).

    :param register: call once per :class:`~jack_host.contract.interfaces.AlertRoute`.
    :param app: the Jack application.
    """


@hookspec
def jack_register_services(provide: Callable[[type, Any], None], app: App) -> None:
    """Provide services other plugins may use, each under the interface it fulfils.

    Called once per app, after the components are registered and before any route is added.
    Build services here, not in ``jack_add_routes``; a service that needs another one looks
    it up when it first needs it (``app.services.get(Kind)``), so the order plugins run in
    does not matter.

    :param provide: ``provide(Interface, instance)``; the interfaces of the built-in features are
        declared in :mod:`jack_host.contract.services`, and a plugin may declare its own.
    :param app: the Jack application.
    """


@hookspec
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    """Hand the host the folder of this plugin's Alembic revisions.

    Each feature owns its tables: its first revision has ``down_revision = "host_0001"`` and
    ``branch_labels = ("<feature>",)``; later ones follow it.  ``jack db migrate`` applies
    every registered folder's revisions in dependency order.

    :param register: call once per folder of revision files.
    """


@hookspec
def jack_add_routes(app: App) -> None:
    """Add HTTP (or WebSocket) routes with ``app.add_route(path, resource)``; build services elsewhere.

    :param app: the Falcon ASGI application being built, with its services in place.
    """


@hookspec
def jack_register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``jack`` command line.

    :param cli: the top-level ``jack`` click group; use ``cli.add_command`` or ``@cli.command``.
    """


@hookspec
def jack_settings_validators() -> list[Setting]:
    """Declare the settings a plugin reads, with type, default and help.

    Every declared setting is validated at start-up and by ``jack config check``;
    a bad value is reported on one line naming the setting, the value and what is expected.

    :return: a list of :class:`~jack_host.config.settings.Setting`.
    """


@hookspec
def jack_startup(app: App) -> Awaitable[None] | None:
    """Called once when the server starts, after the database is ready.

    Return a coroutine to do asynchronous work (start background tasks, open clients).

    :param app: the Jack application.
    """


@hookspec
def jack_shutdown(app: App) -> Awaitable[None] | None:
    """Called once when the server stops; release what ``jack_startup`` took.

    :param app: the Jack application.
    """


@hookspec
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
    """Contribute items to ``jack doctor`` (the deployment security checklist).

    :param app: the Jack application, with settings but no running server.
    :return: a list of :class:`~jack_host.cli.doctor.DoctorCheck` results.
    """


@hookspec
def jack_health_extras(app: App) -> dict[str, Any] | None:
    """Add top-level sections to ``GET /health`` (e.g. ``backups``, ``llm``).

    Runs in a worker thread every ``HEALTH_REFRESH_SECONDS``, not per request; it may
    run synchronous SQL, but must not touch the event loop.

    :param app: the Jack application.
    :return: a mapping merged into the health document, or ``None``.
    """


@hookspec
def jack_before_migrations(app: App, pending: list[str]) -> None:
    """Called by ``jack serve`` and ``jack db migrate`` just before migrations are applied.

    Raise to refuse the migration (the command then exits without changing the database).

    :param app: the Jack application.
    :param pending: the revisions about to be applied, oldest first.
    """


@hookspec
def jack_serve_banner(app: App, base_url: str) -> list[str] | None:
    """Lines ``jack serve`` prints at start, e.g. where to try the web chat.

    :param app: the Jack application.
    :param base_url: the address the server is reachable at, e.g. ``http://localhost:3000``.
    :return: lines of text.
    """
