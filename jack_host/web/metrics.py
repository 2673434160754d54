"""Prometheus metrics: one registry per app (never the global one), served at ``/metrics``.

The route also times every HTTP response (:class:`HttpMetricsMiddleware`) and adds the process
collector (memory, CPU).  With ``METRICS_TOKEN`` set, a scrape needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

import falcon
import falcon.asgi
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest

from jack_host.web.middleware import HttpMetricsMiddleware

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp


class MetricsResource:
    def __init__(self, registry: CollectorRegistry, token: str = ""):
        self.registry = registry
        self.token = token.encode()

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self.token:
            scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token):
                raise falcon.HTTPUnauthorized(
                    title="unauthorized",
                    description="GET /metrics needs the header Authorization: Bearer <METRICS_TOKEN>",
                    challenges=['Bearer realm="metrics"'],
                )
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(self.registry)


def add_metrics_route(app: JackApp) -> None:
    ProcessCollector(registry=app.metrics)
    app.add_middleware(HttpMetricsMiddleware(app.metrics))
    app.add_route("/metrics", MetricsResource(app.metrics, str(app.settings.get("METRICS_TOKEN") or "")))
