"""The one typed wrapper through which the host calls plugin hooks.

Every call goes through ``pm.hook.<name>(...)``, so ``tryfirst``/``trylast``, wrappers and
``pm.trace`` behave as pluggy documents.  One method per hook, typed for its callers.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
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
        #: Which plugin registered each component, by ``(kind, name)`` (the dashboard's Apps page groups by it).
        self.component_owners: dict[tuple[str, str], str] = {}

    @staticmethod
    def caller_finder(hook: Any) -> Callable[[], str]:
        """A function naming the plugin whose implementation of ``hook`` is running when it is called.

        The hook is called through pluggy in one pass, so a ``register`` callback learns its caller
        from the stack: the nearest frame that runs one of the hook's implementations.
        """
        owners = {impl.function.__code__: impl.plugin_name for impl in hook.get_hookimpls() if hasattr(impl.function, "__code__")}

        def caller() -> str:
            frame = sys._getframe(2)
            while frame is not None:
                if frame.f_code in owners:
                    return owners[frame.f_code]
                frame = frame.f_back
            return "?"

        return caller

    def _collect(self, hook: Any, expected: type[C], app: App) -> dict[str, C]:
        found: dict[str, C] = {}
        owners: dict[str, str] = {}
        caller = self.caller_finder(hook)

        def register(component: C) -> None:
            plugin = caller()
            if not isinstance(component, expected):
                raise RegistrationError(
                    f"plugin '{plugin}' registered {component!r} in {hook.name}; expected a {expected.__name__}"
                )
            name = (component.name or "").strip()
            if not name:
                raise RegistrationError(f"plugin '{plugin}' registered a {expected.__name__} without a name")
            if name in found:
                first, second = (self._registrants(hook, name, app) + [owners[name], plugin])[:2]
                raise RegistrationError(
                    f"{expected.kind} name '{name}' is registered twice: by '{first}' and by '{second}'. "
                    f"Disable one with JACK_DISABLED_PLUGINS"
                )
            found[name] = component
            owners[name] = plugin
            self.component_owners[(expected.kind, name)] = plugin

        hook(register=register, app=app)
        return found

    def _registrants(self, hook: Any, name: str, app: App) -> list[str]:
        """Which plugins register a component called ``name``: the error path only, so each
        implementation is asked on its own to name the two plugins, in the order they were loaded."""
        found: list[str] = []
        for impl in hook.get_hookimpls():
            names: list[str] = []
            arguments = {"register": lambda component, names=names: names.append(getattr(component, "name", "")), "app": app}
            try:
                impl.function(**{arg: arguments[arg] for arg in impl.argnames})
            except Exception:  # a plugin failing on its own says nothing about the duplicate
                continue
            if name in names:
                found.append(impl.plugin_name)
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
        hook = self.pm.hook.jack_register_services
        caller = self.caller_finder(hook)

        def provide(kind: type, service: Any) -> None:
            services.provide(kind, service, plugin=caller())

        hook(provide=provide, app=app)

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

    def settings_by_plugin(self) -> dict[str, list[Setting]]:
        """The settings each plugin declares, by plugin name (each implementation asked on its own)."""
        return {
            impl.plugin_name: list(impl.function() or [])
            for impl in reversed(self.pm.hook.jack_settings_validators.get_hookimpls())
        }

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

