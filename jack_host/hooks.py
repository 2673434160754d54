"""The one typed wrapper through which the host calls plugin hooks."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from jack_host.interfaces import AlertRoute, BackupDestination, Channel, Component, LLMProvider

if TYPE_CHECKING:
    import click

    from jack_host.app import JackApp
    from jack_host.doctor import DoctorCheck
    from jack_host.settings import Setting

C = TypeVar("C", bound=Component)


class RegistrationError(RuntimeError):
    """A plugin registered something the host cannot accept (wrong type, duplicate name)."""


class Hooks:
    """Typed calls into ``pm.hook``; nothing else in the host touches ``pm.hook`` directly."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm

    def _collect(self, hook_name: str, expected: type[C], app: JackApp) -> dict[str, C]:
        found: dict[str, C] = {}
        owners: dict[str, str] = {}
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order
            def register(component: C, _plugin: str = impl.plugin_name) -> None:
                if not isinstance(component, expected):
                    raise RegistrationError(
                        f"plugin '{_plugin}' registered {component!r} in {hook_name}; expected a {expected.__name__}"
                    )
                name = (component.name or "").strip()
                if not name:
                    raise RegistrationError(f"plugin '{_plugin}' registered a {expected.__name__} without a name")
                if name in found:
                    raise RegistrationError(
                        f"{expected.kind} name '{name}' is registered twice: by '{owners[name]}' and by '{_plugin}'. "
                        f"Disable one with JACK_DISABLED_PLUGINS"
                    )
                found[name] = component
                owners[name] = _plugin

            impl.function(**{arg: {"register": register, "app": app}[arg] for arg in impl.argnames})
        return found

    def register_channels(self, app: JackApp) -> dict[str, Channel]:
        return self._collect("jack_register_channels", Channel, app)

    def register_llm_providers(self, app: JackApp) -> dict[str, LLMProvider]:
        return self._collect("jack_register_llm_providers", LLMProvider, app)

    def register_backup_destinations(self, app: JackApp) -> dict[str, BackupDestination]:
        return self._collect("jack_register_backup_destinations", BackupDestination, app)

    def register_alert_routes(self, app: JackApp) -> dict[str, AlertRoute]:
        return self._collect("jack_register_alert_routes", AlertRoute, app)

    def add_routes(self, app: JackApp) -> None:
        self.pm.hook.jack_add_routes(app=app)

    def register_commands(self, cli: click.Group) -> None:
        self.pm.hook.jack_register_commands(cli=cli)

    def settings_validators(self) -> list[Setting]:
        return [setting for batch in self.pm.hook.jack_settings_validators() for setting in (batch or [])]

    async def startup(self, app: JackApp) -> None:
        await _await_all(self.pm.hook.jack_startup(app=app))

    async def shutdown(self, app: JackApp) -> None:
        await _await_all(reversed(self.pm.hook.jack_shutdown(app=app)))

    def doctor_checks(self, app: JackApp) -> list[DoctorCheck]:
        return [check for batch in reversed(self.pm.hook.jack_doctor_checks(app=app)) for check in (batch or [])]

    def health_extras(self, app: JackApp) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for extra in reversed(self.pm.hook.jack_health_extras(app=app)):
            merged.update(extra or {})
        return merged

    def call(self, name: str, **kwargs: Any) -> list[Any]:
        """Call a hook added by a later host module (kept typed at its call site)."""
        return getattr(self.pm.hook, name)(**kwargs)


async def _await_all(results: Any) -> None:
    for result in results:
        if inspect.isawaitable(result):
            await result

