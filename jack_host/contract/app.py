"""The application as a plugin sees it: everything a hook may use, declared in one place.

The host's :class:`jack_host.web.app.JackApp` (a Falcon ASGI app) fulfils this.  Plugins
type their hook arguments with :class:`App`, so they depend on the contract, not on the
web layer, and a test can hand them anything that has these members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from sqlalchemy.engine import Engine

    from jack_host.config.settings import Settings
    from jack_host.contract.interfaces import (
        AlertRoute,
        BackupDestination,
        Channel,
        Component,
        ComponentHealth,
        LLMProvider,
    )
    from jack_host.contract.services import Services
    from jack_host.db.migrate import Migrations
    from jack_host.web.warm_up import WarmUp


class App(Protocol):
    """The members of the Jack application that plugins may use."""

    #: The merged settings (``app.settings.get("NAME")``); see :mod:`jack_host.config.settings`.
    settings: Settings
    #: The SQLAlchemy engine of the host's database (SQLite file or ``DATABASE_URL``).
    engine: Engine
    #: Services other features provide, by declared interface (:mod:`jack_host.contract.services`).
    services: Services
    #: The registered components, by name.
    channels: dict[str, Channel]
    llm_providers: dict[str, LLMProvider]
    backup_destinations: dict[str, BackupDestination]
    alert_routes: dict[str, AlertRoute]
    #: The app's Prometheus registry; create metrics with ``registry=app.metrics``.
    metrics: CollectorRegistry
    #: Free-form per-app state for plugins, keyed by plugin name (never module globals).
    state: dict[str, Any]
    #: Slow start-up work (``app.warm_up.in_thread(name, fn)``); the heap is frozen after it.
    warm_up: WarmUp
    #: The Alembic revisions of the host and the loaded plugins (``app.migrations.pending(app.engine)``).
    migrations: Migrations
    version: str

    @property
    def uptime(self) -> int:
        """Seconds since the app was built."""
        ...

    def add_route(self, uri_template: str, resource: object, **kwargs: Any) -> None:
        """Falcon's ``add_route``: serve ``resource`` (``on_get``, ``on_post``, ``on_websocket``...) at a path."""
        ...

    def public_url(self, req: Any = None) -> str:
        """The URL the outside world uses for this server: ``PUBLIC_URL``, else the trusted request's."""
        ...

    def hotel_timezone(self) -> ZoneInfo:
        """The hotel's timezone (``HOTEL_TIMEZONE``)."""
        ...

    def component_health(self, component: Component) -> ComponentHealth:
        """The last health a component reported to the health monitor (cheap: no new check)."""
        ...
