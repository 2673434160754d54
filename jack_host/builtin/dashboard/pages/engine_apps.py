"""``/engine/apps`` (managers and admins): every installed plugin, its status and a settings form
generated from the settings it declares; admins save, anyone here may "test connection".

The data and the rules are the dashboard settings store's (:mod:`jack_host.builtin.app_settings`):
secrets are only ever shown masked, a masked or empty secret field keeps the stored secret, and
a value saved here overrides ``.env`` and takes effect without a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import falcon

from jack_host.builtin.app_settings.api import change_settings, test_plugin
from jack_host.builtin.app_settings.catalogue import catalogue, find_plugin
from jack_host.builtin.app_settings.plugin import STATE_KEY
from jack_host.builtin.dashboard.guard import field, form_data, page_guard
from jack_host.builtin.dashboard.registry import MenuEntry, Page
from jack_host.builtin.dashboard.rendering import error_page, flash, render, see_other
from jack_host.contract.services import role_allows

if TYPE_CHECKING:
    from jack_host.builtin.app_settings.store import DashboardSettings
    from jack_host.web.app import JackApp

STATUS_LABELS = {"connected": "Connected", "error": "Error", "not_configured": "Not configured", "active": "Active"}


def shown_text(setting: dict[str, Any]) -> str:
    """What the form field holds: the (masked) value as text; booleans as ``true``/``false``."""
    value = setting["value"]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def changed_values(plugin: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ from what the page showed, and the dashboard values asked to be removed.

    Unchanged fields are left out, so saving one field does not turn every other value into a
    dashboard value; a secret left as its mask (or empty) is left out and keeps the stored one.
    """
    values: dict[str, Any] = {}
    for setting in plugin["settings"]:
        name = setting["name"]
        if field(form, f"reset:{name}") == "on" and setting["source"] == "dashboard":
            values[name] = None
            continue
        if name not in form:
            continue
        submitted = field(form, name)
        if setting["secret"]:
            if submitted and submitted != setting["value"]:
                values[name] = submitted
        elif submitted.strip() != shown_text(setting).strip():
            values[name] = submitted
    return values


class AppsPage:
    def __init__(self, app: JackApp):
        self.app = app

    @property
    def store(self) -> DashboardSettings:
        return self.app.state[STATE_KEY]

    @falcon.before(page_guard("manager"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        render(self.app, req, resp, "engine_apps.html", plugins=catalogue(self.app, self.store),
               labels=STATUS_LABELS, problem=self.store.problem, quote=quote)


class AppPage:
    def __init__(self, app: JackApp):
        self.app = app

    @property
    def store(self) -> DashboardSettings:
        return self.app.state[STATE_KEY]

    def plugin_or_404(self, req: falcon.asgi.Request, name: str) -> dict[str, Any]:
        plugin = find_plugin(self.app, self.store, name)
        if plugin is None:
            raise error_page(self.app, req, falcon.HTTP_404, "No such plugin",
                             f"No installed plugin is called “{name}”. Engine › Apps lists them.")
        return plugin

    def show(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, plugin: dict[str, Any],
             tested: list[dict[str, Any]] | None = None) -> None:
        render(self.app, req, resp, "engine_app.html", plugin=plugin, labels=STATUS_LABELS, tested=tested,
               can_edit=role_allows(req.context.staff.role, "admin") and plugin["settings_editable"],
               shown_text=shown_text, problem=self.store.problem, quote=quote)

    @falcon.before(page_guard("manager"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, plugin: str) -> None:
        self.show(req, resp, self.plugin_or_404(req, plugin))

    @falcon.before(page_guard("manager"))
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, plugin: str) -> None:
        found = self.plugin_or_404(req, plugin)
        form = await form_data(req)
        action = field(form, "action")
        if action == "test":
            tested = await test_plugin(self.app, plugin)
            self.show(req, resp, self.plugin_or_404(req, plugin), tested)
            return
        if action != "save":
            raise error_page(self.app, req, falcon.HTTP_400, "Unknown action", f"“{action}” is not something this page does.")
        if not role_allows(req.context.staff.role, "admin"):
            raise error_page(self.app, req, falcon.HTTP_403, "Not for your role",
                             f"Only admins change settings; you are {req.context.staff.role}.")
        values = changed_values(found, form)
        try:
            changed = await change_settings(self.app, self.store, plugin, values, req.context.staff.email)
        except ValueError as exc:
            flash(req, resp, f"Nothing was saved: {exc}", "error")
        else:
            flash(req, resp, f"Saved {', '.join(changed)}; in effect now." if changed else "Nothing changed.")
        raise see_other(f"/engine/apps/{quote(plugin, safe='')}")


PAGES = [
    Page("/engine/apps", AppsPage, MenuEntry("/engine/apps", "Engine › Apps", "manager", 60)),
    Page("/engine/apps/{plugin}", AppPage),
]
