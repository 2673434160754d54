"""``GET /webchat.js`` (the embeddable widget) and ``GET /chat`` (the full-page chat)."""

from __future__ import annotations

import hashlib
import html
import re
from importlib import resources
from typing import TYPE_CHECKING

import falcon

if TYPE_CHECKING:
    import falcon.asgi

    from jack_channel_webchat.service import WebchatService

LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
RTL_LANGUAGES = {"ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"}
# Hotels pick up a new widget within the hour; the ETag makes the re-check cheap.
SCRIPT_CACHE = "public, max-age=3600"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def _static(name: str) -> bytes:
    return resources.files("jack_channel_webchat").joinpath("static", name).read_bytes()


class WidgetScriptResource:
    def __init__(self) -> None:
        self.body = _static("webchat.js")
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = "text/javascript; charset=utf-8"
        resp.cache_control = [SCRIPT_CACHE]
        resp.set_header("ETag", self.etag)
        resp.set_header("X-Content-Type-Options", "nosniff")
        # The widget runs on the hotel's own site; Chromium refuses cross-origin scripts
        # under Cross-Origin-Resource-Policy: same-origin, so say so explicitly.
        resp.set_header("Cross-Origin-Resource-Policy", "cross-origin")
        if self.etag in (req.get_header("If-None-Match") or ""):
            resp.status = falcon.HTTP_304
            return
        resp.data = self.body

    async def on_head(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.on_get(req, resp)
        resp.content_length = len(self.body)
        resp.data = b""


class ChatPageResource:
    def __init__(self, service: WebchatService):
        self.service = service
        self.template = _static("chat.html").decode("utf-8")

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        language = req.get_param("lang") or "en"
        if not LANGUAGE.match(language):
            raise falcon.HTTPBadRequest(title="bad_language", description="lang must be a language tag such as en or ar")
        direction = "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"
        title = html.escape(self.service.config.title)
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = ["no-cache"]
        resp.set_header("Content-Security-Policy", PAGE_CSP)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.text = (
            self.template.replace("{{lang}}", html.escape(language))
            .replace("{{dir}}", direction)
            .replace("{{title}}", title)
        )
