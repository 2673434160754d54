"""Every HTTP error is JSON ``{"error": ..., "detail": ...}``; no stack trace reaches a client."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import falcon

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp

log = logging.getLogger("jack.errors")


def error_body(error: str, detail: Any = None) -> dict[str, Any]:
    return {"error": error, "detail": detail}


def install_error_handlers(app: JackApp) -> None:
    async def http_error(req: falcon.asgi.Request, resp: falcon.asgi.Response, ex: falcon.HTTPError, params: dict) -> None:
        if resp is None:  # a WebSocket: let Falcon close it with the error's code
            raise ex
        resp.status = ex.status
        resp.media = error_body(ex.title or "error", ex.description)
        for name, value in (ex.headers or {}).items():
            resp.set_header(name, value)

    async def unexpected(req: falcon.asgi.Request, resp: falcon.asgi.Response, ex: Exception, params: dict) -> None:
        request_id = getattr(req.context, "request_id", None)
        log.exception("unhandled error on %s %s", req.method, req.path)
        if resp is None:  # a WebSocket: Falcon closes it with an error code
            return
        resp.status = falcon.HTTP_500
        resp.media = error_body("internal_error", f"something went wrong; quote request id {request_id} to support")

    app.add_error_handler(Exception, unexpected)
    app.add_error_handler(falcon.HTTPError, http_error)
