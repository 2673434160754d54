"""``/health``, ``/health/live``, ``/health/ready`` and the monitor that keeps component health fresh.

Component health can mean a call to a provider's API, so it is not done on every
request: the monitor checks every component at start-up and then every
``HEALTH_CHECK_INTERVAL`` seconds, and ``/health`` reads the cached results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import falcon
import falcon.asgi

from jack_host.contract.interfaces import Component, ComponentHealth
from jack_host.db.engine import ping

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp

log = logging.getLogger("jack.health")
CHECK_TIMEOUT = 10.0


class HealthMonitor:
    def __init__(self, app: JackApp):
        self.app = app
        self.results: dict[tuple[str, str], ComponentHealth] = {}
        self._task: asyncio.Task | None = None
        self.started = False

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

    async def start(self) -> None:
        await self.refresh()
        self.started = True
        interval = float(self.app.settings.get("HEALTH_CHECK_INTERVAL") or 60)
        self._task = asyncio.create_task(self._loop(interval), name="jack-health-monitor")

    async def _loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:  # keep monitoring whatever happens
                log.exception("health refresh failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def health_document(app: JackApp) -> tuple[dict[str, Any], bool]:
    """Build the documented ``/health`` JSON; the flag says whether it is ``unhealthy``."""
    database_ok = ping(app.engine)
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
        document, unhealthy = health_document(self.app)
        resp.media = document
        resp.status = falcon.HTTP_503 if unhealthy else falcon.HTTP_200


class LiveResource:
    """The process answers: nothing more (for restart decisions)."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"status": "alive"}


class ReadyResource:
    """Ready to take traffic: started, database reachable (for load balancers)."""

    def __init__(self, app: JackApp):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        problems = []
        if not self.app.health_monitor.started:
            problems.append("still starting")
        if not ping(self.app.engine):
            problems.append("database unreachable")
        resp.media = {"status": "ready" if not problems else "not_ready", "problems": problems}
        resp.status = falcon.HTTP_200 if not problems else falcon.HTTP_503


def add_health_routes(app: JackApp) -> None:
    app.add_route("/health", HealthResource(app))
    app.add_route("/health/live", LiveResource())
    app.add_route("/health/ready", ReadyResource(app))
