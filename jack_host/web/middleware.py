"""Falcon middleware: trusted proxy headers, request ids and logging, HTTP metrics, lifespan."""

from __future__ import annotations

import ipaddress
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import falcon.asgi
from prometheus_client import CollectorRegistry, Counter, Histogram
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware as UvicornProxyHeaders

from jack_host.config.logs import request_id_var

if TYPE_CHECKING:
    from jack_host.config.settings import Settings
    from jack_host.contract.app import App as JackApp

access_log = logging.getLogger("jack.http")


def _parse_networks(value: str) -> tuple[bool, list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if "*" in items:
        return True, []
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue  # validated at start-up by the FORWARDED_ALLOW_IPS setting
    return False, networks


def check_forwarded_allow_ips(value: str) -> str | None:
    for item in (i.strip() for i in value.split(",")):
        if not item or item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"IP addresses or networks separated by commas, or *; '{item}' is not one"
    return None


async def _ignore(scope: dict, receive: Any, send: Any) -> None:
    """The inner app of the uvicorn middleware we borrow: it only rewrites the scope."""


class ProxyHeadersMiddleware:
    """Honour ``X-Forwarded-For/Proto/Host`` only from ``FORWARDED_ALLOW_IPS``.

    Sets ``req.context.client_ip``, ``req.context.scheme`` and ``req.context.host``,
    which the rest of the host uses instead of the raw headers.

    The client is the rightmost ``X-Forwarded-For`` entry that is not a trusted proxy (each
    proxy appends the address it saw; everything left of that is whatever the client wrote).
    uvicorn's ``ProxyHeadersMiddleware`` decides it, so Jack behind a proxy sees the client
    uvicorn would.
    """

    def __init__(self, settings: Settings):
        allowed = str(settings.get("FORWARDED_ALLOW_IPS") or "127.0.0.1")
        self.allow_all, self.networks = _parse_networks(allowed)
        trusted = "*" if self.allow_all else [item.strip() for item in allowed.split(",") if item.strip()]
        self._client_from_headers = UvicornProxyHeaders(_ignore, trusted_hosts=trusted)

    def trusted(self, address: str | None) -> bool:
        if self.allow_all:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        client = req.scope.get("client")
        peer = client[0] if client else None  # the socket peer; req.remote_addr already trusts headers
        req.context.client_ip = peer
        req.context.scheme = req.scheme
        req.context.host = req.get_header("Host") or req.host
        if self.trusted(peer):
            if req.get_header("X-Forwarded-For"):
                forwarded = {"type": req.scope.get("type", "http"), "client": client,
                             "headers": req.scope.get("headers", [])}
                await self._client_from_headers(forwarded, None, None)  # rewrites forwarded["client"]
                if forwarded.get("client"):
                    req.context.client_ip = forwarded["client"][0]
            proto = req.get_header("X-Forwarded-Proto")
            if proto:
                req.context.scheme = proto.split(",")[0].strip().lower()
            host = req.get_header("X-Forwarded-Host")
            if host:
                req.context.host = host.split(",")[0].strip()

    async def process_request_ws(self, req: falcon.asgi.Request, ws: Any) -> None:
        await self.process_request(req, None)  # type: ignore[arg-type]


class RequestLogMiddleware:
    """Give every request an id (``X-Request-ID``) and log one line when it ends."""

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        incoming = req.get_header("X-Request-ID") or ""
        req.context.request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
        req.context.started = time.perf_counter()
        request_id_var.set(req.context.request_id)

    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, req_succeeded: bool
    ) -> None:
        request_id = getattr(req.context, "request_id", None)
        if request_id is None:
            return
        resp.set_header("X-Request-ID", request_id)
        elapsed_ms = (time.perf_counter() - req.context.started) * 1000
        status = resp.status_code if hasattr(resp, "status_code") else resp.status
        access_log.info(
            "%s %s %s %.1fms",
            req.method,
            req.path,
            status,
            elapsed_ms,
            extra={"method": req.method, "path": req.path, "status": status, "duration_ms": round(elapsed_ms, 1),
                   "client_ip": getattr(req.context, "client_ip", None)},
        )

    async def process_request_ws(self, req: falcon.asgi.Request, ws: Any) -> None:
        req.context.request_id = uuid.uuid4().hex
        request_id_var.set(req.context.request_id)


#: Edges at the response-time thresholds' levels (2 s, 5 s) so their p95 reads exactly there.
HTTP_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


class HttpMetricsMiddleware:
    """Time every HTTP response and count it by status class, on the app's registry (``/metrics``).

    The p95 response time and the 5xx rate of the thresholds are read from these two.
    """

    def __init__(self, registry: CollectorRegistry):
        self.duration = Histogram("jack_http_request_duration_seconds", "Time to answer an HTTP request",
                                  buckets=HTTP_DURATION_BUCKETS, registry=registry)
        self.responses = Counter("jack_http_responses", "HTTP responses by status class (2xx, 3xx, 4xx, 5xx)",
                                 ["status_class"], registry=registry)

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if not hasattr(req.context, "started"):  # RequestLogMiddleware normally set it first
            req.context.started = time.perf_counter()

    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, req_succeeded: bool
    ) -> None:
        started = getattr(req.context, "started", None)
        if started is None:
            return
        self.duration.observe(time.perf_counter() - started)
        self.responses.labels(status_class=f"{str(resp.status_code)[0]}xx").inc()


class LifespanMiddleware:
    """Runs the app's start-up and shut-down (plugins' hooks, background tasks)."""

    def __init__(self) -> None:
        self.app: JackApp | None = None

    async def process_startup(self, scope: dict, event: dict) -> None:
        assert self.app is not None, "LifespanMiddleware.app is set by create_app"
        # The server listens during the warm-up; /health/ready waits for it (issue 18: healthy in under 1 s).
        await self.app.start(wait_for_warm_up=False)

    async def process_shutdown(self, scope: dict, event: dict) -> None:
        assert self.app is not None
        await self.app.stop()
