"""The application object and its factory.

``create_app(settings)`` builds a :class:`JackApp`: a Falcon ASGI app that also
holds the settings, the plugin manager, the registered components, the services
the features provide and the database engine.  Nothing lives in module globals,
so tests build many apps.  Every feature arrives through the hooks, in this order:
settings, components, services, routes.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import falcon
import falcon.asgi
import pluggy
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from jack_host import __version__
from jack_host.config.settings import Settings, SettingsError, load_settings
from jack_host.contract.hooks import Hooks
from jack_host.contract.interfaces import (
    AlertRoute,
    BackupDestination,
    Channel,
    Component,
    ComponentHealth,
    LLMProvider,
)
from jack_host.contract.plugins import make_plugin_manager
from jack_host.contract.services import Services
from jack_host.db.engine import make_engine
from jack_host.web.body_limit import BodyLimitMiddleware, counting_receive
from jack_host.web.converters import DatabaseIntConverter
from jack_host.web.errors import install_error_handlers
from jack_host.web.health import HealthMonitor, add_health_routes
from jack_host.web.metrics import add_metrics_route
from jack_host.web.middleware import LifespanMiddleware, ProxyHeadersMiddleware, RequestLogMiddleware
from jack_host.web.warm_up import WarmUp

if TYPE_CHECKING:
    from jack_host.db.migrate import Migrations

log = logging.getLogger("jack.app")


class JackApp(falcon.asgi.App):
    """The Falcon app plus everything a plugin may need from the host (:class:`jack_host.contract.app.App`)."""

    settings: Settings
    engine: Engine
    pm: pluggy.PluginManager
    hooks: Hooks
    #: What the features provide, by declared interface: ``app.services.inbox``, ``app.services.get(Kind)``.
    services: Services
    channels: dict[str, Channel]
    llm_providers: dict[str, LLMProvider]
    backup_destinations: dict[str, BackupDestination]
    alert_routes: dict[str, AlertRoute]
    #: Prometheus registry of this app; create metrics with ``registry=app.metrics``.
    metrics: CollectorRegistry
    #: Free-form per-app state for plugins, keyed by plugin name (never module globals).
    state: dict[str, Any]
    #: Slow start-up work (``app.warm_up.in_thread(name, fn)``); the heap is frozen after it.
    warm_up: WarmUp

    version = __version__

    @property
    def uptime(self) -> int:
        return int(time.monotonic() - self.started_monotonic)

    def public_url(self, req: falcon.asgi.Request | None = None) -> str:
        """The URL the outside world uses for this server: ``PUBLIC_URL``, else the trusted request's."""
        configured = str(self.settings.get("PUBLIC_URL") or "").rstrip("/")
        if configured:
            return configured
        if req is not None:
            return f"{req.context.scheme}://{req.context.host}"
        return f"http://localhost:{self.settings.get('PORT')}"

    @functools.cached_property
    def migrations(self) -> Migrations:
        """The Alembic revisions of the host and of every loaded plugin (read on first use)."""
        # Alembic stays off the start-up path of commands that never migrate.
        from jack_host.db.migrate import Migrations

        return Migrations(self.hooks.migration_folders())

    def component_health(self, component: Component) -> ComponentHealth:
        """The last health the monitor recorded for ``component`` (no new check)."""
        return self.health_monitor.get(component)

    def hotel_timezone(self) -> ZoneInfo:
        """The hotel's timezone (``HOTEL_TIMEZONE``; the hotel profile keeps it in sync)."""
        return ZoneInfo(str(self.settings.get("HOTEL_TIMEZONE") or "UTC"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Counts request body bytes as they stream in, so BodyLimitMiddleware can refuse past a route's cap.
        await super().__call__(scope, counting_receive(scope, receive), send)

    async def start(self, wait_for_warm_up: bool = True) -> None:
        """Start plugins, then the health monitor (so it sees what they opened), then freeze the heap after warm-up.

        :param wait_for_warm_up: False returns before the warm-up (LiteLLM's import) is over: the
            server then answers ``/health`` at once and ``/health/ready`` says 503 until it is done.
        """
        await self.hooks.startup(self)
        await self.health_monitor.start()
        self.warm_up.start()
        if wait_for_warm_up:
            await self.warm_up.done.wait()

    async def stop(self) -> None:
        await self.warm_up.stop()
        await self.health_monitor.stop()
        await self.hooks.shutdown(self)
        self.engine.dispose()


def create_app(
    settings: Settings | None = None,
    *,
    pm: pluggy.PluginManager | None = None,
    environ: Mapping[str, str] | None = None,
    load_entrypoints: bool = True,
    extra_plugins: Iterable[tuple[str, object]] = (),
    check_secrets: bool = True,
) -> JackApp:
    """Build the application.

    :param settings: merged settings; loaded from files and the environment when omitted.
    :param pm: a ready plugin manager; built from ``environ`` when omitted.
    :param load_entrypoints: False keeps pip-installed plugins out (the host's own tests).
    :param extra_plugins: extra ``(name, plugin)`` pairs, e.g. a test channel.
    :param check_secrets: False lets ``jack doctor`` build the app to report weak secrets itself.
    :raises SettingsError: a declared setting has a bad value (one line each).
    """
    environ = dict(os.environ if environ is None else environ)
    if settings is None:
        settings = load_settings(environ)
    if pm is None:
        pm = make_plugin_manager(environ, load_entrypoints=load_entrypoints, extra_plugins=extra_plugins)
    hooks = Hooks(pm)
    errors = settings.declare(hooks.settings_validators())
    if check_secrets:
        errors += settings.validate_secrets()
    if errors:
        raise SettingsError(errors)

    lifespan = LifespanMiddleware()
    app = JackApp(middleware=[ProxyHeadersMiddleware(settings), RequestLogMiddleware(), lifespan, BodyLimitMiddleware()])
    app.router_options.converters["int"] = DatabaseIntConverter
    lifespan.app = app
    app.settings = settings
    app.pm = pm
    app.hooks = hooks
    app.state = {}
    app.warm_up = WarmUp()
    app.started_monotonic = time.monotonic()
    app.engine = make_engine(settings)
    app.metrics = CollectorRegistry()
    app.services = Services()
    app.health_monitor = HealthMonitor(app)
    install_error_handlers(app)

    app.channels = hooks.register_channels(app)
    app.llm_providers = hooks.register_llm_providers(app)
    app.backup_destinations = hooks.register_backup_destinations(app)
    app.alert_routes = hooks.register_alert_routes(app)
    hooks.register_services(app, app.services)

    add_health_routes(app)
    add_metrics_route(app)
    hooks.add_routes(app)
    return app

