"""Prometheus metrics: one registry per app (never the global one), served at ``/metrics``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import falcon
import falcon.asgi
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp


class MetricsResource:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(self.registry)


def add_metrics_route(app: JackApp) -> None:
    app.add_route("/metrics", MetricsResource(app.metrics))
