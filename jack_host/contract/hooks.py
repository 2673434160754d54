"""The one typed wrapper through which the host calls plugin hooks.

Every call goes through ``pm.hook.<name>(...)``, so ``tryfirst``/``trylast``, wrappers and
``pm.trace`` behave as pluggy documents.  One method per hook, typed for its callers.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from jack_host.contract.interfaces import (
    AlertRoute,
    BackupDestination,
    Channel,
    Component,
    DoctorCheck,
    LLMProvider,
)
from jack_host.contract.services import Services

if TYPE_CHECKING:
    import click

    from jack_host.config.settings import Setting
    from jack_host.contract.app import App

C = TypeVar("C", bound=Component)


class RegistrationError(RuntimeError):
    """A plugin registered something the host cannot accept (wrong type, duplicate name)."""


class Hooks:
    """Typed calls into ``pm.hook``; nothing else in the host touches ``pm.hook`` directly."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm

    def owner_of(self, obj: object) -> str:
        """The name of the plugin whose package defines ``obj``'s class (for error messages)."""
        module = type(obj).__module__ if not isinstance(obj, type) else obj.__module__
        best, best_len = module, -1
        for name, plugin in self.pm.list_name_plugin():
            plugin_module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
            package = plugin_module.rsplit(".", 1)[0] if "." in plugin_module else plugin_module
            if (module == plugin_module or module.startswith(package + ".") or module == package) and len(package) > best_len:
                best, best_len = name, len(package)
        return best

    def _collect(self, hook: Any, expected: type[C], app: App) -> dict[str, C]:
        found: dict[str, C] = {}
        owners: dict[str, str] = {}

        def register(component: C) -> None:
            plugin = self.owner_of(component)
            if not isinstance(component, expected):
                raise RegistrationError(
                    f"plugin '{plugin}' registered {component!r} in {hook.name}; expected a {expected.__name__}"
                )
            name = (component.name or "").strip()
            if not name:
                raise RegistrationError(f"plugin '{plugin}' registered a {expected.__name__} without a name")
            if name in found:
                raise RegistrationError(
                    f"{expected.kind} name '{name}' is registered twice: by '{owners[name]}' and by '{plugin}'. "
                    f"Disable one with JACK_DISABLED_PLUGINS"
                )
            found[name] = component
            owners[name] = plugin

        hook(register=register, app=app)
        return found

    def register_channels(self, app: App) -> dict[str, Channel]:
        return self._collect(self.pm.hook.jack_register_channels, Channel, app)

    def register_llm_providers(self, app: App) -> dict[str, LLMProvider]:
        return self._collect(self.pm.hook.jack_register_llm_providers, LLMProvider, app)

    def register_backup_destinations(self, app: App) -> dict[str, BackupDestination]:
        return self._collect(self.pm.hook.jack_register_backup_destinations, BackupDestination, app)

    def register_alert_routes(self, app: App) -> dict[str, AlertRoute]:
        return self._collect(self.pm.hook.jack_register_alert_routes, AlertRoute, app)

    def register_services(self, app: App, services: Services) -> None:
        def provide(kind: type, service: Any) -> None:
            services.provide(kind, service, plugin=self.owner_of(service))

        self.pm.hook.jack_register_services(provide=provide, app=app)

    def migration_folders(self) -> list[Path]:
        folders: list[Path] = []
        self.pm.hook.jack_register_migrations(register=lambda folder: folders.append(Path(folder)))
        return folders

    def add_routes(self, app: App) -> None:
        self.pm.hook.jack_add_routes(app=app)

    def register_commands(self, cli: click.Group) -> None:
        self.pm.hook.jack_register_commands(cli=cli)

    def settings_validators(self) -> list[Setting]:
        return [setting for batch in self.pm.hook.jack_settings_validators() for setting in (batch or [])]

    async def startup(self, app: App) -> None:
        await _await_all(self.pm.hook.jack_startup(app=app))

    async def shutdown(self, app: App) -> None:
        await _await_all(reversed(self.pm.hook.jack_shutdown(app=app)))

    def doctor_checks(self, app: App) -> list[DoctorCheck]:
        return [check for batch in reversed(self.pm.hook.jack_doctor_checks(app=app)) for check in (batch or [])]

    def health_extras(self, app: App) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for extra in reversed(self.pm.hook.jack_health_extras(app=app)):
            merged.update(extra or {})
        return merged

    def before_migrations(self, app: App, pending: list[str]) -> None:
        self.pm.hook.jack_before_migrations(app=app, pending=pending)

    def serve_banner(self, app: App, base_url: str) -> list[str]:
        return [line for batch in reversed(self.pm.hook.jack_serve_banner(app=app, base_url=base_url)) for line in (batch or [])]


async def _await_all(results: Any) -> None:
    for result in results:
        if inspect.isawaitable(result):
            await result

