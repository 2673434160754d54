"""Build the plugin manager: host defaults first, then the ``jack`` entry points.

``JACK_DISABLED_PLUGINS`` (comma-separated names) blocks plugins;
``JACK_ENABLED_PLUGINS`` (comma-separated), when set, is an allow-list for the
entry-point plugins.  ``JACK_EXTRA_PLUGINS`` (comma-separated module paths, for
tests and development only) registers plugin modules that are not installed as
entry points, e.g. ``JACK_EXTRA_PLUGINS=jack_host.testing.channel`` so a
``jack serve`` subprocess gets the test channel.  A plugin's name is its entry-point name
(``channel_whatsapp``) or, for the host's own, ``jack.<feature>`` (``jack.conversations``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from jack_host import __version__
from jack_host.contract import hookspecs

ENTRY_POINT_GROUP = "jack"
#: The host's own plugins, ``name: module``, registered in this order before any entry point.
#: ``jack.host`` is the core's settings and doctor items; the rest are the built-in features.
DEFAULT_PLUGINS = {
    "jack.host": "jack_host.cli.host_plugin",
    "jack.audit": "jack_host.builtin.audit.plugin",
    "jack.app_settings": "jack_host.builtin.app_settings.plugin",
    "jack.alerts": "jack_host.builtin.alerts.plugin",
    "jack.llm": "jack_host.builtin.llm.plugin",
    "jack.backups": "jack_host.builtin.backups.plugin",
    "jack.knowledge": "jack_host.builtin.knowledge.plugin",
    "jack.conversations": "jack_host.builtin.conversations.plugin",
    "jack.costs": "jack_host.builtin.costs.plugin",
    "jack.staff": "jack_host.builtin.staff.plugin",
    "jack.dashboard": "jack_host.builtin.dashboard.plugin",
    "jack.monitoring": "jack_host.builtin.monitoring.plugin",
}


class PluginLoadError(RuntimeError):
    """A plugin could not be imported or registered; the message says which and how to skip it."""


@dataclass
class PluginInfo:
    name: str
    version: str | None
    hooks: list[str]
    builtin: bool
    distribution: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "hooks": self.hooks,
            "builtin": self.builtin,
            "distribution": self.distribution,
        }


@dataclass
class LoadedPlugins:
    """Where each plugin came from, for ``jack plugins list``."""

    distributions: dict[str, importlib.metadata.Distribution | None] = field(default_factory=dict)
    builtin: set[str] = field(default_factory=set)


def _split(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def make_plugin_manager(
    environ: Mapping[str, str],
    *,
    load_entrypoints: bool = True,
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> pluggy.PluginManager:
    """Create a plugin manager with the host's defaults and the installed plugins.

    :param environ: where ``JACK_DISABLED_PLUGINS`` and ``JACK_ENABLED_PLUGINS`` are read.
    :param load_entrypoints: False keeps installed third-party plugins out (host unit tests).
    :param extra_plugins: ``(name, module_or_object)`` pairs to register as well (tests).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    disabled = _split(environ.get("JACK_DISABLED_PLUGINS"))
    enabled = _split(environ.get("JACK_ENABLED_PLUGINS"))
    loaded = LoadedPlugins()
    pm.jack_loaded = loaded  # type: ignore[attr-defined]

    for name, module_name in DEFAULT_PLUGINS.items():
        if name in disabled:
            continue
        pm.register(importlib.import_module(module_name), name=name)
        loaded.builtin.add(name)
        loaded.distributions[name] = None

    if load_entrypoints:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in disabled or (enabled and ep.name not in enabled) or pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginLoadError(
                    f"plugin '{ep.name}' ({ep.value}) failed to load: {type(exc).__name__}: {exc}. "
                    f"Reinstall it, or skip it with JACK_DISABLED_PLUGINS={ep.name}"
                ) from exc
            pm.register(plugin, name=ep.name)
            loaded.distributions[ep.name] = ep.dist

    for module_name in sorted(_split(environ.get("JACK_EXTRA_PLUGINS"))):
        if module_name in disabled or pm.has_plugin(module_name):
            continue
        try:
            pm.register(importlib.import_module(module_name), name=module_name)
        except Exception as exc:
            raise PluginLoadError(
                f"JACK_EXTRA_PLUGINS: module '{module_name}' failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        loaded.distributions[module_name] = None

    for name, plugin in extra_plugins:
        if name in disabled:
            continue
        pm.register(plugin, name=name)
        loaded.distributions.setdefault(name, None)

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(f"{exc} (a misspelled hook name? every hook starts with 'jack_')") from exc
    return pm


def plugin_infos(pm: pluggy.PluginManager, *, include_builtin: bool = False, hook: str | None = None) -> list[PluginInfo]:
    """Describe every registered plugin: name, distribution version and implemented hooks."""
    loaded: LoadedPlugins = getattr(pm, "jack_loaded", LoadedPlugins())
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        builtin = name in loaded.builtin
        if builtin and not include_builtin:
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        if hook and hook not in hooks:
            continue
        dist = loaded.distributions.get(name)
        version = dist.version if dist is not None else (__version__ if builtin else _module_version(plugin))
        infos.append(
            PluginInfo(
                name=name,
                version=version,
                hooks=hooks,
                builtin=builtin,
                distribution=dist.metadata["Name"] if dist is not None else ("jack-host" if builtin else None),
            )
        )
    return sorted(infos, key=lambda info: (not info.builtin, info.name))


def _module_version(plugin: object) -> str | None:
    module = plugin if isinstance(plugin, ModuleType) else inspect.getmodule(plugin)
    return getattr(module, "__version__", None)
