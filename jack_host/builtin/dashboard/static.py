"""``/static/dashboard/{name}``: the dashboard's own stylesheet, script and sounds."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import falcon

STATIC = Path(__file__).parent / "static"


class StaticResource:
    def __init__(self, folder: Path = STATIC):
        self.files = {path.name: path for path in folder.iterdir() if path.is_file()}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        path = self.files.get(name)
        if path is None:
            raise falcon.HTTPNotFound(title="not_found", description=f"no dashboard file named {name!r}")
        resp.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        resp.cache_control = ["no-cache"]
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.data = path.read_bytes()
