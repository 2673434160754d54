"""Every installed plugin as the Apps page shows it: version, components and their health, declared settings.

Nothing is hard-coded: plugins come from the plugin manager, settings from each plugin's
``jack_settings_validators`` and components from the ``jack_register_*`` hooks, so a plugin
pip-installed later shows up after the next start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jack_host.builtin.app_settings.store import START_UP_ONLY_PLUGINS, DashboardSettings
from jack_host.config.settings import Setting, mask
from jack_host.contract.plugins import plugin_infos

if TYPE_CHECKING:
    from jack_host.contract.interfaces import Component
    from jack_host.web.app import JackApp

TYPE_NAMES = {str: "text", int: "integer", float: "number", bool: "boolean"}


def components_of(app: JackApp, plugin: str) -> list[Component]:
    owners = app.hooks.component_owners
    return [component for component in app.health_monitor.components() if owners.get((component.kind, component.name)) == plugin]


def overall_status(states: list[str]) -> str:
    """One word for a plugin: ``error`` if a component errs, ``connected`` if one is, else ``not_configured``;
    ``active`` for a plugin without components (a feature)."""
    if not states:
        return "active"
    if "error" in states:
        return "error"
    if "connected" in states:
        return "connected"
    return "not_configured"


def setting_view(app: JackApp, store: DashboardSettings, setting: Setting, editable: bool) -> dict[str, Any]:
    """One setting for the page and the API: a secret's value is only ever its mask."""
    name = setting.name.upper()
    value = app.settings.get(name)
    secret = setting.is_secret
    return {
        "name": name,
        "type": TYPE_NAMES.get(setting.type, "text"),
        "help": setting.help,
        "secret": secret,
        "choices": list(setting.choices) if setting.choices else None,
        "default": mask(setting.default) if (secret and setting.default) else setting.default,
        "value": (mask(value) if value not in (None, "") else "") if secret else value,
        "is_set": value not in (None, ""),
        "source": app.settings.source(name),
        "editable": editable,
    }


def describe_plugin(app: JackApp, store: DashboardSettings, info: Any, declared: list[Setting]) -> dict[str, Any]:
    components = []
    for component in components_of(app, info.name):
        health = app.component_health(component)
        components.append({"kind": component.kind, "name": component.name, "state": health.state, "detail": health.detail})
    editable = info.name not in START_UP_ONLY_PLUGINS
    return {
        "name": info.name,
        "version": info.version,
        "builtin": info.builtin,
        "distribution": info.distribution,
        "status": overall_status([c["state"] for c in components]),
        "components": components,
        "settings": [setting_view(app, store, setting, editable) for setting in declared],
        "settings_editable": editable,
    }


def catalogue(app: JackApp, store: DashboardSettings) -> list[dict[str, Any]]:
    """Every registered plugin, built-in ones included, in the plugin manager's order."""
    declared = store.declared_by_plugin()
    return [describe_plugin(app, store, info, declared.get(info.name, [])) for info in plugin_infos(app.pm, include_builtin=True)]


def find_plugin(app: JackApp, store: DashboardSettings, name: str) -> dict[str, Any] | None:
    return next((plugin for plugin in catalogue(app, store) if plugin["name"] == name), None)
