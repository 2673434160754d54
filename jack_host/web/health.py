"""``/health``, ``/health/live``, ``/health/ready`` and the monitor that keeps component health fresh.

Component health can mean a call to a provider's API, so it is not done on every
request: the monitor checks every component at start-up and then every
``HEALTH_CHECK_INTERVAL`` seconds, and ``/health`` reads the cached results.

The rest of the document (queue depths, SLA counts, costs, backups: synchronous SQL
from the features' ``jack_health_extras``) is built in a worker thread every
``HEALTH_REFRESH_SECONDS`` and served with its age, so a ``/health`` request costs
what ``/health/live`` costs and never stalls the event loop.  A build that does not
finish (a database that stops answering) turns the served document ``unhealthy``
once it is ``STALE_AFTER_REFRESHES`` refreshes old.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import falcon
import falcon.asgi

from jack_host.contract.interfaces import Component, ComponentHealth
from jack_host.db.engine import ping, write_problem

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp

log = logging.getLogger("jack.health")
CHECK_TIMEOUT = 10.0
STALE_AFTER_REFRESHES = 3
STALE_FLOOR_SECONDS = 3.0  # a busy machine may take a moment to build it


class HealthMonitor:
    def __init__(self, app: JackApp):
        self.app = app
        self.results: dict[tuple[str, str], ComponentHealth] = {}
        self._task: asyncio.Task | None = None
        self._document_task: asyncio.Task | None = None
        self.started = False
        #: The last built health document, whether it was unhealthy, and when it was built (monotonic).
        self.document: tuple[dict[str, Any], bool, float] | None = None

    def components(self) -> list[Component]:
        app = self.app
        return [
            *app.channels.values(),
            *app.llm_providers.values(),
            *app.backup_destinations.values(),
            *app.alert_routes.values(),
        ]

    async def check(self, component: Component) -> ComponentHealth:
        try:
            result = await asyncio.wait_for(component.health(), CHECK_TIMEOUT)
        except TimeoutError:
            result = ComponentHealth.error(f"health check timed out after {CHECK_TIMEOUT:g}s")
        except Exception as exc:  # a plugin's bug must not break /health
            result = ComponentHealth.error(f"health check failed: {exc}")
        self.results[(component.kind, component.name)] = result
        return result

    async def refresh(self) -> None:
        await asyncio.gather(*(self.check(component) for component in self.components()))

    def get(self, component: Component) -> ComponentHealth:
        return self.results.get((component.kind, component.name), ComponentHealth("not_configured", "not checked yet"))

    @property
    def document_interval(self) -> float:
        return float(self.app.settings.get("HEALTH_REFRESH_SECONDS") or 2)

    async def start(self) -> None:
        await self.refresh()
        await self.refresh_document()
        self.started = True
        interval = float(self.app.settings.get("HEALTH_CHECK_INTERVAL") or 60)
        self._task = asyncio.create_task(self._loop(interval), name="jack-health-monitor")
        self._document_task = asyncio.create_task(self._document_loop(), name="jack-health-document")

    async def refresh_document(self) -> None:
        """Build the health document in a thread: the features' sections run synchronous SQL."""
        document, unhealthy = await asyncio.to_thread(health_document, self.app)
        self.document = (document, unhealthy, time.monotonic())

    async def _document_loop(self) -> None:
        while True:
            await asyncio.sleep(self.document_interval)
            try:
                await self.refresh_document()
            except Exception:  # keep serving the last document, which ages into unhealthy
                log.exception("building the health document failed")

    def served_document(self) -> tuple[dict[str, Any], bool]:
        """The last built document with its age; ``unhealthy`` once it is too old to trust."""
        if self.document is None:  # not started (an app served without its lifespan)
            return health_document(self.app)
        built, unhealthy, at = self.document
        age = time.monotonic() - at
        document = {**built, "uptime": self.app.uptime, "checked_seconds_ago": round(age, 1)}
        stale_after = max(STALE_AFTER_REFRESHES * self.document_interval, STALE_FLOOR_SECONDS)
        if age > stale_after:
            document["status"] = "unhealthy"
            document["database"] = "error"
            document["database_detail"] = (
                f"the health checks have not finished for {age:.0f}s: the database or a feature is not answering"
            )
            unhealthy = True
        return document, unhealthy

    async def _loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:  # keep monitoring whatever happens
                log.exception("health refresh failed")

    async def stop(self) -> None:
        for task in (self._task, self._document_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def health_document(app: JackApp) -> tuple[dict[str, Any], bool]:
    """Build the documented ``/health`` JSON; the flag says whether it is ``unhealthy``."""
    database_ok = ping(app.engine)
    # Built on the document's timer, not per request: a read-only file still answers SELECT 1.
    not_writable = write_problem(app.engine) if database_ok else None
    database_ok = database_ok and not_writable is None
    channels = {name: app.health_monitor.get(channel) for name, channel in app.channels.items()}
    if not database_ok:
        status = "unhealthy"
    elif any(h.state == "error" for h in channels.values()):
        status = "degraded"
    else:
        status = "healthy"
    document: dict[str, Any] = {
        "status": status,
        "version": app.version,
        "uptime": app.uptime,
        "database": "connected" if database_ok else "error",
        "channels": {name: h.state for name, h in channels.items()},
        "channel_details": {name: h.detail for name, h in channels.items() if h.detail},
    }
    if not_writable:
        document["database_detail"] = not_writable
    components = {}
    for kind, registry in (
        ("llm_providers", app.llm_providers),
        ("backup_destinations", app.backup_destinations),
        ("alert_routes", app.alert_routes),
    ):
        components[kind] = {
            name: {"state": (h := app.health_monitor.get(c)).state, "detail": h.detail} for name, c in registry.items()
        }
    document["components"] = components
    document.update(app.hooks.health_extras(app))
    return document, status == "unhealthy"


class HealthResource:
    def __init__(self, app: JackApp):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        document, unhealthy = self.app.health_monitor.served_document()
        resp.media = document
        resp.status = falcon.HTTP_503 if unhealthy else falcon.HTTP_200


class LiveResource:
    """The process answers: nothing more (for restart decisions)."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"status": "alive"}


class ReadyResource:
    """Ready to take traffic: started, warm-up done, database reachable (for load balancers)."""

    def __init__(self, app: JackApp):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        problems = []
        if not self.app.health_monitor.started:
            problems.append("still starting")
        elif not self.app.warm_up.done.is_set():
            problems.append("warming up (slow imports such as LiteLLM)")
        if not ping(self.app.engine):
            problems.append("database unreachable")
        elif self.app.health_monitor.document is not None and self.app.health_monitor.document[0].get("database") == "error":
            problems.append(f"database: {self.app.health_monitor.document[0].get('database_detail') or 'error'}")
        resp.media = {"status": "ready" if not problems else "not_ready", "problems": problems}
        resp.status = falcon.HTTP_200 if not problems else falcon.HTTP_503


def add_health_routes(app: JackApp) -> None:
    app.add_route("/health", HealthResource(app))
    app.add_route("/health/live", LiveResource())
    app.add_route("/health/ready", ReadyResource(app))
