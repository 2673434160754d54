"""``/api/v1/apps``: the installed plugins, their settings and "test connection" (Engine > Apps as JSON).

Managers and admins read and test; only admins change settings. Secrets are only ever
sent masked; a masked (or empty) secret sent back keeps the stored one.

- ``GET /api/v1/apps``: every plugin (``name``, ``version``, ``status``, ``components``, ``settings``).
- ``GET /api/v1/apps/{plugin}``: one plugin.
- ``PUT /api/v1/apps/{plugin}/settings`` ``{"values": {"NAME": "value" | null}}``: store and apply
  (``null`` removes the dashboard's value); answers the plugin as ``GET`` does, with ``changed``.
- ``POST /api/v1/apps/{plugin}/test``: run each of its components' checks now.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import falcon
import falcon.asgi

from jack_host.builtin.app_settings.catalogue import catalogue, components_of, find_plugin
from jack_host.builtin.app_settings.connection_test import test_component
from jack_host.kit.safe_json import JSONInputError, parse_json

if TYPE_CHECKING:
    from jack_host.builtin.app_settings.store import DashboardSettings
    from jack_host.web.app import JackApp

MAX_BODY_BYTES = 64 * 1024


def unknown_plugin(name: str) -> falcon.HTTPError:
    return falcon.HTTPNotFound(title="not_found", description=f"no installed plugin is called '{name}' (GET /api/v1/apps lists them)")


class AppsResource:
    def __init__(self, app: JackApp, store: DashboardSettings):
        self.app, self.store = app, store

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.app.services.staff_auth.authorize(req, "manager")
        resp.media = {"items": catalogue(self.app, self.store), "problem": self.store.problem}


class AppResource:
    def __init__(self, app: JackApp, store: DashboardSettings):
        self.app, self.store = app, store

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, plugin: str) -> None:
        await self.app.services.staff_auth.authorize(req, "manager")
        found = find_plugin(self.app, self.store, plugin)
        if found is None:
            raise unknown_plugin(plugin)
        resp.media = found


async def change_settings(app: JackApp, store: DashboardSettings, plugin: str, values: dict[str, Any], actor: str) -> list[str]:
    """Apply ``values`` to ``plugin``'s settings (the API and the Apps page share this); ``ValueError`` on bad input."""
    found = find_plugin(app, store, plugin)
    if found is None:
        raise LookupError(plugin)
    own = {setting["name"] for setting in found["settings"]}
    foreign = sorted(str(name).upper() for name in values if str(name).upper() not in own)
    if foreign:
        raise ValueError(f"{', '.join(foreign)}: not a setting of {plugin} (its settings: {', '.join(sorted(own)) or 'none'})")
    return await store.update(values, actor)


class AppSettingsResource:
    max_body_bytes = MAX_BODY_BYTES

    def __init__(self, app: JackApp, store: DashboardSettings):
        self.app, self.store = app, store

    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, plugin: str) -> None:
        user = await self.app.services.staff_auth.authorize(req, "admin")
        raw = await req.stream.read()
        try:
            body = parse_json(raw) if raw.strip() else None
        except JSONInputError as exc:
            raise falcon.HTTPBadRequest(title="malformed_json", description=str(exc)) from None
        if not isinstance(body, dict) or set(body) != {"values"} or not isinstance(body["values"], dict):
            raise falcon.HTTPUnprocessableEntity(
                title="validation_failed", description='expected {"values": {"SETTING_NAME": "value" or null}}')
        try:
            changed = await change_settings(self.app, self.store, plugin, body["values"], user.email)
        except LookupError:
            raise unknown_plugin(plugin) from None
        except ValueError as exc:
            raise falcon.HTTPUnprocessableEntity(title="invalid_setting", description=str(exc)) from None
        resp.media = {**(find_plugin(self.app, self.store, plugin) or {}), "changed": changed}


class AppTestResource:
    def __init__(self, app: JackApp, store: DashboardSettings):
        self.app, self.store = app, store

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, plugin: str) -> None:
        await self.app.services.staff_auth.authorize(req, "manager")
        if find_plugin(self.app, self.store, plugin) is None:
            raise unknown_plugin(plugin)
        results = await test_plugin(self.app, plugin)
        resp.media = {"plugin": plugin, "ok": all(r["ok"] for r in results) if results else None, "results": results}


async def test_plugin(app: JackApp, plugin: str) -> list[dict[str, Any]]:
    """Every component of ``plugin`` checked now, in parallel."""
    return list(await asyncio.gather(*(test_component(app, component) for component in components_of(app, plugin))))


def add_routes(app: JackApp, store: DashboardSettings) -> None:
    app.add_route("/api/v1/apps", AppsResource(app, store))
    app.add_route("/api/v1/apps/{plugin}", AppResource(app, store))
    app.add_route("/api/v1/apps/{plugin}/settings", AppSettingsResource(app, store))
    app.add_route("/api/v1/apps/{plugin}/test", AppTestResource(app, store))
